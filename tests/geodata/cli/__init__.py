"""Tests of geodata.cli."""
