"""Tests of geodata.imports."""
