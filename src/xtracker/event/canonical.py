"""The closed vocabulary of canonical events."""

from __future__ import annotations

CANONICAL_EVENTS: tuple[str, ...] = ("contact", "subscribed", "registration", "deposit")
MONEY_EVENTS = frozenset({"deposit"})
FUNNEL_STEPS: tuple[str, ...] = ("click", *CANONICAL_EVENTS)
