"""The wall: the control room's display (page, scripts, map cells), fed by the API."""
