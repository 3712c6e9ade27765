"""Tests of geodata.services."""
