"""Typed ``data`` payloads, one pydantic model per CloudEvents ``type``."""
