"""``treaty audit timeline|state|verify|export`` (see :mod:`audit`)."""

from __future__ import annotations

from cli.audit import audit_app  # noqa: F401
