"""The wall: one self-contained page for the control room's display, fed by the API."""
