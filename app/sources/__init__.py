"""Source systems: expected vs received, timeliness and fresh / late / silent status."""
