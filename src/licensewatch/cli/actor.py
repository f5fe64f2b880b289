"""Who acts on the command line, as the audit log and change plans name them."""

from __future__ import annotations

import getpass

from licensewatch.services.plans import Actor


def cli_actor() -> Actor:
    """`cli:<operating system user>`: the CLI has no sign-in, the machine account is the who."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return Actor(f"cli:{user}", "local")
