"""uid ↔ Telegram user id bindings (compare-and-set) and the back-fill they trigger."""
