"""``xtracker report``: the funnel, the attribution table and the time series in a terminal.

The numbers come from the same report service as the dashboard and the management API;
``--json`` prints exactly what ``GET /api/spaces/{space}/reports/...`` answers.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.cli.common import JSON_OPTION, console, emit_json, run, runtime
from xtracker.db.engine import session_scope
from xtracker.report import schemas, service
from xtracker.space.service import space_service

report_app = typer.Typer(
    help="Reports: funnel, per-link attribution, time series.", no_args_is_help=True
)

SPACE = typer.Option(..., "--space", "-s", help="Space slug or id.")
PRESET = typer.Option("7d", help="today, yesterday, 7d, 30d or custom (space's timezone).")
START = typer.Option(None, help="Custom range start: YYYY-MM-DD, ISO datetime or epoch ms.")
END = typer.Option(None, help="Custom range end: YYYY-MM-DD (inclusive), ISO datetime or ms.")
LINK = typer.Option(None, help="Only this link (slug or id).")
CAMPAIGN = typer.Option(None, help="Only this campaign (campaign_id or campaign_name).")


def _report(
    space: str,
    preset: str,
    start: str | None,
    end: str | None,
    link: str | None,
    campaign: str | None,
    call: Callable[[AsyncSession, schemas.ReportFilter], Awaitable[Any]],
) -> Any:
    async def body() -> Any:
        async with runtime() as rt, session_scope(rt.sessions) as session:
            found = await space_service.get(session, space)
            f = await service.make_filter(
                session,
                found,
                now_ms=rt.clock.now_ms(),
                preset=preset,
                start=start,
                end=end,
                link=link,
                campaign=campaign,
            )
            return await call(session, f)

    return run(body)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@report_app.command("funnel")
def funnel(
    space: str = SPACE,
    preset: str = PRESET,
    start: str | None = START,
    end: str | None = END,
    link: str | None = LINK,
    campaign: str | None = CAMPAIGN,
    as_json: bool = JSON_OPTION,
) -> None:
    """click → contact → subscribed → registration → deposit, with drop-off."""
    report: schemas.Funnel = _report(space, preset, start, end, link, campaign, service.funnel)
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"Funnel ({report.range.preset}, {report.range.timezone})")
    for column in ("step", "count", "from previous", "from click", "drop-off"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step in report.steps:
        name = f"[bold red]{step.step} ◀ biggest cliff[/]" if step.biggest_cliff else step.step
        table.add_row(
            name,
            f"{step.count:,}",
            _pct(step.rate_from_previous),
            _pct(step.rate_from_click),
            "" if step.step == "click" else f"{step.drop_off:,} ({_pct(step.drop_off_rate)})",
        )
    console.print(table)
    console.print(
        f"Revenue [bold]{report.revenue.amount} {report.revenue.currency}[/]  ·  "
        f"EPC {report.epc}  ·  conflicts {report.conflicts}"
    )
    others = [m for m in report.revenue_by_currency if m.currency != report.revenue.currency]
    if others:
        console.print("Other currencies: " + ", ".join(f"{m.amount} {m.currency}" for m in others))


@report_app.command("links")
def links(
    space: str = SPACE,
    preset: str = PRESET,
    start: str | None = START,
    end: str | None = END,
    link: str | None = LINK,
    campaign: str | None = CAMPAIGN,
    by: str = typer.Option("link", help="Group by link, ad or campaign."),
    sort: str = typer.Option(
        "clicks", help="Sort column (clicks, deposit, revenue_cents, epc_cents …)."
    ),
    order: str = typer.Option("desc", help="asc or desc."),
    csv: bool = typer.Option(False, "--csv", help="Print CSV (as the API's format=csv)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Per-link (or per-ad, per-campaign) attribution: clicks, events, revenue, EPC."""

    async def call(session: AsyncSession, f: schemas.ReportFilter) -> schemas.Attribution:
        return await service.attribution(session, f, by, sort, order)

    report: schemas.Attribution = _report(space, preset, start, end, link, campaign, call)
    if as_json:
        emit_json(report)
        return
    if csv:
        sys.stdout.write(service.attribution_csv(report))
        return
    table = Table(title=f"Attribution by {report.group_by} ({report.range.preset})")
    columns = (
        by,
        "clicks",
        "contact",
        "subscribed",
        "registration",
        "deposit",
        f"revenue {report.currency}",
        "click→dep",
        "EPC",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == by else "right")
    for row in [*report.rows, report.totals]:
        label = row.key if row is not report.totals else "[bold]total[/]"
        if row.link_name and row.link_name != row.key:
            label = f"{row.key} ({row.link_name})"
        table.add_row(
            label,
            f"{row.clicks:,}",
            f"{row.contact:,}",
            f"{row.subscribed:,}",
            f"{row.registration:,}",
            f"{row.deposit:,}",
            row.revenue,
            _pct(row.click_to_deposit),
            row.epc,
        )
    console.print(table)


@report_app.command("timeseries")
def timeseries(
    space: str = SPACE,
    preset: str = PRESET,
    start: str | None = START,
    end: str | None = END,
    link: str | None = LINK,
    campaign: str | None = CAMPAIGN,
    bucket: str = typer.Option("day", help="hour or day (local to the space)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Clicks, each event and revenue per hour or day."""

    async def call(session: AsyncSession, f: schemas.ReportFilter) -> schemas.Timeseries:
        return await service.timeseries(session, f, bucket)

    report: schemas.Timeseries = _report(space, preset, start, end, link, campaign, call)
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"Per {report.bucket} ({report.range.preset}, {report.range.timezone})")
    for column in (
        "start",
        "clicks",
        "contact",
        "subscribed",
        "registration",
        "deposit",
        f"revenue {report.currency}",
    ):
        table.add_column(column, justify="left" if column == "start" else "right")
    for p in report.points:
        label = p.label[:10] if report.bucket == "day" else p.label[:16].replace("T", " ")
        table.add_row(
            label,
            f"{p.clicks:,}",
            f"{p.contact:,}",
            f"{p.subscribed:,}",
            f"{p.registration:,}",
            f"{p.deposit:,}",
            p.revenue,
        )
    console.print(table)
