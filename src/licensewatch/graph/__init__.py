"""Microsoft Graph access: connection, MSAL tokens, retrying client, paging, diagnostics.

Import from the modules (`graph.clouds`, `graph.client`...): this package imports nothing, so
reading `graph.clouds` (a tenant's cloud, `tenant list`) does not load MSAL and httpx.
"""
