"""``treaty audit replay`` and ``treaty audit archive`` (see :mod:`audit.replay`)."""

from __future__ import annotations

from cli.audit import audit_app  # noqa: F401
