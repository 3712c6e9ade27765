"""Tests of webapp.ogc."""
