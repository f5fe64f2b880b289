"""Fixtures that run the emulator over TLS (owned by the emulator area)."""
