"""The documented ingress API (SPEC §3): POST /events, GET /e, POST|GET /bind, POST /clicks."""
