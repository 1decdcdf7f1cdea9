"""The outbox: focal points (contacts), message templates, and the delivery activity.

A reminder event and its outbox row are written in one transaction
(:meth:`eventstore.store.EventStore.append` with ``outbox``); the state-report workflow
then runs :meth:`OutboxActivities.deliver_outbox` with the row's key. Delivery:

- over SMTP with ``aiosmtplib`` when ``TREATYFLOW_SMTP_HOST`` is set (port, user,
  password, sender and STARTTLS from ``TREATYFLOW_SMTP_PORT`` / ``_USERNAME`` /
  ``_PASSWORD`` / ``_FROM`` / ``_STARTTLS``);
- otherwise as a ``.eml`` file in ``$TREATYFLOW_HOME/outbox/`` (works offline).

Idempotency: the row is locked (``SELECT ... FOR UPDATE``) while it is sent and marked
delivered in the same transaction, so a retried or concurrent delivery of the same key
sends nothing more; the message's ``Message-ID`` is derived from the key, so a receiving
server can also discard a copy. A failed attempt is counted (``attempts``,
``last_error``) and the activity fails, to be retried by Temporal with backoff.

Templates: ``reminder_friendly.txt`` and ``reminder_overdue.txt`` ship in
``activities/templates/``; a file of the same name in ``$TREATYFLOW_HOME/templates/``
takes precedence, so staff can edit the wording. The first line is ``Subject: ...``, then
a blank line, then the body; ``$name`` placeholders are filled from the row's params.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import asyncpg
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from eventstore.store import EventStore

DEFAULT_SENDER = "treatyflow@localhost"
#: One label of a host name (RFC 1035 / 1123: letters, digits, inner hyphens, 1-63).
_LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


# --- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where to send mail: ``host``:``port`` (default 587 with STARTTLS, 25 without),
    optional login, ``sender`` (From:), ``starttls``."""

    host: str
    port: int
    username: str | None
    password: str | None
    sender: str
    starttls: bool


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings of :mod:`settings` (``TREATYFLOW_SMTP_*``), None when no host is
    set (messages become ``.eml`` files).

    Raises :class:`settings.SettingsError` for a port or STARTTLS flag that cannot be used.
    """
    import settings as settings_mod

    loaded = settings_mod.load()
    if not loaded.smtp_host:
        return None
    password = loaded.smtp_password
    return SmtpSettings(
        host=loaded.smtp_host,
        port=loaded.smtp_port,
        username=loaded.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        sender=loaded.smtp_from or DEFAULT_SENDER,
        starttls=loaded.smtp_starttls,
    )


# --- contacts (focal points) -------------------------------------------------------------


class Contact(BaseModel):
    """A focal point of a State for a treaty."""

    treaty: str
    state: str
    email: str
    name: str | None = None
    role: str = "reporting"


class ContactError(ValueError):
    """A contact command that cannot be done (the message says why)."""


def check_email(email: str) -> str:
    """``email`` stripped, or :class:`ContactError` if it is not an address.

    The address must parse as an RFC 5322 addr-spec (``email.headerregistry.Address``:
    one ``@``, no display name, no spaces) and its domain must be a host name: labels of
    letters, digits and inner hyphens (RFC 1123; an internationalised name counts by its
    IDNA form), at least two of them, the last not all digits (``localhost`` is accepted
    for tests). So ``a@-.-``, ``a@b`` and ``a@1.2.3.4`` are refused."""
    from email.errors import HeaderParseError
    from email.headerregistry import Address

    email = email.strip()
    refused = ContactError(
        f"{email!r} is not an e-mail address: expected name@domain with a host name as the "
        "domain, e.g. article7@mfa.example.org"
    )
    if email.count("@") != 1 or any(c.isspace() or c in '<>,;"()' for c in email):
        raise refused
    try:
        address = Address(addr_spec=email)
    except (ValueError, IndexError, HeaderParseError):
        raise refused from None
    if not address.username or address.addr_spec != email:
        raise refused
    domain = address.domain
    if domain.lower() == "localhost":
        return email
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise refused from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise refused
    if labels[-1].isdigit():
        raise refused
    return email


def email_key(email: str) -> str:
    """The identity of an address: the whole address lowercased (two spellings that
    differ only in case are one focal point; the spelling given first is kept)."""
    return email.strip().lower()


async def add_contact(store: EventStore, contact: Contact) -> bool:
    """Add ``contact``; False if that address (compared case-insensitively,
    :func:`email_key`) was already a focal point of the State: the stored one is kept.
    See :func:`put_contact`."""
    added, _ = await put_contact(store, contact)
    return added


async def put_contact(store: EventStore, contact: Contact) -> tuple[bool, Contact]:
    """Add ``contact`` unless its address is already a focal point of the State, and
    return ``(added, stored)``: ``stored`` is the row as stored (the first spelling, name
    and role when it was there already).

    The database decides (unique index ``contacts_identity`` on
    ``(treaty, state, lower(email))``, migration 005): the INSERT does nothing on a
    conflict with that index, so concurrent adds of one address in any case store exactly
    one row.

    Raises:
        ContactError: ``contact.email`` is not an address (:func:`check_email`), or the
            stored row was removed between the insert and the read (try again).
    """
    email = check_email(contact.email)
    row = await store.pool.fetchrow(
        "INSERT INTO contacts (treaty, state, email, name, role)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (treaty, state, lower(email)) DO NOTHING"
        " RETURNING treaty, state, email, name, role",
        contact.treaty,
        contact.state,
        email,
        contact.name,
        contact.role,
    )
    if row is not None:
        return True, Contact(**dict(row))
    stored = await find_contact(store, contact.treaty, contact.state, email)
    if stored is None:
        raise ContactError(
            f"{email!r} was a focal point of {contact.state} for the {contact.treaty} and was"
            " removed meanwhile; add it again"
        )
    return False, stored


async def find_contact(store: EventStore, treaty: str, state: str, email: str) -> Contact | None:
    """The stored focal point of ``state`` with ``email`` (compared case-insensitively),
    as it was stored, or None (one at most: unique index ``contacts_identity``)."""
    row = await store.pool.fetchrow(
        "SELECT treaty, state, email, name, role FROM contacts WHERE treaty = $1"
        " AND state = $2 AND lower(email) = lower($3)",
        treaty,
        state,
        email.strip(),
    )
    return Contact(**dict(row)) if row else None


async def list_contacts(store: EventStore, treaty: str, state: str | None = None) -> list[Contact]:
    """The focal points of ``treaty`` (of one ``state`` if given), by State and address."""
    rows = await store.pool.fetch(
        "SELECT treaty, state, email, name, role FROM contacts WHERE treaty = $1"
        " AND ($2::text IS NULL OR state = $2) ORDER BY state, email",
        treaty,
        state,
    )
    return [Contact(**dict(r)) for r in rows]


async def remove_contact(store: EventStore, treaty: str, state: str, email: str) -> None:
    """Remove a focal point; :class:`ContactError` naming the known ones if there is none
    with that address (nothing is changed)."""
    result = await store.pool.execute(
        "DELETE FROM contacts WHERE treaty = $1 AND state = $2 AND lower(email) = lower($3)",
        treaty,
        state,
        email.strip(),
    )
    if result.endswith(" 0"):
        known = [c.email for c in await list_contacts(store, treaty, state)]
        raise ContactError(
            f"{email.strip()!r} is not a focal point of {state} for the {treaty}: known "
            + (", ".join(known) if known else "none")
        )


# --- templates -----------------------------------------------------------------------------


def template_text(name: str, home: Path | None) -> str:
    """The text of template ``name`` (``reminder_overdue``): ``$TREATYFLOW_HOME/templates/
    NAME.txt`` if staff put one there, else the one shipped with the package.

    Raises :class:`FileNotFoundError` naming both places when neither exists.
    """
    if home is not None:
        custom = home / "templates" / f"{name}.txt"
        if custom.is_file():
            return custom.read_text(encoding="utf-8")
    shipped = resources.files("activities").joinpath("templates", f"{name}.txt")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    raise FileNotFoundError(
        f"no message template {name!r}: looked for {name}.txt in "
        f"{home / 'templates' if home else '(no data folder)'} and in the package"
    )


def render(name: str, params: dict[str, Any], home: Path | None) -> tuple[str, str]:
    """``(subject, body)`` of template ``name`` filled with ``params`` (``$key``; an unknown
    placeholder is left as written)."""
    text = Template(template_text(name, home)).safe_substitute(
        {k: str(v) for k, v in params.items()}
    )
    head, _, body = text.partition("\n\n")
    subject = head.removeprefix("Subject:").strip() if head.startswith("Subject:") else name
    return subject, body.strip() + "\n"


def build_message(
    key: str,
    name: str,
    params: dict[str, Any],
    recipients: list[str],
    sender: str,
    home: Path | None,
) -> EmailMessage:
    """The e-mail for outbox row ``key``: From, To, Subject, Date, a ``Message-ID`` derived
    from the key, the ``X-Treatyflow-Key`` header, and the rendered body."""
    subject, body = render(name, params, home)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<{key}@treatyflow>"
    msg["X-Treatyflow-Key"] = key
    msg.set_content(body)
    return msg


# --- delivery --------------------------------------------------------------------------------


class DeliveryResult(BaseModel):
    """What the delivery did: ``status`` ``sent`` (SMTP), ``written`` (.eml),
    ``already_delivered`` (an earlier attempt did it) or ``no_contact`` (no focal point:
    kept pending); ``recipients``; ``path`` of the .eml file."""

    key: str
    status: str
    recipients: list[str] = []
    path: str | None = None


async def _send_smtp(msg: EmailMessage, smtp: SmtpSettings) -> None:
    import aiosmtplib

    await aiosmtplib.send(
        msg,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        start_tls=smtp.starttls,
        timeout=20,
    )


def _write_eml(msg: EmailMessage, folder: Path, key: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.eml"
    tmp = folder / f".{key}.eml.tmp"
    tmp.write_bytes(bytes(msg))
    tmp.replace(path)
    return path


def _with_names(row: Any) -> dict[str, Any]:
    """The row's params with ``state_name`` (ISO 3166 name) and ``treaty_name`` added."""
    from domain.errors import DomainError
    from domain.states import resolve_state
    from domain.treaties import get_profile

    params = dict(row["params"])
    try:
        params.setdefault("state_name", resolve_state(row["state"]).name)
    except DomainError:
        params.setdefault("state_name", row["state"])
    try:
        params.setdefault("treaty_name", get_profile(row["treaty"]).name)
    except DomainError:
        params.setdefault("treaty_name", row["treaty"])
    return params


