"""Installs the delivery loop: in ``xtracker worker``, and in ``xtracker serve`` when
``XTRACKER_RUN_WORKER_IN_SERVE`` is on (the one-machine set-up)."""

from __future__ import annotations

from xtracker.runtime import Runtime
from xtracker.worker.delivery import DeliveryWorker


async def install(runtime: Runtime, role: str) -> None:
    if role == "serve" and not runtime.settings.run_worker_in_serve:
        return
    if role not in ("serve", "worker"):
        return
    worker = DeliveryWorker(runtime)
    runtime.extras["delivery_worker"] = worker
    runtime.start_background("outbox.deliver", worker.run)
