"""The one report module: the dashboard, the management API and the CLI all call these.

Funnel, time series, attribution and the world map read the exact rollups
(``report.rollup``), so they stay fast however many raw clicks there are; deliveries,
conflicts and the live feed read their raw tables through indexed ranges. Bot clicks count
nowhere. Every function takes an ``AsyncSession`` (the caller owns the transaction) and a
``ReportFilter`` made by ``make_filter`` from a space and the request's parameters.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Base, Space
from xtracker.errors import NotFound, ValidationFailed
from xtracker.kit.ids import uid_time_ms
from xtracker.kit.money import format_amount
from xtracker.report import schemas
from xtracker.report.ranges import date_range, local_midnight_ms, zone
from xtracker.report.rollup import ALL, LEVELS

COUNT_SUMS = (
    "SUM(clicks), SUM(contact), SUM(subscribed), SUM(registration), SUM(deposit),"
    " SUM(revenue_cents)"
)
STATUSES = ("pending", "sending", "sent", "retrying", "failed_permanently")
HOUR_MS = 3_600_000
MAX_HOUR_POINTS = 24 * 93


def money_text(cents: int) -> str:
    return format_amount(Decimal(cents) / 100)


def _money(currency: str, cents: int) -> schemas.Money:
    return schemas.Money(currency=currency, cents=cents, amount=money_text(cents))


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _epc(revenue_cents: int, clicks: int) -> str:
    if not clicks:
        return "0.0000"
    value = Decimal(revenue_cents) / 100 / clicks
    return str(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


# -- filters ---------------------------------------------------------------------------


async def make_filter(
    session: AsyncSession,
    space: Space,
    *,
    now_ms: int,
    preset: str = "7d",
    start: str | int | None = None,
    end: str | int | None = None,
    link: str | None = None,
    campaign: str | None = None,
) -> schemas.ReportFilter:
    """The filter for a request: the preset in the space's timezone, a link by slug or id."""
    start_ms, end_ms = date_range(preset, space.timezone, now_ms, start, end)
    link_id = None
    if link:
        row = (
            await session.execute(
                text("SELECT id FROM link WHERE space_id = :s AND (slug = :l OR id = :l)"),
                {"s": space.id, "l": link},
            )
        ).first()
        if row is None:
            raise NotFound(f"no link {link!r} in this space", field="link")
        link_id = str(row[0])
    return schemas.ReportFilter(
        space_id=space.id,
        start_ms=start_ms,
        end_ms=end_ms,
        link_id=link_id,
        campaign=campaign or None,
        timezone=space.timezone,
        currency=space.currency,
        preset=preset,
    )


def _range(f: schemas.ReportFilter) -> schemas.Range:
    return schemas.Range(start_ms=f.start_ms, end_ms=f.end_ms, timezone=f.timezone, preset=f.preset)


def pieces(start_ms: int, end_ms: int, splits: Sequence[int] = ()) -> dict[int, list[int]]:
    """Rollup level → bucket starts that tile ``[start_ms, end_ms)`` exactly, the largest
    that fit, none crossing a split point (a local hour or day boundary of a time series)."""
    cuts = sorted({p for p in splits if start_ms < p < end_ms})
    out: dict[int, list[int]] = {level: [] for level, _size in LEVELS}
    t, next_cut = start_ms, 0
    while t < end_ms:
        while next_cut < len(cuts) and cuts[next_cut] <= t:
            next_cut += 1
        limit = cuts[next_cut] if next_cut < len(cuts) else end_ms
        for level, size in reversed(LEVELS):
            if (t % size == 0 and t + size <= limit) or level == 0:
                out[level].append(t)
                t += size
                break
    return out


