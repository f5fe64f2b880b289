"""Allows `python -m licensewatch`."""

from licensewatch.cli import main

main()
