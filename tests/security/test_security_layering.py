"""`security` sits below storage: it imports no storage, service or UI code (nor SQLAlchemy)."""

from __future__ import annotations

import ast
from pathlib import Path

import licensewatch

SOURCE = Path(licensewatch.__file__).parent
ALLOWED = ("licensewatch.security", "licensewatch.settings", "licensewatch.domain")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_security_imports_nothing_above_it() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in (SOURCE / "security").glob("*.py")
        for name in _imports(path)
        if (name.startswith("licensewatch.") and not name.startswith(ALLOWED))
        or name.startswith("sqlalchemy")
    }
    assert offending == set()


def test_only_the_registry_opens_the_keyring_for_a_database() -> None:
    # `load_keyring` alone would create a new key when the key file is missing; code that has a
    # database goes through `storage.encrypted.keyring_for`, which refuses while values exist.
    callers = {
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "load_keyring"
    }
    assert callers == {
        "storage/encrypted.py",
        "storage/migrations/versions/0007_encrypted_webhook_urls.py",
    }
