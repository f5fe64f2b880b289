"""The Graph v1.0 subset the emulator serves: users, SKUs, subscriptions, groups, delta, $batch.

The routes are in `routes.graph_routes`; this package imports nothing, so the fault layer can use
`graph.errors` without loading the routes that use the fault layer (no import cycle).
"""
