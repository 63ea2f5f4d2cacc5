"""Exact report counters, kept in the same transaction as the writes they count.

The hot write paths call ``count_click`` (a new, non-bot click), ``count_event`` (a newly
inserted event) and ``move_events`` (a bind back-filled tg-only events). Inside a
``GroupCommitter`` batch the deltas are summed in memory and written once per cell just
before the commit (one ``executemany`` upsert per table); outside one (a plain
transaction) they are written at once. Either way they commit or roll back with the rows
they count, so the rollups always equal a recount of the raw tables (see ``recount``).

Every count is kept at three levels: 15-minute buckets (level 0), UTC hours (1) and UTC
days (2). A day in any real timezone (offsets are whole quarter hours: +05:30 India,
+05:45 Nepal, +12:45 Chatham) is an exact sum of buckets; a report reads whole UTC days
and hours where its range allows and quarters only where a boundary cuts an hour.
Events count at their ``occurred_at_ms``; clicks at their ``ts_ms``. An event's link,
campaign, ad and country are those of its click as known when the event was recorded (or
when its tg_id was bound); an event whose click is unknown counts as unattributed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from xtracker.db.dialect import Tx
from xtracker.db.writer import tx_deferred

BUCKET_MS = 15 * 60 * 1000
STATE_KEY = "report.rollup"
# ``report_rollup`` also keeps each bucket's totals for the whole space in cells whose
# link_id is ALL (never a link id: those are 26 base32 characters; '' is "no link").
ALL = "*"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
LEVELS = ((0, BUCKET_MS), (1, HOUR_MS), (2, DAY_MS))
DIM_MAX = 128
EVENTS = ("contact", "subscribed", "registration", "deposit")
COUNTERS = ("clicks", *EVENTS, "revenue_cents")
_INDEX = {name: i for i, name in enumerate(COUNTERS)}

# The click columns an event takes its dimensions from (ingest and bind read them).
SELECT_CLICK_DIMS = (
    "SELECT link_id, campaign_id, campaign_name, ad_id, ad_name, country"
    " FROM click WHERE uid = ? AND space_id = ?"
)
SELECT_UNBOUND_EVENTS = (
    "SELECT canonical, occurred_at_ms, value_cents, currency FROM event_inbox"
    " WHERE space_id = ? AND tg_id = ? AND uid IS NULL"
)

MAIN_KEY = (
    "space_id",
    "level",
    "bucket_ms",
    "link_id",
    "campaign_id",
    "campaign_name",
    "ad_id",
    "ad_name",
    "currency",
)
GEO_KEY = (
    "space_id",
    "level",
    "bucket_ms",
    "link_id",
    "campaign_id",
    "campaign_name",
    "country",
    "currency",
)


def _upsert(table: str, key: Sequence[str]) -> str:
    columns = (*key, *COUNTERS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


UPSERT_MAIN = _upsert("report_rollup", MAIN_KEY)
UPSERT_GEO = _upsert("report_geo", GEO_KEY)

Dims = tuple[str, str, str, str, str, str]  # link, campaign id/name, ad id/name, country
NO_DIMS: Dims = ("", "", "", "", "", "")


def bucket_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % BUCKET_MS


def _dim(value: Any) -> str:
    return "" if value is None else str(value)[:DIM_MAX]


def dims_of(click: Sequence[Any] | None) -> Dims:
    """Dimensions from a ``SELECT_CLICK_DIMS`` row (None: the click is unknown)."""
    if click is None:
        return NO_DIMS
    link_id, campaign_id, campaign_name, ad_id, ad_name, country = click
    return (
        _dim(link_id),
        _dim(campaign_id),
        _dim(campaign_name),
        _dim(ad_id),
        _dim(ad_name),
        _dim(country)[:2].upper(),
    )


def click_dims(row: dict[str, Any]) -> Dims:
    """Dimensions of a click row as ``build_click`` makes it (strings or None)."""
    country = row["country"]
    return (
        row["link_id"] or "",
        (row["campaign_id"] or "")[:DIM_MAX],
        (row["campaign_name"] or "")[:DIM_MAX],
        (row["ad_id"] or "")[:DIM_MAX],
        (row["ad_name"] or "")[:DIM_MAX],
        country[:2].upper() if country else "",
    )


class RollupDeltas:
    """Counter deltas summed in memory per 15-minute cell; hours and days are derived from
    those cells when flushed, so each counted row costs two dictionary updates."""

    __slots__ = ("cells",)

    def __init__(self) -> None:
        # (space, bucket, dims, currency) → [clicks, contact, subscribed, registration,
        # deposit, revenue_cents]
        self.cells: dict[tuple[str, int, Dims, str], list[int]] = {}

    def add(
        self,
        space_id: str,
        ts_ms: int,
        dims: Dims,
        currency: str,
        counter: str,
        n: int = 1,
        revenue_cents: int = 0,
    ) -> None:
        key = (space_id, ts_ms - ts_ms % BUCKET_MS, dims, currency)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = [0, 0, 0, 0, 0, 0]
        cell[_INDEX[counter]] += n
        cell[5] += revenue_cents

    def rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Upsert rows for ``report_rollup`` and ``report_geo`` at every level."""
        main: dict[tuple[Any, ...], list[int]] = {}
        geo: dict[tuple[Any, ...], list[int]] = {}
        for (space_id, bucket, dims, currency), counts in self.cells.items():
            link_id, campaign_id, campaign_name, ad_id, ad_name, country = dims
            for level, size in LEVELS:
                start = bucket - bucket % size
                for table, key in (
                    (main, (space_id, level, start, link_id, campaign_id, campaign_name, ad_id,
                            ad_name, currency)),
                    (main, (space_id, level, start, ALL, "", "", "", "", currency)),
                    (geo, (space_id, level, start, link_id, campaign_id, campaign_name, country,
                           currency)),
                ):  # fmt: skip
                    cell = table.get(key)
                    if cell is None:
                        table[key] = counts.copy()
                    else:
                        for i, v in enumerate(counts):
                            cell[i] += v
        return [(*k, *v) for k, v in main.items()], [(*k, *v) for k, v in geo.items()]

    def add_click(self, space_id: str, ts_ms: int, dims: Dims) -> None:
        self.add(space_id, ts_ms, dims, "", "clicks")

    def add_event(
        self,
        space_id: str,
        canonical: str,
        occurred_at_ms: int,
        value_cents: int | None,
        currency: str | None,
        dims: Dims,
        sign: int = 1,
    ) -> None:
        if canonical == "deposit":
            self.add(
                space_id,
                occurred_at_ms,
                dims,
                _dim(currency)[:3],
                "deposit",
                sign,
                sign * (value_cents or 0),
            )
        else:
            self.add(space_id, occurred_at_ms, dims, "", canonical, sign)

    async def flush(self, tx: Tx) -> None:
        if not self.cells:
            return
        main, geo = self.rows()
        await tx.executemany(UPSERT_MAIN, main)
        await tx.executemany(UPSERT_GEO, geo)
        self.cells.clear()


