"""``xtracker``: serve, migrate, and one sub-command group per domain."""

from __future__ import annotations

import os

import typer

from xtracker import __version__
from xtracker.cli.alert import alert_app
from xtracker.cli.common import JSON_OPTION, console, emit_json, settings
from xtracker.cli.core import clicks_app, events_app, key_app, link_app, space_app
from xtracker.cli.delivery import deliveries_app, destination_app, worker
from xtracker.cli.demo import demo
from xtracker.cli.domain import domain_app
from xtracker.cli.report import report_app
from xtracker.cli.telegram import telegram_app
from xtracker.cli.user import user_app
from xtracker.db.migrate import upgrade
from xtracker.ops.logging import configure_logging

app = typer.Typer(
    name="xtracker",
    help="XTRACKER — self-hosted conversion tracker for Telegram funnels and affiliate offers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(space_app, name="space")
app.add_typer(key_app, name="key")
app.add_typer(link_app, name="link")
app.add_typer(events_app, name="events")
app.add_typer(clicks_app, name="clicks")
app.add_typer(report_app, name="report")
app.command("demo")(demo)
app.add_typer(destination_app, name="destination")
app.add_typer(deliveries_app, name="deliveries")
app.command("worker")(worker)
app.add_typer(domain_app, name="domain")
app.add_typer(alert_app, name="alert")
app.add_typer(user_app, name="user")
app.add_typer(telegram_app, name="telegram")


@app.command()
def version(as_json: bool = JSON_OPTION) -> None:
    """Print the version."""
    if as_json:
        emit_json({"version": __version__})
        return
    console.print(__version__)


@app.command()
def migrate(as_json: bool = JSON_OPTION) -> None:
    """Bring the database schema up to date."""
    s = settings()
    upgrade(s)
    if as_json:
        emit_json({"ok": True, "dialect": s.database.dialect})
        return
    console.print(f"[green]Database is up to date[/] ({s.database.dialect}).")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, help="Server processes: 1 on SQLite (one writer), one per core on PostgreSQL."
    ),
    server: str = typer.Option("granian", help="granian (default) or uvicorn."),
) -> None:
    """Run landings, the ingress and management APIs (and the delivery worker) in one process."""
    s = settings()
    configure_logging(s.log_level, s.log_format)
    upgrade(s)  # an empty database needs nothing else before the first run
    if "XTRACKER_PUBLIC_URL" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only
        os.environ["XTRACKER_PUBLIC_URL"] = f"http://{shown}:{port}"
    console.print(
        f"[bold]XTRACKER[/] {__version__} on http://{host}:{port} "
        f"({s.database.dialect}, {workers} worker{'s' if workers != 1 else ''})"
    )
    target = "xtracker.app:create_app_from_env"
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(target, factory=True, host=host, port=port, workers=workers,
                    loop="uvloop", http="httptools", access_log=False, lifespan="on")  # fmt: skip
        return
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    Granian(
        target, address=host, port=port, interface=Interfaces.ASGI, workers=workers,
        loop=Loops.uvloop, factory=True, websockets=False, log_access=False,
        http=HTTPModes.http1,  # TLS ends at the proxy in front; no h2c sniffing per connection
    ).serve()  # fmt: skip


def run() -> None:
    app()
