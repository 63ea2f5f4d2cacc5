"""Management API: reports (the same numbers as the dashboard and the CLI)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.engine import session_scope
from xtracker.report import schemas, service
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}/reports", tags=["reports"])

PRESET = Query("7d", description="today, yesterday, 7d, 30d or custom (the space's timezone)")
START = Query(None, description="custom range start: YYYY-MM-DD, ISO datetime or epoch ms")
END = Query(None, description="custom range end: YYYY-MM-DD (inclusive), ISO datetime or ms")
LINK = Query(None, description="only this link (slug or id)")
CAMPAIGN = Query(None, description="only this campaign (campaign_id or campaign_name)")


@dataclass
class RangeParams:
    """The date range every report takes (a FastAPI dependency: its fields are query params)."""

    preset: str = PRESET
    start: str | None = START
    end: str | None = END


@dataclass
class FilterParams(RangeParams):
    link: str | None = LINK
    campaign: str | None = CAMPAIGN


async def _report(
    request: Request,
    access: SpaceAccess,
    params: RangeParams,
    call: Callable[[AsyncSession, schemas.ReportFilter], Awaitable[Any]],
) -> Any:
    """Resolve the filter and run the report in one session."""
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        f = await service.make_filter(
            session,
            access.space,
            now_ms=rt.clock.now_ms(),
            preset=params.preset,
            start=params.start,
            end=params.end,
            link=getattr(params, "link", None),
            campaign=getattr(params, "campaign", None),
        )
        return await call(session, f)


@router.get("/funnel", response_model=schemas.Funnel, summary="Conversion funnel")
async def funnel(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    params: FilterParams = Depends(),
) -> schemas.Funnel:
    result: schemas.Funnel = await _report(request, access, params, service.funnel)
    return result


@router.get("/timeseries", response_model=schemas.Timeseries, summary="Clicks, events, revenue")
async def timeseries(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    params: FilterParams = Depends(),
    bucket: str = Query("day", description="hour or day (local to the space)"),
) -> schemas.Timeseries:
    result: schemas.Timeseries = await _report(
        request, access, params, lambda s, f: service.timeseries(s, f, bucket)
    )
    return result


@router.get(
    "/attribution",
    response_model=schemas.Attribution,
    summary="Per link, ad or campaign (format=csv for a spreadsheet)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def attribution(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    params: FilterParams = Depends(),
    group_by: str = Query("link", description="link, ad or campaign"),
    sort: str = Query("clicks", description="a column of the rows"),
    order: str = Query("desc", description="asc or desc"),
    format: str = Query("json", description="json or csv"),
) -> Any:
    report: schemas.Attribution = await _report(
        request, access, params, lambda s, f: service.attribution(s, f, group_by, sort, order)
    )
    if format == "csv":
        name = f"{access.space.slug}-{group_by}-attribution.csv"
        return Response(
            service.attribution_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return report


@router.get("/countries", response_model=schemas.Countries, summary="By country (world map)")
async def countries(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    params: FilterParams = Depends(),
    metric: str = Query("clicks", description="clicks, deposits or revenue"),
) -> schemas.Countries:
    result: schemas.Countries = await _report(
        request, access, params, lambda s, f: service.countries(s, f, metric)
    )
    return result


@router.get("/deliveries", response_model=schemas.Deliveries, summary="Delivery matrix")
async def deliveries(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    params: RangeParams = Depends(),
) -> schemas.Deliveries:
    result: schemas.Deliveries = await _report(request, access, params, service.deliveries)
    return result


@router.get("/live", response_model=schemas.LiveFeed, summary="Newest clicks and events")
async def live(
    request: Request,
    access: SpaceAccess = Depends(space_access),
    after: str | None = Query(None, description="the cursor of a previous answer"),
    limit: int = Query(50, ge=1, le=500),
) -> schemas.LiveFeed:
    async with session_scope(runtime_of(request).sessions) as session:
        return await service.live_feed(session, access.space.id, after, limit)
