"""The HTTP ingest gateway: ``POST /api/v1/events`` validates CloudEvents and publishes them
to the same topics the simulators and sector systems use (the LGSP path into the IOC)."""
