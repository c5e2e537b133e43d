"""Numbered `.sql` migrations, one folder per SQL dialect (`sqlite/`; PostgreSQL's come with its backend).

Each dialect's files run 1..n without gaps; a backend applies the ones newer than the version it
recorded and never edits one that has shipped.
"""

from __future__ import annotations

from importlib import resources

MIGRATIONS_PACKAGE = "storage.migrations"


def load_migrations(dialect: str) -> list[tuple[int, str, str]]:
    """The numbered `.sql` files of `storage/migrations/<dialect>/`, as (version, name, script) in order."""
    folder = resources.files(MIGRATIONS_PACKAGE).joinpath(dialect)
    if not folder.is_dir():
        raise RuntimeError(f"no migrations for the {dialect!r} dialect")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration numbers must run 1..n without gaps, found {versions}")
    return found
