"""Disclosure control: what may be published about people, and in what form.

Every door that publishes figures about people (exports, OGC items, coverage for roles
without household access, household tiles) goes through this package. docs/PRIVACY.md
gives the rules and their limits.
"""
