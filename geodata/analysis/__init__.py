"""Analyses over the town: pure functions on data or SQL pushed into PostGIS."""