async def _sums(
    session: AsyncSession,
    table: str,
    f: schemas.ReportFilter,
    group: Sequence[str],
    splits: Sequence[int] = (),
) -> list[Any]:
    """``SELECT group…, currency, sums`` over the filter's range, read level by level."""
    cols = ", ".join([*group, "currency"])
    where = "space_id = :space AND level = :level AND bucket_ms IN :buckets"
    params: dict[str, Any] = {"space": f.space_id, "all": ALL}
    if table == "report_rollup":  # the space's totals answer what needs no dimension
        totals = not group or tuple(group) == ("bucket_ms",)
        unfiltered = f.link_id is None and f.campaign is None
        where += " AND link_id = :all" if totals and unfiltered else " AND link_id <> :all"
    if f.link_id is not None:
        where += " AND link_id = :link"
        params["link"] = f.link_id
    if f.campaign is not None:
        where += " AND (campaign_id = :campaign OR campaign_name = :campaign)"
        params["campaign"] = f.campaign
    query = text(f"SELECT {cols}, {COUNT_SUMS} FROM {table} WHERE {where} GROUP BY {cols}")
    query = query.bindparams(bindparam("buckets", expanding=True))
    rows: list[Any] = []
    for level, buckets in pieces(f.start_ms, f.end_ms, splits).items():
        for at in range(0, len(buckets), 1000):
            chunk = buckets[at : at + 1000]
            result = await session.execute(query, {**params, "level": level, "buckets": chunk})
            rows.extend(result.all())
    return rows


class _Counts:
    """Sums of one group: counters plus revenue per currency."""

    __slots__ = ("clicks", "contact", "deposit", "registration", "revenue", "subscribed")

    def __init__(self) -> None:
        self.clicks = self.contact = self.subscribed = self.registration = self.deposit = 0
        self.revenue: dict[str, int] = {}

    def add(self, currency: str, values: Sequence[Any]) -> None:
        clicks, contact, subscribed, registration, deposit, revenue = (int(v or 0) for v in values)
        self.clicks += clicks
        self.contact += contact
        self.subscribed += subscribed
        self.registration += registration
        self.deposit += deposit
        if currency:
            self.revenue[currency] = self.revenue.get(currency, 0) + revenue

    def empty(self) -> bool:
        """Nothing left (a cell emptied when a bind moved its events to their link)."""
        counts = (self.clicks, self.contact, self.subscribed, self.registration, self.deposit)
        return not any(counts) and not any(self.revenue.values())

    def step(self, name: str) -> int:
        return int(getattr(self, "clicks" if name == "click" else name))


# -- funnel ------------------------------------------------------------------------------


async def conflicts(session: AsyncSession, f: schemas.ReportFilter) -> int:
    """Duplicates that came with another amount or currency, received in the range."""
    sql = (
        "SELECT COUNT(*) FROM event_conflict x"
        " JOIN event_inbox e ON e.id = x.inbox_id"
        " LEFT JOIN click c ON c.uid = e.uid AND c.space_id = e.space_id"
        " WHERE x.space_id = :space AND x.received_at_ms >= :start AND x.received_at_ms < :end"
    )
    params: dict[str, Any] = {"space": f.space_id, "start": f.start_ms, "end": f.end_ms}
    if f.link_id is not None:
        sql += " AND e.link_id = :link"
        params["link"] = f.link_id
    if f.campaign is not None:
        sql += " AND (c.campaign_id = :campaign OR c.campaign_name = :campaign)"
        params["campaign"] = f.campaign
    return int((await session.execute(text(sql), params)).scalar_one())


async def funnel(session: AsyncSession, f: schemas.ReportFilter) -> schemas.Funnel:
    """click → contact → subscribed → registration → deposit, with step rates and drop-off."""
    rows = await _sums(session, "report_rollup", f, ())
    total = _Counts()
    for row in rows:
        total.add(row[0], row[1:])
    steps: list[schemas.FunnelStep] = []
    previous: int | None = None
    cliff: tuple[float, int] | None = None
    for index, name in enumerate(schemas.STEPS):
        count = total.step(name)
        step = schemas.FunnelStep(step=name, count=count)
        if previous is not None:
            rate = _ratio(count, previous)
            step.rate_from_previous = rate
            step.rate_from_click = _ratio(count, total.clicks)
            step.drop_off = previous - count
            step.drop_off_rate = None if rate is None else round(1 - rate, 4)
            drop = step.drop_off_rate
            if drop is not None and drop > 0 and (cliff is None or drop > cliff[0]):
                cliff = (drop, index)
        else:
            step.rate_from_click = 1.0 if count else None
        steps.append(step)
        previous = count
    if cliff is not None:
        steps[cliff[1]].biggest_cliff = True
    revenue = total.revenue.get(f.currency, 0)
    return schemas.Funnel(
        range=_range(f),
        steps=steps,
        revenue=_money(f.currency, revenue),
        revenue_by_currency=[_money(c, v) for c, v in sorted(total.revenue.items())],
        epc=_epc(revenue, total.clicks),
        conflicts=await conflicts(session, f),
        biggest_cliff=None if cliff is None else schemas.STEPS[cliff[1]],
    )


