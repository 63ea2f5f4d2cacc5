"""``xtracker demo``: a space full of realistic traffic, written through the real write paths.

Clicks go through ``click_insert_job``, events through ``ingest_job`` (dedup, outbox
fan-out), Telegram users through ``bind_job`` — the same SQL as live traffic, batched by the
group committer — so every report, rollup and delivery row is what production would hold.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from xtracker.binding.bind import bind_job
from xtracker.click.record import Visit, build_click, click_insert_job
from xtracker.db.dialect import SqliteBackend
from xtracker.db.engine import session_scope
from xtracker.db.models import Space
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import parse_event
from xtracker.kit.ids import new_uid
from xtracker.link.schemas import LinkCreate
from xtracker.link.service import link_service
from xtracker.report.ranges import zone
from xtracker.runtime import Runtime
from xtracker.space.schemas import SpaceCreate
from xtracker.space.service import space_service

from .traffic import DemoLink, Visitor, clicks_in_hour, demo_links, visitor

HOUR = 3_600_000
DEMO_EMAIL = "demo@xtracker.local"
Progress = Callable[[int], None]


@dataclass
class DemoSpace:
    space_id: str
    slug: str
    bearer: str
    ingest_token: str
    links: dict[str, tuple[str, DemoLink]]  # slug → (link id, model)
    user_email: str | None = None
    user_password: str | None = None
    destinations: list[str] = field(default_factory=list)


@dataclass(order=True)
class Action:
    at_ms: int
    order: int
    kind: str = field(compare=False)  # click | bind | event
    data: dict[str, Any] = field(compare=False)


async def create_demo_space(
    rt: Runtime, name: str = "Demo", timezone: str = "Asia/Kolkata"
) -> DemoSpace:
    """The space, its links (bot and web), destinations and a dashboard user."""
    now = rt.clock.now_ms()
    async with session_scope(rt.sessions) as session:
        space, bearer, ingest = await space_service.create(
            session, SpaceCreate(name=name, timezone=timezone, currency="USD"), now
        )
        links: dict[str, tuple[str, DemoLink]] = {}
        for model in demo_links():
            slug = f"{space.slug}-{model.slug}"
            data = LinkCreate(
                slug=slug,
                kind=model.kind,
                name=model.name,
                title=model.name,
                text="Tap the button to continue.",
                button_label="Open",
                bot_username="demo_signals_bot" if model.kind == "bot" else None,
                target_url=None
                if model.kind == "bot"
                else "https://offer.example/?click_id={uid}&sub1={ad_id}",
            )
            link = await link_service.create(session, space.id, data, now)
            links[slug] = (link.id, model)
        demo = DemoSpace(space.id, space.slug, bearer, ingest, links)
        demo.destinations = await _destinations(rt, session, space.id, now)
        demo.user_email, demo.user_password = await _demo_user(session, space, now)
    return demo


async def _destinations(rt: Runtime, session: Any, space_id: str, now: int) -> list[str]:
    try:
        from xtracker.destination.schemas import DestinationCreate
        from xtracker.destination.service import DestinationService
    except ImportError:  # a build without destinations: the deck shows none
        return []

    async def anywhere(*_args: Any, **_kwargs: Any) -> None:
        return None  # the demo's example.com URLs are never resolved at creation

    service = DestinationService(url_check=anywhere)
    made = []
    for data in (
        DestinationCreate(
            kind="webhook", name="CRM webhook", url="https://crm.example.com/hooks/xt"
        ),
        DestinationCreate(
            kind="s2s_postback",
            name="Affiliate network postback",
            url_template="https://aff.example.net/postback?clickid={uid}&goal={event}&sum={value}",
        ),
    ):
        destination, _secret = await service.create(
            session, rt.secrets, space_id, data, now, allow_private=False
        )
        made.append(destination.id)
    return made


async def _demo_user(session: Any, space: Space, now: int) -> tuple[str | None, str | None]:
    try:
        from xtracker.user.service import user_service
    except ImportError:
        return None, None
    password = None
    user = await user_service.find_by_email(session, DEMO_EMAIL)
    if user is None:
        password = secrets.token_urlsafe(12)
        user = await user_service.create(session, DEMO_EMAIL, password, now)
    await user_service.grant(session, user, space, "owner", now)
    return DEMO_EMAIL, password


def _actions(
    rnd: random.Random, v: Visitor, link_id: str, at_ms: int, counter: Any, speed: float = 1.0
) -> list[Action]:
    """The click and everything the visitor does afterwards (delays divided by ``speed``)."""
    uid = new_uid(at_ms)
    out = [Action(at_ms, next(counter), "click", {"uid": uid, "visitor": v, "link_id": link_id})]
    tg_id = rnd.randrange(10**8, 10**10) if v.link.kind == "bot" else None
    deposits = iter(v.deposits)
    for step, delay in zip(v.steps, v.delays_ms, strict=True):
        t = at_ms + max(1, int(delay / speed))
        event: dict[str, Any] = {"event": step, "uid": uid, "occurred_at_ms": t}
        if step == "contact" and tg_id is not None:
            out.append(Action(t, next(counter), "bind", {"uid": uid, "tg_id": tg_id}))
        if step == "subscribed" and tg_id is not None:
            event = {"event": step, "tg_id": tg_id, "occurred_at_ms": t}  # as a bot reports it
        if step == "registration":
            event["eid"] = f"reg-{uid[-10:]}"
        if step == "deposit":
            cents = next(deposits)
            event.update(value=f"{cents // 100}.{cents % 100:02d}", eid=f"tx-{new_uid(t)[-12:]}")
            if rnd.random() < 0.01:  # a network re-fires the postback with another amount
                again = dict(event, value=f"{cents // 100 + 5}.00")
                out.append(Action(t + 7000, next(counter), "event", again))
        out.append(Action(t, next(counter), "event", event))
    return out


def _click_row(rt: Runtime, space_id: str, action: Action) -> dict[str, Any]:
    v: Visitor = action.data["visitor"]
    octets = action.data["uid"][-4:]
    visit = Visit(
        peer_ip=f"100.{ord(octets[0]) % 64 + 64}.{ord(octets[1])}.{ord(octets[2])}",
        user_agent=v.user_agent,
        referrer="https://l.facebook.com/",
        host="go.demo.example",
        raw_query=v.query,
        cookies={},
        proxy_country=v.country,
    )
    return build_click(
        uid=action.data["uid"],
        space_id=space_id,
        link_id=action.data["link_id"],
        ts_ms=action.at_ms,
        visit=visit,
        geo=None,
    )


def _job(rt: Runtime, space_id: str, action: Action) -> Any:
    if action.kind == "click":
        return click_insert_job(_click_row(rt, space_id, action))
    if action.kind == "bind":
        return bind_job(space_id, action.data["uid"], action.data["tg_id"], action.at_ms)
    event = parse_event(action.data, now_ms=action.at_ms, default_currency="USD")
    return ingest_job(space_id, [event], action.at_ms)


async def _run_all(rt: Runtime, space_id: str, actions: list[Action], progress: Progress) -> None:
    """Write actions in time order; each chunk runs concurrently so the committer batches it."""

    async def run(action: Action) -> None:
        await rt.committer.run(_job(rt, space_id, action))

    for at in range(0, len(actions), 2000):
        chunk = actions[at : at + 2000]
        await asyncio.gather(*(run(a) for a in chunk))
        progress(len(chunk))


def plan_history(
    demo: DemoSpace, timezone: str, now_ms: int, days: int, per_day: int, seed: int = 7
) -> list[Action]:
    """Every click, bind and event of the last ``days`` days, in time order."""
    rnd = random.Random(seed)
    tz = zone(timezone)
    models = tuple(m for _id, m in demo.links.values())
    ids = {m.slug: link_id for link_id, m in demo.links.values()}
    counter = itertools.count()
    actions: list[Action] = []
    start = now_ms - days * 86_400_000
    hour = start - start % HOUR
    growth_days = max(days, 1)
    while hour < now_ms:
        local = datetime.fromtimestamp(hour / 1000, UTC).astimezone(tz)
        ramp = 0.7 + 0.5 * (hour - start) / (growth_days * 86_400_000)  # the business grows
        for _ in range(clicks_in_hour(rnd, per_day * ramp, local.hour, local.weekday())):
            at = hour + rnd.randrange(HOUR)
            if at >= now_ms:
                continue
            v = visitor(rnd, models)
            for action in _actions(rnd, v, ids[v.link.slug], at, counter):
                if action.at_ms < now_ms:
                    actions.append(action)
        hour += HOUR
    actions.sort()
    return actions


async def fill_history(
    rt: Runtime,
    demo: DemoSpace,
    *,
    days: int,
    per_day: int,
    progress: Progress,
    seed: int = 7,
    now_ms: int | None = None,
) -> dict[str, int]:
    async with session_scope(rt.sessions) as session:
        space = await space_service.get(session, demo.slug)
        timezone = space.timezone
    now = rt.clock.now_ms() if now_ms is None else now_ms
    actions = plan_history(demo, timezone, now, days, per_day, seed)
    bulk: AbstractAsyncContextManager[None] = (
        rt.backend.bulk_load() if isinstance(rt.backend, SqliteBackend) else nullcontext()
    )
    async with bulk:  # on SQLite: one sync at the end, not one per batch
        await _run_all(rt, demo.space_id, actions, progress)
    await settle_deliveries(rt, demo.space_id, now)
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.kind] = counts.get(a.kind, 0) + 1
    return counts


async def settle_deliveries(rt: Runtime, space_id: str, now_ms: int) -> None:
    """Past dispatches as a running worker would have left them: almost all sent, a few
    refused by the network for good, the last minutes' ones still retrying."""
    recent = now_ms - 15 * 60_000
    async with rt.backend.transaction() as tx:
        await tx.execute(
            "UPDATE event_outbox SET status = 'sent', attempts = 1, last_status_code = 200,"
            " sent_at_ms = created_at_ms + 350, updated_at_ms = created_at_ms + 350,"
            " next_attempt_at_ms = created_at_ms WHERE space_id = ? AND status = 'pending'"
            " AND created_at_ms < ?",
            (space_id, recent),
        )
        await tx.execute(
            "UPDATE event_outbox SET status = 'failed_permanently', sent_at_ms = NULL,"
            " attempts = 1, last_status_code = 400,"
            " last_error = 'HTTP 400: unknown clickid (the network never saw this click)'"
            " WHERE space_id = ? AND status = 'sent' AND event_name = 'deposit'"
            " AND SUBSTR(id, 26, 1) IN ('0', '1')",
            (space_id,),
        )
        await tx.execute(
            "UPDATE event_outbox SET status = 'retrying', attempts = 2, last_status_code = 503,"
            " last_error = 'HTTP 503: Service Unavailable', next_attempt_at_ms = ?"
            " WHERE space_id = ? AND status = 'pending' AND SUBSTR(id, 26, 1) IN ('a', 'b', 'c')",
            (now_ms + 60_000, space_id),
        )


