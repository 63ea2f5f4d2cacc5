"""Management API: destinations and their event maps."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from xtracker.db.engine import session_scope
from xtracker.destination import schemas
from xtracker.destination.repository import destination_repository
from xtracker.destination.service import destination_service, to_schema
from xtracker.space.access import SpaceAccess, runtime_of, space_access

router = APIRouter(prefix="/api/spaces/{space}/destinations", tags=["destinations"])


@router.get("", response_model=list[schemas.Destination], summary="List destinations")
async def list_destinations(
    request: Request, access: SpaceAccess = Depends(space_access)
) -> list[schemas.Destination]:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        found = await destination_service.list(session, access.space.id)
        return await destination_service.schemas_for(session, rt.secrets, found)


@router.post(
    "", response_model=schemas.DestinationCreated, status_code=201,
    summary="Add a destination (a webhook's whsec_ signing secret is shown only here)",
)  # fmt: skip
async def create_destination(
    data: schemas.DestinationCreate, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.DestinationCreated:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        destination, secret = await destination_service.create(
            session, rt.secrets, access.space.id, data, rt.clock.now_ms(),
            allow_private=rt.settings.allow_private_targets,
        )  # fmt: skip
    shown = to_schema(destination, rt.secrets)
    return schemas.DestinationCreated(**shown.model_dump(), secret=secret)


@router.get("/{destination_id}", response_model=schemas.Destination, summary="One destination")
async def get_destination(
    destination_id: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> schemas.Destination:
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        destination = await destination_service.get(session, access.space.id, destination_id)
        circuits = await destination_repository.circuits(session, [destination.id])
        return to_schema(destination, rt.secrets, circuits.get(destination.id))


@router.patch(
    "/{destination_id}", response_model=schemas.DestinationCreated,
    summary="Edit a destination (event_map entries merge; null unmaps)",
)  # fmt: skip
async def update_destination(
    destination_id: str,
    data: schemas.DestinationUpdate,
    request: Request,
    access: SpaceAccess = Depends(space_access),
) -> schemas.DestinationCreated:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        destination = await destination_service.get(session, access.space.id, destination_id)
        secret = await destination_service.update(
            session, rt.secrets, destination, data, rt.clock.now_ms(),
            allow_private=rt.settings.allow_private_targets,
        )  # fmt: skip
        circuits = await destination_repository.circuits(session, [destination.id])
        shown = to_schema(destination, rt.secrets, circuits.get(destination.id))
    return schemas.DestinationCreated(**shown.model_dump(), secret=secret)


@router.delete(
    "/{destination_id}", status_code=204,
    summary="Remove a destination (its undelivered events fail permanently)",
)  # fmt: skip
async def delete_destination(
    destination_id: str, request: Request, access: SpaceAccess = Depends(space_access)
) -> Response:
    access.require_owner()
    rt = runtime_of(request)
    async with session_scope(rt.sessions) as session:
        destination = await destination_service.get(session, access.space.id, destination_id)
        await destination_service.delete(session, destination, rt.clock.now_ms())
    return Response(status_code=204)
