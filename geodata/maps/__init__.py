"""Map layers computed in the core, on the same as-of replay and disclosure rules as the reports."""