async def _flush(tx: Tx, deltas: RollupDeltas) -> None:
    await deltas.flush(tx)


async def _apply(tx: Tx, fill: Any) -> None:
    """Run ``fill(deltas)`` on the batch's deltas, or write at once outside a batch."""
    deferred = tx_deferred()
    if deferred is not None:
        fill(deferred.state(STATE_KEY, RollupDeltas, _flush))
        return
    deltas = RollupDeltas()
    fill(deltas)
    await deltas.flush(tx)


async def count_click(tx: Tx, row: dict[str, Any]) -> None:
    """A click row was inserted (bots count nowhere)."""
    if row["is_bot"]:
        return
    await _apply(tx, lambda d: d.add_click(row["space_id"], row["ts_ms"], click_dims(row)))


async def count_event(
    tx: Tx,
    space_id: str,
    canonical: str,
    occurred_at_ms: int,
    value_cents: int | None,
    currency: str | None,
    click: Sequence[Any] | None,
) -> None:
    """A new event row was inserted; ``click`` is its ``SELECT_CLICK_DIMS`` row or None."""
    dims = dims_of(click)
    await _apply(
        tx,
        lambda d: d.add_event(space_id, canonical, occurred_at_ms, value_cents, currency, dims),
    )


async def move_events(tx: Tx, space_id: str, tg_id: int, click: Sequence[Any] | None) -> None:
    """Before a bind back-fills tg-only events: move them from unattributed to the click."""
    dims = dims_of(click)
    if dims == NO_DIMS:
        return
    rows = await tx.fetchall(SELECT_UNBOUND_EVENTS, (space_id, tg_id))
    if not rows:
        return

    def fill(d: RollupDeltas) -> None:
        for canonical, occurred_at_ms, value_cents, currency in rows:
            d.add_event(space_id, canonical, occurred_at_ms, value_cents, currency, NO_DIMS, -1)
            d.add_event(space_id, canonical, occurred_at_ms, value_cents, currency, dims, 1)

    await _apply(tx, fill)


# -- rebuilding and checking -------------------------------------------------------------

_CLICK_DIM_SQL = (
    "COALESCE(SUBSTR(c.link_id, 1, 32), '')",
    "COALESCE(SUBSTR(c.campaign_id, 1, 128), '')",
    "COALESCE(SUBSTR(c.campaign_name, 1, 128), '')",
    "COALESCE(SUBSTR(c.ad_id, 1, 128), '')",
    "COALESCE(SUBSTR(c.ad_name, 1, 128), '')",
    "COALESCE(UPPER(c.country), '')",
)


