"""Licence intelligence: friendly names, prices and costs, findings, alerts and reports."""
