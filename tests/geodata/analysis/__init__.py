"""Tests of geodata.analysis."""
