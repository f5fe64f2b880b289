"""Read models of findings and costs: built when a sync publishes its dataset (same
transaction), rebuilt when an input that changes without a sync makes them stale, read by every
page, API endpoint, command and report (docs/intelligence.md, decision 0009)."""
