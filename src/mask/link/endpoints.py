from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mask.auth.dependencies import LinksRead, LinksWrite
from mask.dependencies import ContextDep, SessionDep
from mask.kit.schemas import error_responses
from mask.link import service as link_service
from mask.link.schemas import Link, LinkCreate, LinkPage, LinkUpdate

router = APIRouter(prefix="/links", tags=["Links"])


@router.post(
    "",
    status_code=201,
    response_model=Link,
    responses=error_responses(400, 403, 409, 422),
    summary="Create a link",
    description="Scope: `links:write`. A taken slug on the domain is `409`.",
)
async def create_link(body: LinkCreate, auth: LinksWrite, session: SessionDep, context: ContextDep) -> Link:
    view = await link_service.create(session, settings=context.settings, workspace_id=auth.workspace_id, data=body)
    return link_service.to_schema(view)


@router.get(
    "",
    response_model=LinkPage,
    responses=error_responses(403, 422),
    summary="List links, newest first",
    description="Scope: `links:read`. Cursor pagination.",
)
async def list_links(
    auth: LinksRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    domain: Annotated[str | None, Query(max_length=253)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Search in URL and slug")] = None,
    created_by: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^(me|usr_[0-9A-Za-z]{22}|key_[0-9A-Za-z]{22})$",
            description="`me`: links of the member who made this key (or of this key, for a key made with the "
            "CLI); or a `usr_…` / `key_…` id.",
        ),
    ] = None,
) -> LinkPage:
    if created_by == "me":
        created_by = auth.key.created_by or auth.key.id
    views, next_cursor = await link_service.list_page(
        session,
        workspace_id=auth.workspace_id,
        limit=limit,
        cursor=cursor,
        domain=domain,
        tag=tag,
        query=q,
        created_by=created_by,
    )
    return LinkPage(
        data=[link_service.to_schema(view) for view in views], has_more=next_cursor is not None, next_cursor=next_cursor
    )


@router.get(
    "/{link_id}",
    response_model=Link,
    responses=error_responses(403, 404),
    summary="Get a link",
    description="Scope: `links:read`.",
)
async def get_link(link_id: str, auth: LinksRead, session: SessionDep) -> Link:
    return link_service.to_schema(await link_service.get(session, workspace_id=auth.workspace_id, link_id=link_id))


@router.patch(
    "/{link_id}",
    response_model=Link,
    responses=error_responses(400, 403, 404, 409, 422),
    summary="Update a link",
    description="Scope: `links:write`. `null` clears an optional field.",
)
async def update_link(
    link_id: str, body: LinkUpdate, auth: LinksWrite, session: SessionDep, context: ContextDep
) -> Link:
    view = await link_service.update(
        session, settings=context.settings, workspace_id=auth.workspace_id, link_id=link_id, data=body
    )
    return link_service.to_schema(view)


@router.delete(
    "/{link_id}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Delete a link",
    description="Scope: `links:write`.",
)
async def delete_link(link_id: str, auth: LinksWrite, session: SessionDep) -> Response:
    await link_service.delete(session, workspace_id=auth.workspace_id, link_id=link_id)
    return Response(status_code=204)
