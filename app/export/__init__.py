"""Open data: any indicator series as CSV or JSON, with its catalogue entry as metadata."""
