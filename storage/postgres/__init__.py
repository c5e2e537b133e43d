"""The PostgreSQL backend: the only code in Rollcall that talks to `asyncpg`."""

from storage.postgres.backend import PostgresDatabase, is_postgres_url, redact_url

__all__ = ["PostgresDatabase", "is_postgres_url", "redact_url"]
