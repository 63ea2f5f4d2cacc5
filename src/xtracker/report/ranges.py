"""Date ranges in a space's timezone: today, yesterday, 7d, 30d and custom."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xtracker.errors import ValidationFailed
from xtracker.report.rollup import BUCKET_MS

PRESETS = ("today", "yesterday", "7d", "30d", "custom")
MAX_RANGE_DAYS = 400


def zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown timezone {tz_name!r}", field="timezone") from None


def local_midnight_ms(day: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp() * 1000)


def _parse_bound(value: str | int, tz: ZoneInfo, field: str, *, is_end: bool) -> int:
    """A local date (``2026-11-20``; an end date is inclusive), an ISO datetime (naive =
    the space's timezone) or epoch milliseconds."""
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return int(value)
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return local_midnight_ms(day + timedelta(days=1) if is_end else day, tz)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{field} must be a date (YYYY-MM-DD), an ISO datetime or epoch milliseconds",
            field=field,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp() * 1000)


def align(start_ms: int, end_ms: int) -> tuple[int, int]:
    """Round out to whole rollup buckets."""
    return start_ms - start_ms % BUCKET_MS, end_ms + (-end_ms) % BUCKET_MS


def date_range(
    preset: str,
    tz_name: str,
    now_ms: int,
    start: str | int | None = None,
    end: str | int | None = None,
) -> tuple[int, int]:
    """``[start_ms, end_ms)`` of a preset in the timezone ``tz_name``.

    ``today`` is the current local day; ``7d`` and ``30d`` are the last 7/30 local days,
    today included; ``custom`` needs ``start`` (and takes ``end``, default: end of today).
    """
    tz = zone(tz_name)
    today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(tz).date()
    tomorrow = local_midnight_ms(today + timedelta(days=1), tz)
    if preset == "today":
        return local_midnight_ms(today, tz), tomorrow
    if preset == "yesterday":
        return local_midnight_ms(today - timedelta(days=1), tz), local_midnight_ms(today, tz)
    if preset == "7d":
        return local_midnight_ms(today - timedelta(days=6), tz), tomorrow
    if preset == "30d":
        return local_midnight_ms(today - timedelta(days=29), tz), tomorrow
    if preset != "custom":
        raise ValidationFailed(f"preset must be one of {', '.join(PRESETS)}", field="preset")
    if start is None or start == "":
        raise ValidationFailed("a custom range needs start", field="start")
    start_ms = _parse_bound(start, tz, "start", is_end=False)
    end_ms = tomorrow if end is None or end == "" else _parse_bound(end, tz, "end", is_end=True)
    if end_ms <= start_ms:
        raise ValidationFailed("end must be after start", field="end")
    if end_ms - start_ms > MAX_RANGE_DAYS * 86_400_000:
        raise ValidationFailed(f"a range may span at most {MAX_RANGE_DAYS} days", field="start")
    return align(start_ms, end_ms)
