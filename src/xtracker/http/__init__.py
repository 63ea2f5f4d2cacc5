"""Raw ASGI helpers for the hot path (reading scope, bodies, writing answers)."""
