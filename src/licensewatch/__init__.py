"""licensewatch: Microsoft 365 licence balance for IT asset management."""

__version__ = "0.1.0.dev0"
