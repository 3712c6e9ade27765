"""Tests of geodata.records."""
