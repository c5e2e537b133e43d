"""Persistence: the backend interface (`backend.py`), its SQLite implementation (`sqlite/`),
numbered migrations per SQL dialect, the group commit and one repository per aggregate.

All SQL in Rollcall lives in this package; only `sqlite/` knows which driver runs it.
"""
