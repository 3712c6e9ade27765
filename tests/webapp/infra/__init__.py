"""Tests of webapp.infra."""
