"""A principal's request: rights, grid scope and audit around analysis and records."""
