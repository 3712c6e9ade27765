"""Tests of geodata.auth."""
