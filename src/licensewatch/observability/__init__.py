"""Metrics and health reporting shared by the daemon, the workers and the web app."""
