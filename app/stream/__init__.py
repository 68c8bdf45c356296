"""Live updates: ingest change notices (LISTEN) fanned out to Server-Sent Events clients."""
