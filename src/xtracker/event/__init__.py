"""Canonical events: validation, the exactly-once write path, look-ups."""
