"""The rules: defaults (on for every space), and what each one finds right now.

A condition returns the objects it holds for at ``now_ms``; the service turns those into
pending → firing → resolved episodes. Link counts come from the report rollups (exact
15-minute buckets, bots excluded), so a window is measured in whole buckets: "60 min" is the
current bucket and the four before it at most.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.alert.repository import alert_repository
from xtracker.domain.service import domain_service
from xtracker.link.service import link_service
from xtracker.report import service as report_service
from xtracker.report.ranges import align
from xtracker.report.schemas import AttributionRow, ReportFilter

MIN_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
COMMON = {"for_evaluations": 2, "reminder_hours": 4}
STEPS = (
    ("click", "contact"),
    ("contact", "subscribed"),
    ("subscribed", "registration"),
    ("registration", "deposit"),
)


@dataclass(frozen=True)
class Finding:
    object_kind: str
    object_id: str
    object_name: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Condition = Callable[[AsyncSession, str, dict[str, Any], int], Awaitable[list[Finding]]]


@dataclass(frozen=True)
class RuleSpec:
    kind: str
    title: str
    description: str
    object_kind: str
    defaults: dict[str, int | float | bool]
    condition: Condition


async def _links(
    session: AsyncSession, space_id: str, start_ms: int, end_ms: int
) -> dict[str, AttributionRow]:
    start_ms, end_ms = align(start_ms, end_ms)  # whole 15-minute buckets, as reports read them
    f = ReportFilter(space_id=space_id, start_ms=start_ms, end_ms=end_ms)
    rows = (await report_service.attribution(session, f, group_by="link")).rows
    return {r.link_id: r for r in rows if r.link_id}


async def _active_links(session: AsyncSession, space_id: str) -> dict[str, str]:
    return {
        link.id: link.slug for link in await link_service.list(session, space_id) if link.active
    }


def _count(row: AttributionRow | None, step: str) -> int:
    if row is None:
        return 0
    return int(row.clicks if step == "click" else getattr(row, step))


async def dead_link(
    session: AsyncSession, space_id: str, p: dict[str, Any], now_ms: int
) -> list[Finding]:
    window = int(p["window_minutes"] * MIN_MS)
    days = int(p["baseline_days"])
    links = await _active_links(session, space_id)
    now = await _links(session, space_id, now_ms - window, now_ms)
    totals: dict[str, int] = {}
    for day in range(1, days + 1):
        end = now_ms - day * DAY_MS
        for link_id, row in (await _links(session, space_id, end - window, end)).items():
            totals[link_id] = totals.get(link_id, 0) + row.clicks
    found = []
    for link_id, total in totals.items():
        usual = total / days
        if (
            link_id in links
            and usual >= p["min_usual_clicks"]
            and _count(now.get(link_id), "click") == 0
        ):
            found.append(Finding(
                "link", link_id, links[link_id],
                f"no clicks in {p['window_minutes']:g} min; this hour usually brings "
                f"{usual:.0f} (average of the last {days} days)",
                {"clicks": 0, "usual_clicks": round(usual, 1)},
            ))  # fmt: skip
    return found


def _no_step(numerator: str, denominator: str, minimum: str) -> Condition:
    async def condition(
        session: AsyncSession, space_id: str, p: dict[str, Any], now_ms: int
    ) -> list[Finding]:
        hours = p["window_hours"]
        links = await _active_links(session, space_id)
        rows = await _links(session, space_id, now_ms - int(hours * HOUR_MS), now_ms)
        found = []
        for link_id, row in rows.items():
            base, got = _count(row, denominator), _count(row, numerator)
            if link_id in links and base >= p[minimum] and got == 0:
                label = "clicks" if denominator == "click" else denominator
                found.append(Finding(
                    "link", link_id, links[link_id],
                    f"{base} {label} and no {numerator} in {hours:g} h",
                    {denominator: base, numerator: 0, "window_hours": hours},
                ))  # fmt: skip
        return found

    return condition


async def conversion_drop(
    session: AsyncSession, space_id: str, p: dict[str, Any], now_ms: int
) -> list[Finding]:
    window = int(p["window_hours"] * HOUR_MS)
    days = int(p["baseline_days"])
    links = await _active_links(session, space_id)
    now = await _links(session, space_id, now_ms - window, now_ms)
    before = await _links(session, space_id, now_ms - window - days * DAY_MS, now_ms - window)
    found = []
    for link_id, row in now.items():
        if link_id not in links:
            continue
        drops: list[dict[str, Any]] = []
        for denominator, numerator in STEPS:
            cur_d, base_d = _count(row, denominator), _count(before.get(link_id), denominator)
            if cur_d < p["min_denominator"] or base_d < p["min_denominator"]:
                continue
            rate = _count(row, numerator) / cur_d
            usual = _count(before.get(link_id), numerator) / base_d
            if usual > 0 and rate < p["ratio"] * usual:
                drops.append({"step": f"{denominator}→{numerator}", "rate": round(rate, 4),
                              "usual_rate": round(usual, 4)})  # fmt: skip
        if drops:
            worst = min(drops, key=lambda d: d["rate"] / d["usual_rate"])
            found.append(Finding(
                "link", link_id, links[link_id],
                f"{worst['step']} converts at {worst['rate']:.1%} in {p['window_hours']:g} h,"
                f" against {worst['usual_rate']:.1%} over the {days} days before",
                {"steps": drops},
            ))  # fmt: skip
    return found


async def destination_failing(
    session: AsyncSession, space_id: str, p: dict[str, Any], now_ms: int
) -> list[Finding]:
    n = int(p["consecutive_failures"])
    stats = await alert_repository.delivery_stats(
        session, space_id, now_ms - int(p["window_minutes"] * MIN_MS), now_ms, n
    )
    found = []
    for s in stats.values():
        reasons = []
        if s.attempts >= p["min_attempts"] and s.failed / s.attempts >= p["failure_rate"]:
            reasons.append(f"{s.failed} of {s.attempts} attempts failed in "
                           f"{p['window_minutes']:g} min")  # fmt: skip
        streak = max(s.consecutive_failures, _streak(s.recent_outcomes))
        if n > 0 and streak >= n:
            reasons.append(f"{streak} failures in a row")
        if p["circuit_open"] and s.circuit == "open":
            reasons.append("circuit open: deliveries are paused")
        if reasons:
            found.append(Finding(
                "destination", s.destination_id, s.name, "; ".join(reasons),
                {"attempts": s.attempts, "failed": s.failed, "consecutive_failures": streak,
                 "circuit": s.circuit},
            ))  # fmt: skip
    return found


def _streak(outcomes: tuple[bool, ...]) -> int:
    count = 0
    for ok in outcomes:
        if ok:
            break
        count += 1
    return count


async def destination_silent(
    session: AsyncSession, space_id: str, p: dict[str, Any], now_ms: int
) -> list[Finding]:
    quiet = int(p["silent_minutes"] * MIN_MS)
    stats = await alert_repository.delivery_stats(session, space_id, now_ms - quiet, now_ms, 0)
    found = []
    for s in stats.values():
        waiting = s.oldest_queued_ms is not None and s.oldest_queued_ms <= now_ms - quiet
        recent_ok = s.last_success_ms is not None and s.last_success_ms > now_ms - quiet
        if s.queued and waiting and not recent_ok:
            found.append(Finding(
                "destination", s.destination_id, s.name,
                f"{s.queued} events queued and no successful delivery for "
                f"{p['silent_minutes']:g} min",
                {"queued": s.queued, "oldest_queued_at_ms": s.oldest_queued_ms,
                 "last_success_at_ms": s.last_success_ms},
            ))  # fmt: skip
    return found


async def domain_broken(
    session: AsyncSession, space_id: str, p: dict[str, Any], now_ms: int
) -> list[Finding]:
    found = []
    for d in await domain_service.broken(session, space_id):
        state = "disabled (404)" if d.state == "disabled" else "failing, still serving"
        found.append(Finding(
            "domain", d.id, d.hostname, f"DNS check fails: {d.last_error}; {state}",
            {"state": d.state, "failing_since_ms": d.failing_since_ms, "error": d.last_error},
        ))  # fmt: skip
    return found


RULES: dict[str, RuleSpec] = {
    spec.kind: spec
    for spec in (
        RuleSpec("dead_link", "Dead link",
                 "0 clicks in the window where the same hour averaged at least min_usual_clicks "
                 "over the last baseline_days days", "link",
                 {"window_minutes": 60, "min_usual_clicks": 20, "baseline_days": 7}, dead_link),
        RuleSpec("funnel_no_contact", "Broken funnel: clicks without contacts",
                 "at least min_clicks clicks and no contact in window_hours", "link",
                 {"window_hours": 2, "min_clicks": 200},
                 _no_step("contact", "click", "min_clicks")),
        RuleSpec("funnel_no_registration", "Broken funnel: subscribers without registrations",
                 "at least min_subscribed subscribed and no registration in window_hours", "link",
                 {"window_hours": 24, "min_subscribed": 50},
                 _no_step("registration", "subscribed", "min_subscribed")),
        RuleSpec("funnel_no_deposit", "Broken funnel: registrations without deposits",
                 "at least min_registrations registrations and no deposit in window_hours", "link",
                 {"window_hours": 72, "min_registrations": 20},
                 _no_step("deposit", "registration", "min_registrations")),
        RuleSpec("conversion_drop", "Conversion drop",
                 "a step rate in window_hours under ratio × its rate over the baseline_days "
                 "before, with at least min_denominator in the step's denominator both times",
                 "link",
                 {"window_hours": 24, "baseline_days": 7, "ratio": 0.3, "min_denominator": 100},
                 conversion_drop),
        RuleSpec("destination_failing", "Destination failing",
                 "failure_rate of at least min_attempts attempts in window_minutes, "
                 "consecutive_failures in a row, or the circuit breaker open", "destination",
                 {"window_minutes": 60, "failure_rate": 0.10, "min_attempts": 10,
                  "consecutive_failures": 5, "circuit_open": True}, destination_failing),
        RuleSpec("destination_silent", "Destination silent",
                 "events queued but no successful delivery for silent_minutes", "destination",
                 {"silent_minutes": 30}, destination_silent),
        RuleSpec("domain_broken", "Custom domain broken",
                 "a verified custom domain fails its DNS check", "domain", {}, domain_broken),
    )
}  # fmt: skip


def defaults(kind: str) -> dict[str, int | float | bool]:
    return {**RULES[kind].defaults, **COMMON}
