"""The durable outbox: claiming due dispatches, the retry policy, the circuit breaker, replay."""
