"""Tests of webapp.map."""
