"""Reports on scripted traffic: funnel, attribution, countries, time series, presets, CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import SpaceKeys, make_space
from tests.integration.report_support import (
    DAY,
    HOUR,
    T0,
    bind,
    create_link,
    send,
    visit,
)
from xtracker.cli.main import app as cli_app
from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.models import Space
from xtracker.errors import ValidationFailed
from xtracker.kit.clock import FrozenClock
from xtracker.report import service
from xtracker.report.ranges import date_range
from xtracker.runtime import Runtime

MIN = 60_000


@dataclass
class Scripted:
    alpha: str
    beta: str
    alpha_uids: list[str]
    beta_uids: list[str]


async def scripted(rt: Runtime, http: httpx.AsyncClient, space: SpaceKeys) -> Scripted:
    """15 real clicks and 3 bots on two links; 12 contacts … 2 deposits (+1 conflict)."""
    alpha = await create_link(http, space, "alpha")
    beta = await create_link(http, space, "beta")
    alpha_uids = []
    for i in range(10):
        ad = ("a1", "Red banner") if i < 6 else ("a2", "Blue video")
        country = "DE" if i < 5 else "IN" if i < 8 else "BR"
        alpha_uids.append(
            await visit(
                rt,
                space.id,
                alpha,
                T0 + i * 10 * MIN,
                country=country,
                campaign_id="c1",
                campaign_name="Promo1",
                ad_id=ad[0],
                ad_name=ad[1],
            )
        )
    for i in range(3):
        await visit(rt, space.id, alpha, T0 + i * MIN, bot=True, campaign_id="c1", ad_id="a1")
    beta_uids = [
        await visit(
            rt,
            space.id,
            beta,
            T0 + 2 * HOUR + i * 5 * MIN,
            country="US",
            campaign_id="c2",
            campaign_name="Promo2",
            ad_id="b1",
            ad_name="Story",
        )
        for i in range(5)
    ]
    at = T0 + 3 * HOUR

    def ev(name: str, uid: str, **extra: Any) -> dict[str, Any]:
        return {"event": name, "uid": uid, "occurred_at_ms": at, **extra}

    await send(
        http,
        space,
        *[ev("contact", u) for u in alpha_uids[:8]],
        *[ev("subscribed", u) for u in alpha_uids[:5]],
        *[ev("registration", u, eid=f"reg-{n}") for n, u in enumerate(alpha_uids[:3])],
        ev("deposit", alpha_uids[0], value="25.00", eid="tx-1"),
        ev("deposit", alpha_uids[1], value=10.5, eid="tx-2"),
        *[ev("contact", u) for u in beta_uids[:4]],
        ev("subscribed", beta_uids[0]),
    )
    # The same deposit again with another amount: a duplicate, recorded as a conflict.
    (dup,) = await send(http, space, ev("deposit", alpha_uids[0], value="30.00", eid="tx-1"))
    assert dup["status"] == "duplicate"
    return Scripted(alpha, beta, alpha_uids, beta_uids)


async def space_row(rt: Runtime, space_id: str) -> Space:
    async with session_scope(rt.sessions) as session:
        found = await session.get(Space, space_id)
        assert found is not None
        session.expunge(found)
        return found


async def report(rt: Runtime, space: SpaceKeys, name: str, **params: Any) -> Any:
    keys = ("preset", "start", "end", "link", "campaign")
    filter_args = {k: v for k, v in params.items() if k in keys}
    other = {k: v for k, v in params.items() if k not in keys}
    found = await space_row(rt, space.id)
    async with session_scope(rt.sessions) as session:
        f = await service.make_filter(session, found, now_ms=rt.clock.now_ms(), **filter_args)
        return await getattr(service, name)(session, f, **other)


class TestFunnel:
    async def test_counts_each_step_once_and_flags_the_biggest_cliff(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        funnel = await report(runtime, space, "funnel", preset="today")
        counts = {s.step: s.count for s in funnel.steps}
        assert counts == {
            "click": 15,
            "contact": 12,
            "subscribed": 6,
            "registration": 3,
            "deposit": 2,
        }
        by_step = {s.step: s for s in funnel.steps}
        assert by_step["contact"].rate_from_previous == 0.8
        assert by_step["contact"].drop_off == 3 and by_step["contact"].drop_off_rate == 0.2
        assert by_step["deposit"].rate_from_previous == 0.6667
        assert by_step["deposit"].rate_from_click == round(2 / 15, 4)
        assert funnel.biggest_cliff == "subscribed" and by_step["subscribed"].biggest_cliff
        assert [s.step for s in funnel.steps if s.biggest_cliff] == ["subscribed"]
        assert funnel.revenue.amount == "35.50" and funnel.revenue.cents == 3550
        assert funnel.epc == "2.3667"
        assert funnel.conflicts == 1

    async def test_bots_count_nowhere(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        links = await report(runtime, space, "attribution", preset="today")
        assert {r.key: r.clicks for r in links.rows} == {"alpha": 10, "beta": 5}
        live = await report_live(runtime, space.id)
        assert sum(1 for i in live.items if i.kind == "click") == 15

    async def test_link_and_campaign_filters(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        beta = await report(runtime, space, "funnel", preset="today", link="beta")
        assert [s.count for s in beta.steps] == [5, 4, 1, 0, 0]
        assert beta.revenue.amount == "0.00" and beta.conflicts == 0
        promo1 = await report(runtime, space, "funnel", preset="today", campaign="Promo1")
        by_id = await report(runtime, space, "funnel", preset="today", campaign="c1")
        assert [s.count for s in promo1.steps] == [10, 8, 5, 3, 2] == [s.count for s in by_id.steps]
        assert promo1.conflicts == 1

    async def test_an_unknown_link_filter_is_404(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        answer = await http.get(
            f"/api/spaces/{space.slug}/reports/funnel?link=nope", headers=space.auth
        )
        assert answer.status_code == 404 and answer.json()["error"]["field"] == "link"


async def report_live(rt: Runtime, space_id: str, after: str | None = None) -> Any:
    async with session_scope(rt.sessions) as session:
        return await service.live_feed(session, space_id, after, 100)


class TestAttribution:
    async def test_per_link_per_ad_and_per_campaign(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        links = await report(runtime, space, "attribution", preset="today")
        alpha = links.rows[0]
        assert (
            alpha.key,
            alpha.link_name,
            alpha.clicks,
            alpha.contact,
            alpha.subscribed,
            alpha.registration,
            alpha.deposit,
            alpha.revenue,
        ) == ("alpha", "Link alpha", 10, 8, 5, 3, 2, "35.50")
        assert alpha.epc == "3.5500" and alpha.click_to_contact == 0.8
        assert alpha.registration_to_deposit == 0.6667
        assert links.totals.clicks == 15 and links.totals.revenue == "35.50"
        ads = await report(runtime, space, "attribution", preset="today", group_by="ad")
        rows = {
            r.ad_id: (r.ad_name, r.clicks, r.contact, r.subscribed, r.deposit) for r in ads.rows
        }
        assert rows == {
            "a1": ("Red banner", 6, 6, 5, 2),
            "a2": ("Blue video", 4, 2, 0, 0),
            "b1": ("Story", 5, 4, 1, 0),
        }
        campaigns = await report(runtime, space, "attribution", preset="today", group_by="campaign")
        assert {r.campaign_name: r.clicks for r in campaigns.rows} == {"Promo1": 10, "Promo2": 5}

    async def test_rows_sort_by_any_column(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        asc = await report(
            runtime, space, "attribution", preset="today", group_by="ad", sort="clicks", order="asc"
        )
        assert [r.ad_id for r in asc.rows] == ["a2", "b1", "a1"]
        by_epc = await report(
            runtime, space, "attribution", preset="today", group_by="ad", sort="epc_cents"
        )
        assert by_epc.rows[0].ad_id == "a1"
        with pytest.raises(ValidationFailed):
            await report(runtime, space, "attribution", preset="today", sort="nope")

    async def test_tg_only_events_move_to_the_link_when_bound(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        data = await scripted(runtime, http, space)
        (queued,) = await send(
            http,
            space,
            {"event": "deposit", "tg_id": 555, "value": "7", "occurred_at_ms": T0 + 4 * HOUR},
        )
        assert queued["status"] == "queued"
        before = await report(runtime, space, "attribution", preset="today")
        assert {r.key: r.deposit for r in before.rows} == {"alpha": 2, "beta": 0, "(no link)": 1}
        await bind(http, space, data.beta_uids[4], 555)
        after = await report(runtime, space, "attribution", preset="today")
        assert {r.key: (r.deposit, r.revenue) for r in after.rows} == {
            "alpha": (2, "35.50"),
            "beta": (1, "7.00"),
        }
        funnel = await report(runtime, space, "funnel", preset="today")
        assert funnel.steps[-1].count == 3 and funnel.revenue.amount == "42.50"
        geo = await report(runtime, space, "countries", preset="today", metric="deposits")
        assert [(r.country, r.value) for r in geo.rows][:2] == [("DE", 2), ("US", 1)]

    async def test_csv_export_from_the_api(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        answer = await http.get(
            f"/api/spaces/{space.slug}/reports/attribution",
            params={"preset": "today", "group_by": "ad", "format": "csv"},
            headers=space.auth,
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert [r["key"] for r in rows] == ["Red banner", "Story", "Blue video", "total"]
        assert rows[0]["revenue"] == "35.50" and rows[0]["epc"] == "5.9167"
        assert rows[-1]["clicks"] == "15" and rows[0]["currency"] == "USD"

    async def test_csv_cells_never_run_as_formulas(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        link = await create_link(http, space, "gamma")
        await visit(runtime, space.id, link, T0, ad_id="x", ad_name="=HYPERLINK(1)")
        ads = await report(runtime, space, "attribution", preset="today", group_by="ad")
        text = service.attribution_csv(ads)
        assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


class TestCountries:
    async def test_clicks_deposits_and_revenue_by_country(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        clicks = await report(runtime, space, "countries", preset="today")
        assert [(r.country, r.value) for r in clicks.rows] == [
            ("DE", 5),
            ("US", 5),
            ("IN", 3),
            ("BR", 2),
        ]
        revenue = await report(runtime, space, "countries", preset="today", metric="revenue")
        assert revenue.rows[0].country == "DE" and revenue.rows[0].value == 35.5


class TestTimeseries:
    async def test_hourly_waveform_and_revenue(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        series = await report(runtime, space, "timeseries", preset="today", bucket="hour")
        assert len(series.points) == 24
        assert [p.clicks for p in series.points[:4]] == [6, 4, 5, 0]
        third = series.points[3]
        assert (third.contact, third.subscribed, third.deposit, third.revenue) == (
            12,
            6,
            2,
            "35.50",
        )
        assert third.label == "2025-12-11T03:00:00+00:00"
        days = await report(runtime, space, "timeseries", preset="7d")
        assert len(days.points) == 7 and days.points[-1].clicks == 15
        assert sum(p.clicks for p in days.points) == 15


class TestTimezones:
    async def test_days_follow_the_space_timezone(
        self, runtime: Runtime, http: httpx.AsyncClient
    ) -> None:
        india = await make_space(runtime, "India", timezone="Asia/Kolkata")
        link = await create_link(http, india, "in1")
        # 23:30 on Dec 10 in India, then 00:30 and 06:30 on Dec 11 (clock: 11:18 Dec 11).
        for ts in (T0 - 6 * HOUR, T0 - 5 * HOUR, T0 + HOUR):
            await visit(runtime, india.id, link, ts, country="IN")
        today = await report(runtime, india, "funnel", preset="today")
        yesterday = await report(runtime, india, "funnel", preset="yesterday")
        assert (today.steps[0].count, yesterday.steps[0].count) == (2, 1)
        assert today.range.start_ms == T0 - 5 * HOUR - 30 * MIN
        days = await report(runtime, india, "timeseries", preset="7d")
        assert [p.clicks for p in days.points[-2:]] == [1, 2]
        assert days.points[-1].label == "2025-12-11T00:00:00+05:30"
        hours = await report(runtime, india, "timeseries", preset="today", bucket="hour")
        assert hours.points[0].start_ms == T0 - 5 * HOUR - 30 * MIN
        assert hours.points[0].clicks == 1 and hours.points[6].clicks == 1

    async def test_presets_move_with_the_clock(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys, clock: FrozenClock
    ) -> None:
        link = await create_link(http, space, "p1")
        await visit(runtime, space.id, link, T0 + HOUR)
        assert (await report(runtime, space, "funnel", preset="today")).steps[0].count == 1
        clock.advance(DAY)
        assert (await report(runtime, space, "funnel", preset="today")).steps[0].count == 0
        assert (await report(runtime, space, "funnel", preset="yesterday")).steps[0].count == 1
        clock.advance(7 * DAY)
        assert (await report(runtime, space, "funnel", preset="7d")).steps[0].count == 0
        assert (await report(runtime, space, "funnel", preset="30d")).steps[0].count == 1
        custom = await report(
            runtime, space, "funnel", preset="custom", start="2025-12-11", end="2025-12-11"
        )
        assert custom.steps[0].count == 1


class TestDateRange:
    def test_presets_in_utc(self) -> None:
        now = T0 + 5 * HOUR
        assert date_range("today", "UTC", now) == (T0, T0 + DAY)
        assert date_range("yesterday", "UTC", now) == (T0 - DAY, T0)
        assert date_range("7d", "UTC", now) == (T0 - 6 * DAY, T0 + DAY)
        assert date_range("30d", "UTC", now) == (T0 - 29 * DAY, T0 + DAY)

    def test_quarter_hour_offsets_and_daylight_saving(self) -> None:
        start, end = date_range("today", "Asia/Kathmandu", T0 + 5 * HOUR)
        assert start == T0 - 5 * HOUR - 45 * MIN and end - start == DAY
        # New York springs forward on 2026-03-08: that local day has 23 hours.
        start, end = date_range("custom", "America/New_York", 0, "2026-03-08", "2026-03-08")
        assert end - start == 23 * HOUR

    def test_custom_bounds_and_errors(self) -> None:
        assert date_range("custom", "UTC", T0, str(T0 + 7 * MIN), T0 + HOUR + MIN) == (
            T0,
            T0 + HOUR + 15 * MIN,
        )
        assert date_range("custom", "UTC", T0, "2025-12-11T01:00:00")[0] == T0 + HOUR
        for args in (("week", "UTC"), ("custom", "UTC"), ("today", "Mars/Base")):
            with pytest.raises(ValidationFailed):
                date_range(*args, T0)
        with pytest.raises(ValidationFailed):
            date_range("custom", "UTC", T0, "2025-12-11", "2025-12-01")
        with pytest.raises(ValidationFailed):
            date_range("custom", "UTC", T0, "yesterday-ish")


class TestOneSourceOfNumbers:
    async def test_api_cli_and_service_answer_the_same(
        self,
        runtime: Runtime,
        http: httpx.AsyncClient,
        space: SpaceKeys,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await scripted(runtime, http, space)
        url = settings.database.sqlalchemy_url.replace("+aiosqlite", "").replace("+asyncpg", "")
        monkeypatch.setenv("XTRACKER_DATABASE_URL", url)
        monkeypatch.setenv("XTRACKER_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("XTRACKER_SECRET_KEY", "test-secret-key")
        window = {"preset": "custom", "start": "2025-12-11", "end": "2025-12-11"}
        flags = ["--preset", "custom", "--start", "2025-12-11", "--end", "2025-12-11"]
        runner = CliRunner()
        for kind, cli, extra in (
            ("funnel", ["funnel"], {}),
            ("attribution", ["links", "--by", "ad"], {"group_by": "ad"}),
            ("timeseries", ["timeseries", "--bucket", "hour"], {"bucket": "hour"}),
        ):
            api = await http.get(
                f"/api/spaces/{space.slug}/reports/{kind}",
                params={**window, **extra},
                headers=space.auth,
            )
            assert api.status_code == 200, api.text
            result = await asyncio.to_thread(
                runner.invoke, cli_app, ["report", *cli, "--space", space.slug, *flags, "--json"]
            )
            assert result.exit_code == 0, result.output
            direct = await report(runtime, space, kind, **window, **extra)
            assert api.json() == json.loads(result.stdout) == direct.model_dump(mode="json")
        table = await asyncio.to_thread(
            runner.invoke, cli_app, ["report", "funnel", "--space", space.slug, *flags]
        )
        assert table.exit_code == 0 and "biggest cliff" in table.stdout

    async def test_every_report_endpoint_answers(
        self, runtime: Runtime, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        await scripted(runtime, http, space)
        for kind in ("funnel", "timeseries", "attribution", "countries", "deliveries", "live"):
            answer = await http.get(f"/api/spaces/{space.slug}/reports/{kind}", headers=space.auth)
            assert answer.status_code == 200, (kind, answer.text)
        refused = await http.get(f"/api/spaces/{space.slug}/reports/funnel")
        assert refused.status_code == 401
        bad = await http.get(
            f"/api/spaces/{space.slug}/reports/funnel?preset=week", headers=space.auth
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "preset"
