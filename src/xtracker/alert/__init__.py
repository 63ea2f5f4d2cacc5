"""Real-time monitoring (SPEC §9): rules per space, Alertmanager-like episodes, notifications."""