async def recount(
    tx: Tx, space_id: str, *, geo: bool = False
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Every rollup cell of a space (all levels) recounted from the raw tables."""
    link, cid, cname, aid, aname, country = _CLICK_DIM_SQL
    dims = [link, cid, cname, country] if geo else [link, cid, cname, aid, aname]
    names = [f"d{i}" for i in range(len(dims))]
    dim_select = ", ".join(f"{sql} AS {name}" for sql, name in zip(dims, names, strict=True))
    clicks = (
        f"SELECT c.space_id AS space_id, (c.ts_ms - (c.ts_ms % {BUCKET_MS})) AS b, {dim_select},"
        " '' AS cur, 1 AS n_click, 0 AS n_contact, 0 AS n_sub, 0 AS n_reg, 0 AS n_dep,"
        " 0 AS rev FROM click c WHERE c.is_bot = ? AND c.space_id = ?"
    )
    events = (
        f"SELECT e.space_id, (e.occurred_at_ms - (e.occurred_at_ms % {BUCKET_MS})), {dim_select},"
        " CASE WHEN e.canonical = 'deposit' THEN e.currency ELSE '' END,"
        " 0, CASE WHEN e.canonical = 'contact' THEN 1 ELSE 0 END,"
        " CASE WHEN e.canonical = 'subscribed' THEN 1 ELSE 0 END,"
        " CASE WHEN e.canonical = 'registration' THEN 1 ELSE 0 END,"
        " CASE WHEN e.canonical = 'deposit' THEN 1 ELSE 0 END,"
        " CASE WHEN e.canonical = 'deposit' THEN COALESCE(e.value_cents, 0) ELSE 0 END"
        " FROM event_inbox e LEFT JOIN click c ON c.uid = e.uid AND c.space_id = e.space_id"
        " WHERE e.space_id = ?"
    )
    group = ", ".join(["space_id", "b", *names, "cur"])
    sql = (
        f"SELECT {group}, SUM(n_click), SUM(n_contact), SUM(n_sub), SUM(n_reg), SUM(n_dep),"
        f" SUM(rev) FROM ({clicks} UNION ALL {events}) t GROUP BY {group}"
    )
    rows = await tx.fetchall(sql, (False, space_id, space_id))
    cells: dict[tuple[Any, ...], list[int]] = {}
    n = len(names) + 3
    for r in rows:
        space, bucket, *rest = r[:n]
        counts = [int(v) for v in r[n:]]
        keys: list[tuple[Any, ...]] = [tuple(rest)]
        if not geo:  # the space's totals, for reports without link/campaign/ad filters
            keys.append((ALL, "", "", "", "", rest[-1]))
        for level, size in LEVELS:
            for cell_dims in keys:
                key = (space, level, int(bucket) - int(bucket) % size, *cell_dims)
                cell = cells.get(key)
                if cell is None:
                    cells[key] = counts.copy()
                else:
                    for i, v in enumerate(counts):
                        cell[i] += v
    return {k: tuple(v) for k, v in cells.items()}


async def stored(
    tx: Tx, space_id: str, *, geo: bool = False
) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Every non-zero rollup cell of a space as stored."""
    key = GEO_KEY if geo else MAIN_KEY
    table = "report_geo" if geo else "report_rollup"
    rows = await tx.fetchall(
        f"SELECT {', '.join(key)}, {', '.join(COUNTERS)} FROM {table} WHERE space_id = ?",
        (space_id,),
    )
    out: dict[tuple[Any, ...], tuple[int, ...]] = {}
    for r in rows:
        counts = tuple(int(v) for v in r[len(key) :])
        if any(counts):
            out[tuple(r[: len(key)])] = counts
    return out


async def rebuild(tx: Tx, space_id: str) -> int:
    """Recompute a space's rollups from the raw tables (bulk loads, repairs); returns cells.

    The rollups outlive raw-click retention (reports keep their history when old clicks are
    deleted); a rebuild after retention has run would forget the deleted clicks.
    """
    total = 0
    for geo, table, key in ((False, "report_rollup", MAIN_KEY), (True, "report_geo", GEO_KEY)):
        cells = await recount(tx, space_id, geo=geo)
        await tx.execute(f"DELETE FROM {table} WHERE space_id = ?", (space_id,))
        columns = (*key, *COUNTERS)
        insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        rows = [(*k, *v) for k, v in cells.items()]
        for start in range(0, len(rows), 5000):
            await tx.executemany(insert, rows[start : start + 5000])
        total += len(rows)
    return total


def click_counter(row: dict[str, Any]) -> Callable[[Tx], Awaitable[None]] | None:
    """The follow-up that counts an inserted click row (None for a bot: it counts nowhere)."""
    if row["is_bot"]:
        return None
    space_id, ts_ms, dims = row["space_id"], row["ts_ms"], click_dims(row)

    async def count(tx: Tx) -> None:
        deferred = tx_deferred()
        if deferred is None:
            await count_click(tx, row)
        else:  # the common case, kept short: one dictionary update per click
            deferred.state(STATE_KEY, RollupDeltas, _flush).add(space_id, ts_ms, dims, "", "clicks")

    return count
