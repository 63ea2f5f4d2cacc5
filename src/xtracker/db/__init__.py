"""Storage: engine and session scope, models, the dialect forks and migrations."""
