"""The one list of what the server is made of: management routers and per-process set-up.

Each capability adds its router here and, if it runs background loops or registers landing
resolvers, an ``install(runtime, role)`` function. ``role`` is "serve" or "worker".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from xtracker.alert import tasks as alert_tasks
from xtracker.alert.endpoints import router as alert_router
from xtracker.click import retention as click_retention
from xtracker.click.endpoints import router as click_router
from xtracker.dashboard.deck import router as deck_router
from xtracker.dashboard.destinations import router as dashboard_destinations_router
from xtracker.dashboard.pages import router as dashboard_router
from xtracker.dashboard.settings import router as dashboard_settings_router
from xtracker.destination.endpoints import router as destination_router
from xtracker.domain import tasks as domain_tasks
from xtracker.domain.endpoints import router as domain_router
from xtracker.event.endpoints import router as event_router
from xtracker.link.endpoints import router as link_router
from xtracker.ops.metrics import router as metrics_router
from xtracker.outbox import retention as attempt_retention
from xtracker.outbox.endpoints import router as delivery_router
from xtracker.report.endpoints import router as report_router
from xtracker.runtime import Runtime
from xtracker.space.endpoints import router as space_router
from xtracker.telegram import tasks as telegram_tasks
from xtracker.telegram.endpoints import router as telegram_router
from xtracker.telegram.endpoints import webhook_router as telegram_webhook_router
from xtracker.user import access as user_access
from xtracker.user.endpoints import router as user_router
from xtracker.worker import tasks as delivery_tasks

Installer = Callable[[Runtime, str], Awaitable[None]]


def routers() -> list[APIRouter]:
    api = [space_router, link_router, event_router, click_router, user_router]
    delivery = [destination_router, delivery_router]
    dashboard = [dashboard_router, deck_router, dashboard_destinations_router,
                 dashboard_settings_router]  # fmt: skip
    telegram = [telegram_router, telegram_webhook_router]
    others = [domain_router, alert_router, report_router, metrics_router]
    return [*delivery, *api, *dashboard, *others, *telegram]


def installers() -> list[Installer]:
    return [
        click_retention.install,
        attempt_retention.install,
        telegram_tasks.install,
        delivery_tasks.install,
        user_access.install,
        domain_tasks.install,
        alert_tasks.install,
    ]


async def install_all(runtime: Runtime, role: str) -> None:
    for install in installers():
        await install(runtime, role)