async def run_live(
    rt: Runtime,
    demo: DemoSpace,
    *,
    clicks_per_minute: float,
    speed: float,
    duration_s: float | None,
    on_tick: Callable[[dict[str, int]], Awaitable[None] | None] | None = None,
    seed: int | None = None,
    tick_s: float = 1.0,
) -> dict[str, int]:
    """Keep traffic flowing at the current time: clicks now, their events ``speed`` times
    sooner than in life, so the funnel moves while one watches."""
    rnd = random.Random(seed)
    models = tuple(m for _id, m in demo.links.values())
    ids = {m.slug: link_id for link_id, m in demo.links.values()}
    counter = itertools.count()
    pending: list[Action] = []
    totals: dict[str, int] = {"click": 0, "bind": 0, "event": 0}
    started = rt.clock.now_ms()
    carry = 0.0
    while duration_s is None or rt.clock.now_ms() - started < duration_s * 1000:
        now = rt.clock.now_ms()
        carry += clicks_per_minute / 60 * rnd.uniform(0.5, 1.5)
        for _ in range(int(carry)):
            v = visitor(rnd, models)
            for action in _actions(rnd, v, ids[v.link.slug], now, counter, speed):
                heapq.heappush(pending, action)
        carry -= int(carry)
        due = []
        while pending and pending[0].at_ms <= now:
            due.append(heapq.heappop(pending))
        for action in due:
            action.data = dict(action.data)
            if action.kind == "event":
                action.data["occurred_at_ms"] = min(action.data["occurred_at_ms"], now)
            totals[action.kind] += 1
        await _run_all(rt, demo.space_id, due, lambda _n: None)
        if on_tick is not None:
            result = on_tick(totals)
            if result is not None:
                await result
        await asyncio.sleep(tick_s)
    return totals


def describe_range(now_ms: int, days: int) -> str:
    start = datetime.fromtimestamp(now_ms / 1000, UTC) - timedelta(days=days)
    return f"{start:%Y-%m-%d} → {datetime.fromtimestamp(now_ms / 1000, UTC):%Y-%m-%d %H:%M} UTC"
