"""Indicator catalogue and time-bucketed, unit-rolled-up values."""
