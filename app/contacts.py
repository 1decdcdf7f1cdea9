"""The States' focal points (the reporting cycle e-mails its reminders to them): add, list,
remove. Raises :class:`app.errors.Refused` for an address that is not one, or a contact
the State does not have; nothing is changed then."""

from __future__ import annotations

from activities.outbox import Contact, ContactError, check_email, list_contacts, put_contact
from activities.outbox import remove_contact as _remove
from app.errors import Refused
from eventstore.store import EventStore


def contact(treaty: str, state: str, email: str, name: str | None, role: str) -> Contact:
    """The focal point ``email`` (checked, normalised) of ``state`` (ISO3) under ``treaty``,
    before anything is stored; :class:`Refused` if ``email`` is not an address."""
    try:
        return Contact(treaty=treaty, state=state, email=check_email(email), name=name, role=role)
    except ContactError as err:
        raise Refused(str(err)) from None


async def add(store: EventStore, focal_point: Contact) -> tuple[bool, Contact]:
    """Store ``focal_point`` unless the State has that address already: ``(added, the
    contact as stored)``; :class:`Refused` if the store refuses it."""
    try:
        return await put_contact(store, focal_point)
    except ContactError as err:
        raise Refused(str(err)) from None


async def listed(store: EventStore, treaty: str, state: str | None = None) -> list[Contact]:
    """The focal points under ``treaty`` (of ``state`` only, if given)."""
    return await list_contacts(store, treaty, state)


async def remove(store: EventStore, treaty: str, state: str, email: str) -> None:
    """Remove ``state``'s focal point ``email``; :class:`Refused` if it has no such one."""
    try:
        await _remove(store, treaty, state, email)
    except ContactError as err:
        raise Refused(str(err)) from None
