"""Tests of geodata.db."""
