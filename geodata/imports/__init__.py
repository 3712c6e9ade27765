"""Imports: files -> staging -> tables, all or nothing, every bad row reported."""
