"""Persistence: the one SQLite connection, migrations and one repository per aggregate.

All SQL in Rollcall lives in this package.
"""