# -- time series -------------------------------------------------------------------------


def _bucket_starts(f: schemas.ReportFilter, bucket: str) -> list[int]:
    tz = zone(f.timezone)
    if bucket == "hour":
        if (f.end_ms - f.start_ms) // HOUR_MS > MAX_HOUR_POINTS:
            raise ValidationFailed("hourly buckets cover at most 93 days", field="bucket")
        first = f.start_ms - f.start_ms % (HOUR_MS // 4)
        return list(range(first, f.end_ms, HOUR_MS))
    day = datetime.fromtimestamp(f.start_ms / 1000, UTC).astimezone(tz).date()
    starts = []
    while True:
        ms = local_midnight_ms(day, tz)
        if ms >= f.end_ms:
            break
        starts.append(ms)
        day += timedelta(days=1)
    if not starts or starts[0] > f.start_ms:
        starts.insert(0, f.start_ms)
    return starts


async def timeseries(
    session: AsyncSession, f: schemas.ReportFilter, bucket: str = "day"
) -> schemas.Timeseries:
    """Clicks, each event and revenue per local hour or day (every bucket, zeros included)."""
    if bucket not in ("hour", "day"):
        raise ValidationFailed("bucket must be hour or day", field="bucket")
    starts = _bucket_starts(f, bucket)
    rows = await _sums(session, "report_rollup", f, ("bucket_ms",), starts)
    sums = [_Counts() for _ in starts]
    for row in rows:
        index = bisect_right(starts, int(row[0])) - 1
        if index >= 0:
            sums[index].add(row[1], row[2:])
    tz = zone(f.timezone)
    points = []
    for start, c in zip(starts, sums, strict=True):
        revenue = c.revenue.get(f.currency, 0)
        points.append(
            schemas.TimePoint(
                start_ms=start,
                label=datetime.fromtimestamp(start / 1000, UTC).astimezone(tz).isoformat(),
                clicks=c.clicks,
                contact=c.contact,
                subscribed=c.subscribed,
                registration=c.registration,
                deposit=c.deposit,
                revenue_cents=revenue,
                revenue=money_text(revenue),
            )
        )
    return schemas.Timeseries(range=_range(f), bucket=bucket, currency=f.currency, points=points)


# -- attribution -------------------------------------------------------------------------

GROUPS: dict[str, tuple[str, ...]] = {
    "link": ("link_id",),
    "ad": ("ad_id", "ad_name"),
    "campaign": ("campaign_id", "campaign_name"),
}
SORTABLE = (
    "clicks",
    "contact",
    "subscribed",
    "registration",
    "deposit",
    "revenue_cents",
    "click_to_contact",
    "contact_to_subscribed",
    "subscribed_to_registration",
    "registration_to_deposit",
    "click_to_deposit",
    "epc_cents",
    "key",
    "link_name",
    "campaign_name",
    "ad_name",
)


def _row(key: str, c: _Counts, currency: str, **labels: str | None) -> schemas.AttributionRow:
    revenue = c.revenue.get(currency, 0)
    return schemas.AttributionRow(
        key=key,
        **labels,
        clicks=c.clicks,
        contact=c.contact,
        subscribed=c.subscribed,
        registration=c.registration,
        deposit=c.deposit,
        revenue_cents=revenue,
        revenue=money_text(revenue),
        click_to_contact=_ratio(c.contact, c.clicks),
        contact_to_subscribed=_ratio(c.subscribed, c.contact),
        subscribed_to_registration=_ratio(c.registration, c.subscribed),
        registration_to_deposit=_ratio(c.deposit, c.registration),
        click_to_deposit=_ratio(c.deposit, c.clicks),
        epc=_epc(revenue, c.clicks),
        epc_cents=round(revenue / c.clicks, 4) if c.clicks else 0.0,
    )


async def attribution(
    session: AsyncSession,
    f: schemas.ReportFilter,
    group_by: str = "link",
    sort: str = "clicks",
    order: str = "desc",
) -> schemas.Attribution:
    """Per link, ad or campaign: clicks, each event, revenue, step rates and EPC."""
    if group_by not in GROUPS:
        raise ValidationFailed("group_by must be link, ad or campaign", field="group_by")
    if sort not in SORTABLE:
        raise ValidationFailed(f"sort must be one of {', '.join(SORTABLE)}", field="sort")
    if order not in ("asc", "desc"):
        raise ValidationFailed("order must be asc or desc", field="order")
    columns = GROUPS[group_by]
    rows = await _sums(session, "report_rollup", f, columns)
    groups: dict[tuple[str, ...], _Counts] = {}
    total = _Counts()
    n = len(columns)
    for row in rows:
        key = tuple(str(v) for v in row[:n])
        groups.setdefault(key, _Counts()).add(row[n], row[n + 1 :])
        total.add(row[n], row[n + 1 :])
    links: dict[str, tuple[str, str]] = {}
    if group_by == "link":
        found = await session.execute(
            text("SELECT id, slug, name FROM link WHERE space_id = :s"), {"s": f.space_id}
        )
        links = {str(r[0]): (str(r[1]), str(r[2])) for r in found}
    out = []
    for key, counts in groups.items():
        if counts.empty():
            continue
        if group_by == "link":
            slug, name = links.get(key[0], (None, None)) if key[0] else (None, None)
            label = slug or "(no link)"
            out.append(
                _row(
                    label,
                    counts,
                    f.currency,
                    link_id=key[0] or None,
                    link_slug=slug,
                    link_name=name,
                )
            )
        elif group_by == "ad":
            label = key[1] or key[0] or "(no ad)"
            out.append(
                _row(label, counts, f.currency, ad_id=key[0] or None, ad_name=key[1] or None)
            )
        else:
            label = key[1] or key[0] or "(no campaign)"
            out.append(
                _row(
                    label,
                    counts,
                    f.currency,
                    campaign_id=key[0] or None,
                    campaign_name=key[1] or None,
                )
            )

    def sort_key(r: schemas.AttributionRow) -> tuple[bool, Any, str]:
        value = getattr(r, sort)
        missing = value is None
        if isinstance(value, str):
            value = value.lower()
        # Missing values go last in either order; ties break on the key.
        return (
            missing if order == "asc" else not missing,
            value if value is not None else 0,
            r.key,
        )

    out.sort(key=sort_key, reverse=order == "desc")
    return schemas.Attribution(
        range=_range(f),
        group_by=group_by,
        currency=f.currency,
        sort=sort,
        order=order,
        rows=out,
        totals=_row("total", total, f.currency),
    )


CSV_COLUMNS = (
    "key",
    "link_slug",
    "link_name",
    "campaign_id",
    "campaign_name",
    "ad_id",
    "ad_name",
    "clicks",
    "contact",
    "subscribed",
    "registration",
    "deposit",
    "revenue",
    "click_to_contact",
    "contact_to_subscribed",
    "subscribed_to_registration",
    "registration_to_deposit",
    "click_to_deposit",
    "epc",
)


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def attribution_csv(report: schemas.Attribution) -> str:
    """The attribution table as CSV (one header row, one row per group, then the total)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "currency"])
    for row in [*report.rows, report.totals]:
        data = row.model_dump()
        writer.writerow([_csv_cell(data[c]) for c in CSV_COLUMNS] + [report.currency])
    return buffer.getvalue()


# -- countries ---------------------------------------------------------------------------


async def countries(
    session: AsyncSession, f: schemas.ReportFilter, metric: str = "clicks"
) -> schemas.Countries:
    """Clicks, deposits or revenue per country (ISO alpha-2), largest first."""
    if metric not in ("clicks", "deposits", "revenue"):
        raise ValidationFailed("metric must be clicks, deposits or revenue", field="metric")
    rows = await _sums(session, "report_geo", f, ("country",))
    groups: dict[str, _Counts] = {}
    for row in rows:
        groups.setdefault(str(row[0]), _Counts()).add(row[1], row[2:])
    out = []
    for country, c in groups.items():
        if c.empty():
            continue
        revenue = c.revenue.get(f.currency, 0)
        value: float = {"clicks": c.clicks, "deposits": c.deposit, "revenue": revenue / 100}[metric]
        out.append(
            schemas.CountryRow(
                country=country or None,
                value=value,
                clicks=c.clicks,
                deposits=c.deposit,
                revenue_cents=revenue,
                revenue=money_text(revenue),
            )
        )
    out.sort(key=lambda r: (-r.value, -r.clicks, r.country or "~"))
    return schemas.Countries(range=_range(f), metric=metric, currency=f.currency, rows=out)


# -- deliveries --------------------------------------------------------------------------


async def deliveries(session: AsyncSession, f: schemas.ReportFilter) -> schemas.Deliveries:
    """Destinations × outbox statuses for events queued in the range, with success rate,
    attempt latency, the last error and the circuit breaker's state."""
    base = {"space": f.space_id, "start": f.start_ms, "end": f.end_ms}
    dests = (
        await session.execute(
            text(
                "SELECT id, name, kind, active FROM destination WHERE space_id = :space"
                " ORDER BY created_at_ms, id"
            ),
            {"space": f.space_id},
        )
    ).all()
    rows: dict[str, schemas.DeliveryRow] = {
        str(d[0]): schemas.DeliveryRow(
            destination_id=str(d[0]),
            name=str(d[1]),
            kind=str(d[2]),
            active=bool(d[3]),
            circuit=schemas.Circuit(state="closed"),
        )
        for d in dests
    }
    counts = await session.execute(
        text(
            "SELECT destination_id, status, COUNT(*) FROM event_outbox WHERE space_id = :space"
            " AND created_at_ms >= :start AND created_at_ms < :end"
            " GROUP BY destination_id, status"
        ),
        base,
    )
    for dest_id, status, n in counts:
        row = rows.get(str(dest_id))
        if row is None or status not in STATUSES:
            continue
        setattr(row, status, int(n))
        row.total += int(n)
    for row in rows.values():
        done = row.sent + row.failed_permanently
        row.success_rate = _ratio(row.sent, done)
    tables = Base.metadata.tables
    if "delivery_attempt" in tables:
        await _attempt_stats(session, base, rows)
    else:  # without attempt records, the outbox keeps each row's last error
        for dest_id, row in rows.items():
            last = (
                await session.execute(
                    text(
                        "SELECT last_error, updated_at_ms FROM event_outbox"
                        " WHERE destination_id = :d AND last_error IS NOT NULL"
                        " ORDER BY updated_at_ms DESC LIMIT 1"
                    ),
                    {"d": dest_id},
                )
            ).first()
            if last is not None:
                row.last_error, row.last_error_at_ms = str(last[0]), int(last[1])
    if "destination_circuit" in tables and rows:
        circuits = await session.execute(
            text(
                "SELECT destination_id, state, consecutive_failures, probe_at_ms"
                " FROM destination_circuit"
            )
        )
        for dest_id, state, failures, probe_at_ms in circuits:
            row = rows.get(str(dest_id))
            if row is not None:
                row.circuit = schemas.Circuit(
                    state=str(state),
                    consecutive_failures=int(failures or 0),
                    probe_at_ms=None if state == "closed" else probe_at_ms,
                )
    return schemas.Deliveries(
        range=_range(f), statuses=list(STATUSES), destinations=list(rows.values())
    )


async def _attempt_stats(
    session: AsyncSession, base: dict[str, Any], rows: dict[str, schemas.DeliveryRow]
) -> None:
    in_range = "space_id = :space AND at_ms >= :start AND at_ms < :end"
    stats = await session.execute(
        text(
            f"SELECT destination_id, COUNT(*), AVG(latency_ms) FROM delivery_attempt"
            f" WHERE {in_range} GROUP BY destination_id"
        ),
        base,
    )
    for dest_id, n, avg in stats:
        row = rows.get(str(dest_id))
        if row is None:
            continue
        row.attempts = int(n)
        row.latency_ms_avg = None if avg is None else round(float(avg), 1)
        p95 = (
            await session.execute(
                text(
                    f"SELECT latency_ms FROM delivery_attempt WHERE {in_range}"
                    " AND destination_id = :d ORDER BY latency_ms LIMIT 1 OFFSET :o"
                ),
                {**base, "d": dest_id, "o": int(0.95 * (int(n) - 1))},
            )
        ).first()
        row.latency_ms_p95 = None if p95 is None else int(p95[0])
    for dest_id, row in rows.items():
        last = (
            await session.execute(
                text(
                    "SELECT error, at_ms FROM delivery_attempt WHERE space_id = :space"
                    " AND destination_id = :d AND error IS NOT NULL"
                    " ORDER BY at_ms DESC LIMIT 1"
                ),
                {"space": base["space"], "d": dest_id},
            )
        ).first()
        if last is not None:
            row.last_error, row.last_error_at_ms = str(last[0]), int(last[1])


# -- live feed ---------------------------------------------------------------------------


def _ms_of(cursor: str) -> int:
    try:
        return uid_time_ms(cursor.lower())
    except ValueError:
        raise ValidationFailed(
            "after must be a cursor from a previous answer", field="after"
        ) from None


async def live_items(
    session: AsyncSession, space_id: str, *, since_ms: int, limit: int, newest: bool
) -> list[schemas.LiveItem]:
    """Clicks (no bots) and events from ``since_ms`` on: the oldest ``limit`` (or newest)."""
    direction = "DESC" if newest else "ASC"
    params = {"space": space_id, "since": since_ms, "limit": limit, "bot": False}
    clicks = await session.execute(
        text(
            "SELECT uid, ts_ms, link_id, country, device, campaign_name, ad_name FROM click"
            " WHERE space_id = :space AND ts_ms >= :since AND is_bot = :bot"
            f" ORDER BY ts_ms {direction}, uid {direction} LIMIT :limit"
        ),
        params,
    )
    items = [
        schemas.LiveItem(
            kind="click",
            id=str(r[0]),
            uid=str(r[0]),
            ts_ms=int(r[1]),
            link_id=r[2],
            country=r[3],
            device=r[4],
            campaign_name=r[5],
            ad_name=r[6],
        )
        for r in clicks
    ]
    events = await session.execute(
        text(
            "SELECT id, received_at_ms, link_id, canonical, uid, value_cents, currency, source"
            " FROM event_inbox WHERE space_id = :space AND received_at_ms >= :since"
            f" ORDER BY received_at_ms {direction}, id {direction} LIMIT :limit"
        ),
        {k: v for k, v in params.items() if k != "bot"},
    )
    for r in events:
        items.append(
            schemas.LiveItem(
                kind="event",
                id=str(r[0]),
                ts_ms=int(r[1]),
                link_id=r[2],
                event=r[3],
                uid=r[4],
                value=None if r[5] is None else money_text(int(r[5])),
                currency=r[6] if r[5] is not None else None,
                source=r[7],
            )
        )
    items.sort(key=lambda i: (i.ts_ms, i.id))
    return items[-limit:] if newest else items[:limit]


async def live_feed(
    session: AsyncSession, space_id: str, after_cursor: str | None = None, limit: int = 50
) -> schemas.LiveFeed:
    """The newest clicks and events (no cursor), or those after ``after_cursor``, oldest first.

    The cursor is the last item's id (ids start with their millisecond). A row committed
    late with an older id than the cursor is not returned again; the dashboard's push feed
    uses ``LiveTail``, which looks back a few seconds and never misses one.
    """
    limit = max(1, min(limit, 500))
    if after_cursor:
        since = _ms_of(after_cursor)
        items = [
            i
            for i in await live_items(
                session, space_id, since_ms=since, limit=limit + 50, newest=False
            )
            if i.id > after_cursor
        ][:limit]
    else:
        items = await live_items(session, space_id, since_ms=0, limit=limit, newest=True)
    cursor = items[-1].id if items else after_cursor
    return schemas.LiveFeed(items=items, cursor=cursor)


class LiveTail:
    """Follows one space's feed for one push connection (SSE/WebSocket), across processes.

    Each ``poll`` re-reads the last ``lookback_ms`` and returns only items not returned
    before, so a row that commits a little after a newer one is still delivered once.
    """

    def __init__(self, space_id: str, *, lookback_ms: int = 10_000, limit: int = 200) -> None:
        self.space_id = space_id
        self.lookback_ms = lookback_ms
        self.limit = limit
        self._watermark: int | None = None
        self._seen: dict[str, int] = {}

    async def poll(self, session: AsyncSession, now_ms: int) -> list[schemas.LiveItem]:
        if self._watermark is None:  # first poll: the newest items, as a start
            items = await live_items(
                session, self.space_id, since_ms=0, limit=self.limit, newest=True
            )
        else:
            since = self._watermark - self.lookback_ms
            # Newest first under a flood: a feed shows the present, not a backlog.
            items = await live_items(
                session, self.space_id, since_ms=since, limit=self.limit * 5, newest=True
            )
        fresh = [i for i in items if i.id not in self._seen]
        for item in fresh:
            self._seen[item.id] = item.ts_ms
        newest = max((i.ts_ms for i in items), default=now_ms if self._watermark is None else 0)
        self._watermark = max(self._watermark or 0, newest)
        horizon = self._watermark - self.lookback_ms
        if len(self._seen) > self.limit * 10:
            self._seen = {k: v for k, v in self._seen.items() if v >= horizon}
        return fresh[-self.limit :]
