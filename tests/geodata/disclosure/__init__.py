"""Tests of geodata.disclosure."""
