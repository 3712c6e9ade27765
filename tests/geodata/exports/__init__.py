"""Tests of geodata.exports."""
