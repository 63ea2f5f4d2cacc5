"""Custom landing domains via CNAME (SPEC §7): add, verify by DNS, re-check, route by Host."""
