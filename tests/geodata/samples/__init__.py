"""Tests of geodata.samples."""
