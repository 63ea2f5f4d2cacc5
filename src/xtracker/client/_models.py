"""What the client returns: small frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventStatus = Literal["queued", "duplicate"]


@dataclass(frozen=True, slots=True)
class EventResult:
    """The server's answer to one event.

    ``status`` is ``"queued"`` for a new event and ``"duplicate"`` when the server already had
    one with the same dedup key (a retry, or a re-fired postback); a duplicate changes nothing.
    A first send can answer ``"duplicate"`` too: when the server stored the event but its
    answer was lost, the client's internal retry finds it. Either way it is recorded once.
    ``inbox_id`` identifies the stored event. ``warnings`` lists what the server ignored, e.g.
    a ``value`` sent on an event other than ``deposit``.
    """

    status: EventStatus
    inbox_id: str
    warnings: tuple[str, ...] = ()

    @property
    def duplicate(self) -> bool:
        """True when the server already had this event."""
        return self.status == "duplicate"


@dataclass(frozen=True, slots=True)
class BindResult:
    """The server's answer to a bind: ``matched`` is true when a click with that uid exists."""

    matched: bool
