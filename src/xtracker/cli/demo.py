"""``xtracker demo``: a space full of realistic traffic, so the dashboard has a story to tell."""

from __future__ import annotations

import typer
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xtracker.cli.common import JSON_OPTION, console, emit_json, run, runtime
from xtracker.db.engine import session_scope
from xtracker.demo.seed import DemoSpace, create_demo_space, fill_history, plan_history, run_live
from xtracker.report import schemas, service
from xtracker.runtime import Runtime
from xtracker.space.service import space_service


def demo(
    live: bool = typer.Option(False, "--live", help="Keep traffic flowing after the fill."),
    days: int = typer.Option(30, min=0, max=90, help="Days of history to fill."),
    clicks_per_day: int = typer.Option(1500, min=0, help="Average clicks a day (it grows)."),
    name: str = typer.Option("Demo", help="Name of the demo space."),
    timezone: str = typer.Option("Asia/Kolkata", help="The space's timezone."),
    live_clicks_per_minute: float = typer.Option(90, help="--live: clicks a minute."),
    live_speed: float = typer.Option(
        120, help="--live: how many times faster than life a visitor moves down the funnel."
    ),
    live_seconds: float | None = typer.Option(None, help="--live: stop after this long."),
    seed: int = typer.Option(7, help="Random seed: the same seed, the same month."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a demo space (credentials printed once) with 30 days of realistic traffic."""

    async def body() -> None:
        async with runtime() as rt:
            made = await create_demo_space(rt, name, timezone)
            if not as_json:
                _credentials(made)
            now = rt.clock.now_ms()
            planned = len(plan_history(made, timezone, now, days, clicks_per_day, seed))
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=as_json,
                transient=False,
            ) as progress:
                task = progress.add_task(f"Writing {days} days of traffic", total=planned)
                counts = await fill_history(
                    rt,
                    made,
                    days=days,
                    per_day=clicks_per_day,
                    seed=seed,
                    progress=lambda n: progress.advance(task, n),
                    now_ms=now,
                )
            async with session_scope(rt.sessions) as session:
                space = await space_service.get(session, made.slug)
                f = await service.make_filter(
                    session, space, now_ms=rt.clock.now_ms(), preset="30d"
                )
                funnel = await service.funnel(session, f)
            if as_json:
                emit_json(
                    {
                        "space": {"id": made.space_id, "slug": made.slug},
                        "bearer": made.bearer,
                        "ingest_token": made.ingest_token,
                        "user": made.user_email,
                        "password": made.user_password,
                        "written": counts,
                        "funnel_30d": funnel,
                    }
                )
            else:
                _summary(funnel)
            if live:
                await _live(rt, made, live_clicks_per_minute, live_speed, live_seconds, as_json)

    try:
        run(body)
    except KeyboardInterrupt:  # --live runs until stopped
        console.print("Stopped.")


def _credentials(made: DemoSpace) -> None:
    console.print(f"[bold green]Demo space created:[/] {made.slug}")
    console.print(f"Bearer secret:  [bold]{made.bearer}[/]")
    console.print(f"Ingest token:   [bold]{made.ingest_token}[/]")
    if made.user_email and made.user_password:
        console.print(f"Dashboard user: [bold]{made.user_email}[/] / [bold]{made.user_password}[/]")
    elif made.user_email:
        console.print(f"Dashboard user: [bold]{made.user_email}[/] (existing; now an owner here)")
    console.print("[yellow]Store them now: they are shown only once.[/]")


def _summary(funnel: schemas.Funnel) -> None:
    table = Table(title="Last 30 days")
    table.add_column("step")
    table.add_column("count", justify="right")
    table.add_column("from previous", justify="right")
    for step in funnel.steps:
        rate = step.rate_from_previous
        table.add_row(step.step, f"{step.count:,}", "" if rate is None else f"{rate * 100:.1f}%")
    console.print(table)
    console.print(
        f"Revenue [bold]{funnel.revenue.amount} {funnel.revenue.currency}[/], EPC {funnel.epc}"
    )


async def _live(
    rt: Runtime,
    made: DemoSpace,
    per_minute: float,
    speed: float,
    seconds: float | None,
    quiet: bool,
) -> None:
    if not quiet:
        console.print(
            f"[bold]Live traffic[/] into {made.slug}: ~{per_minute:g} clicks a minute"
            " (Ctrl-C stops it). Open the dashboard's ops deck to watch it move."
        )
    with Live(console=console, transient=False, auto_refresh=False) as board:

        def tick(totals: dict[str, int]) -> None:
            if not quiet:
                board.update(
                    f"clicks {totals['click']:,} · events {totals['event']:,}"
                    f" · telegram binds {totals['bind']:,}",
                    refresh=True,
                )

        await run_live(
            rt, made, clicks_per_minute=per_minute, speed=speed, duration_s=seconds, on_tick=tick
        )
