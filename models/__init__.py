"""What every stage of the data path shares: event contracts, tables, settings, catalogue."""
