"""Tests of webapp.plan."""
