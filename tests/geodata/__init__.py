"""Tests of geodata."""
