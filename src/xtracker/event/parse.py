"""Turn one incoming event (JSON object or query parameters) into a checked ``EventIn``.

Hand-written rather than a pydantic model because this runs on the hottest path and must
name the offending field in the documented error shape; ``schemas.py`` describes the same
fields for the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xtracker.errors import UnknownEvent, ValidationFailed
from xtracker.event.canonical import CANONICAL_EVENTS, MONEY_EVENTS
from xtracker.kit.ids import is_valid_uid_text
from xtracker.kit.money import InvalidMoney, normalize_currency, parse_amount

MIN_OCCURRED_AT_MS = 946_684_800_000  # 2000-01-01: anything earlier is seconds sent as ms
MAX_FUTURE_MS = 24 * 3600 * 1000
MAX_TG_ID = 2**53


@dataclass(slots=True)
class EventIn:
    event: str
    uid: str | None
    tg_id: int | None
    value_cents: int | None
    currency: str
    eid: str | None
    occurred_at_ms: int
    source: str = "api"
    warnings: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        """What the dedup key is keyed on: the uid, else the tg_id (kept after back-fill)."""
        return self.uid if self.uid is not None else f"tg:{self.tg_id}"

    @property
    def discriminator(self) -> str:
        return self.eid if self.eid is not None else str(self.occurred_at_ms)


def _text(raw: Any, name: str, max_len: int) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValidationFailed(f"{name} must be a string", field=name)
    text = str(raw).strip()
    if len(text) > max_len:
        raise ValidationFailed(f"{name} is longer than {max_len} characters", field=name)
    return text or None


def _int(raw: Any, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValidationFailed(f"{name} must be an integer", field=name)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise ValidationFailed(f"{name} must be an integer", field=name)


def parse_event(
    data: Any,
    *,
    now_ms: int,
    default_currency: str = "USD",
    source: str = "api",
    time_field: str = "occurred_at_ms",
) -> EventIn:
    if not isinstance(data, dict):
        raise ValidationFailed("each event must be a JSON object")
    name = data.get("event")
    if name is None or name == "":
        raise ValidationFailed("event is required", field="event")
    if name not in CANONICAL_EVENTS:
        raise UnknownEvent(
            f"unknown event {str(name)[:64]!r}: must be one of " + ", ".join(CANONICAL_EVENTS),
            field="event",
        )
    uid = _text(data.get("uid"), "uid", 64)
    if uid is not None and not is_valid_uid_text(uid):
        raise ValidationFailed("uid may contain only letters, digits and - _ . ~", field="uid")
    tg_id = _int(data.get("tg_id"), "tg_id")
    if tg_id is not None and not 0 < tg_id < MAX_TG_ID:
        raise ValidationFailed("tg_id must be a positive Telegram user id", field="tg_id")
    if uid is None and tg_id is None:
        raise ValidationFailed("uid is required (or tg_id for a bound Telegram user)", field="uid")
    eid = _text(data.get("eid"), "eid", 255)
    occurred = _int(data.get(time_field), time_field)
    if occurred is None:
        occurred = now_ms
    elif occurred < MIN_OCCURRED_AT_MS or occurred > now_ms + MAX_FUTURE_MS:
        raise ValidationFailed(
            f"{time_field} must be epoch milliseconds, not in the future", field=time_field
        )
    warnings: list[str] = []
    raw_value = data.get("value")
    value_cents: int | None = None
    try:
        currency = normalize_currency(data.get("currency"), default_currency)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="currency") from None
    if raw_value is not None and raw_value != "":
        if name in MONEY_EVENTS:
            try:
                value_cents = int(parse_amount(raw_value) * 100)
            except InvalidMoney as exc:
                raise ValidationFailed(str(exc), field="value") from None
        else:
            warnings.append(f"value is ignored for {name}: only deposit carries money")
    return EventIn(name, uid, tg_id, value_cents, currency, eid, occurred, source, warnings)
