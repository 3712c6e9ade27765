"""Sample data: the town from the bundled OpenStreetMap extract, synthetic towns and people."""
