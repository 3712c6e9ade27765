"""Patrol zones and routes: street blocks, contiguous zones balanced by hours, postman routes."""
