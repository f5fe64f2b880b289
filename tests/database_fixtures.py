"""Fixtures for SQLite files and throw-away PostgreSQL databases (owned by the storage area)."""
