"""Tests of geodata.maps."""