class OutboxActivities:
    """Delivery bound to one event store, a data folder (templates, ``.eml`` files) and
    the SMTP settings (None: ``.eml`` files)."""

    def __init__(self, store: EventStore, home: Path | None, smtp: SmtpSettings | None) -> None:
        self._store = store
        self._home = home
        self._smtp = smtp

    async def deliver(self, key: str) -> DeliveryResult:
        """Deliver outbox row ``key`` once (see the module docstring).

        Raises :class:`ApplicationError`: no such row (non-retryable); the SMTP server
        failed or cannot be reached (retryable: the attempt is counted first).
        """
        pool = self._store.pool
        error: str | None = None
        async with pool.acquire() as conn:
            async with conn.transaction():
                row = await conn.fetchrow("SELECT * FROM outbox WHERE key = $1 FOR UPDATE", key)
                if row is None:
                    raise ApplicationError(
                        f"no outbox message {key!r}", type="UnknownMessage", non_retryable=True
                    )
                if row["delivered_at"] is not None:
                    return DeliveryResult(
                        key=key,
                        status="already_delivered",
                        recipients=list(row["recipients"] or []),
                    )
                recipients = [
                    r["email"]
                    for r in await conn.fetch(
                        "SELECT email FROM contacts WHERE treaty = $1 AND state = $2"
                        " ORDER BY email",
                        row["treaty"],
                        row["state"],
                    )
                ]
                if not recipients:
                    await self._failed(conn, key, f"no focal point for {row['state']}")
                    return DeliveryResult(key=key, status="no_contact")
                sender = self._smtp.sender if self._smtp else DEFAULT_SENDER
                msg = build_message(
                    key, row["template"], _with_names(row), recipients, sender, self._home
                )
                path: Path | None = None
                try:
                    if self._smtp is not None:
                        await _send_smtp(msg, self._smtp)
                        via = "smtp"
                    else:
                        folder = (self._home or Path.cwd()) / "outbox"
                        path = _write_eml(msg, folder, key)
                        via = "eml"
                except Exception as err:  # noqa: BLE001 - counted, then retried by Temporal
                    error = f"{type(err).__name__}: {err}"
                    await self._failed(conn, key, error)
                else:
                    await conn.execute(
                        "UPDATE outbox SET delivered_at = now(), delivered_via = $2,"
                        " recipients = $3, message_id = $4, attempts = attempts + 1,"
                        " last_error = NULL WHERE key = $1",
                        key,
                        via,
                        recipients,
                        msg["Message-ID"],
                    )
                    return DeliveryResult(
                        key=key,
                        status="sent" if via == "smtp" else "written",
                        recipients=recipients,
                        path=str(path) if path else None,
                    )
        raise ApplicationError(f"delivery of {key} failed: {error}", type="DeliveryFailed")

    @staticmethod
    async def _failed(conn: asyncpg.Connection, key: str, error: str) -> None:
        await conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE key = $1", key, error
        )

    @activity.defn(name="deliver_outbox")
    async def deliver_outbox(self, key: str) -> DeliveryResult:
        """Temporal activity: :meth:`deliver`."""
        result = await self.deliver(key)
        activity.logger.info("outbox %s: %s %s", key, result.status, result.recipients)
        return result


class OutboxRow(BaseModel):
    """An outbox row as listed by ``treaty reporting outbox``."""

    key: str
    stream_id: str
    state: str
    template: str
    created_at: str
    attempts: int
    last_error: str | None
    delivered_at: str | None
    delivered_via: str | None
    recipients: list[str] | None
    planned_on: date | None = None


async def list_outbox(store: EventStore, stream_prefix: str | None = None) -> list[OutboxRow]:
    """Outbox rows (of streams starting with ``stream_prefix``), oldest first."""
    rows = await store.pool.fetch(
        "SELECT * FROM outbox WHERE $1::text IS NULL OR starts_with(stream_id, $1::text)"
        " ORDER BY created_at, key",
        stream_prefix,
    )
    return [
        OutboxRow(
            key=r["key"],
            stream_id=r["stream_id"],
            state=r["state"],
            template=r["template"],
            created_at=r["created_at"].isoformat(),
            attempts=r["attempts"],
            last_error=r["last_error"],
            delivered_at=r["delivered_at"].isoformat() if r["delivered_at"] else None,
            delivered_via=r["delivered_via"],
            recipients=list(r["recipients"]) if r["recipients"] else None,
            planned_on=r["params"].get("planned_on"),
        )
        for r in rows
    ]
