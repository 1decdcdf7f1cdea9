"""Auditors' tools: replay recorded histories, rebuild state as of a date, verify the
record, export it. Generic over the process types of :mod:`domain.processes`."""
