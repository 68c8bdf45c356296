"""Alerts: rules as data evaluated against indicator values; open → acknowledged → resolved."""
