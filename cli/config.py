"""``treaty config show``: the effective settings, secrets masked.

Every variable :mod:`settings` reads, its effective value and where it comes from
(``environment`` or ``default``). Masked: ``DATABASE_URL``'s password (``***``),
``TEMPORAL_API_KEY`` and ``TREATYFLOW_SMTP_PASSWORD`` (``***`` when set). The TLS files
are shown by path; their contents (a private key) are never read here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from cli import render
from cli.runtime import JsonOpt, LazyModule

if TYPE_CHECKING:
    import settings as settings_mod
else:  # pydantic-settings is loaded when the command runs, not for help
    settings_mod = LazyModule("settings")

app = typer.Typer(help="The effective configuration (from the environment; secrets masked).")


def effective() -> list[dict[str, Any]]:
    """One row per variable: ``variable``, ``value`` (masked, JSON), ``source``
    (``environment`` | ``default``), in the order of :class:`settings.Settings`.

    Raises :class:`settings.SettingsError` when a variable cannot be used."""
    config = settings_mod.load()
    fields = settings_mod.Settings.model_fields
    explicit = {fields[name].alias or name for name in config.model_fields_set}
    return [
        {
            "variable": variable,
            "value": value,
            "source": "environment" if variable in explicit else "default",
        }
        for variable, value in config.masked().items()
    ]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return str(value)


@app.command()
def show(as_json: JsonOpt = False) -> None:
    """Print every setting's effective value and whether it comes from the environment or
    is the default; passwords and keys masked (the TLS key by path only)."""
    rows = effective()
    if as_json:
        render.print_json(
            {
                "settings": {r["variable"]: r["value"] for r in rows},
                "sources": {r["variable"]: r["source"] for r in rows},
            }
        )
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for col in ("Variable", "Value", "From"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["variable"], _text(r["value"]), r["source"])
    render.out.print(table)
