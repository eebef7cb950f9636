from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mask.auth.dependencies import BioPagesRead, BioPagesWrite
from mask.bio_page import service as bio_page_service
from mask.bio_page.schemas import BioPage, BioPageCreate, BioPagePage, BioPageUpdate
from mask.dependencies import ContextDep, SessionDep
from mask.kit.schemas import CURSOR_SCHEMA, error_responses

pages = APIRouter(prefix="/bio-pages", tags=["Bio pages"])


@pages.post(
    "",
    status_code=201,
    response_model=BioPage,
    responses=error_responses(400, 403, 409, 422),
    summary="Create a bio page",
    description="Scope: `bio_pages:write`. A taken handle on the domain is `409`. The page is public "
    "at `url` (`https://<domain>/@<handle>`) unless `published` is false.",
)
async def create_bio_page(
    body: BioPageCreate, auth: BioPagesWrite, session: SessionDep, context: ContextDep
) -> BioPage:
    view = await bio_page_service.create(session, settings=context.settings, workspace_id=auth.workspace_id, data=body)
    return bio_page_service.to_schema(view)


@pages.get(
    "",
    response_model=BioPagePage,
    responses=error_responses(403, 422),
    summary="List bio pages, newest first",
    description="Scope: `bio_pages:read`. Cursor pagination.",
)
async def list_bio_pages(
    auth: BioPagesRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page", json_schema_extra=CURSOR_SCHEMA),
    ] = None,
    domain: Annotated[str | None, Query(max_length=253)] = None,
) -> BioPagePage:
    views, next_cursor = await bio_page_service.list_page(
        session, workspace_id=auth.workspace_id, limit=limit, cursor=cursor, domain=domain
    )
    return BioPagePage(
        data=[bio_page_service.to_schema(view) for view in views],
        has_more=next_cursor is not None,
        next_cursor=next_cursor,
    )


@pages.get(
    "/{bio_page_id}",
    response_model=BioPage,
    responses=error_responses(403, 404),
    summary="Get a bio page",
    description="Scope: `bio_pages:read`.",
)
async def get_bio_page(bio_page_id: str, auth: BioPagesRead, session: SessionDep) -> BioPage:
    view = await bio_page_service.get(session, workspace_id=auth.workspace_id, page_id=bio_page_id)
    return bio_page_service.to_schema(view)


@pages.patch(
    "/{bio_page_id}",
    response_model=BioPage,
    responses=error_responses(400, 403, 404, 409, 422),
    summary="Update a bio page",
    description="Scope: `bio_pages:write`. `blocks` replaces the list: blocks sent with their `id` are "
    "kept (with their clicks), blocks without one are new, blocks left out are removed.",
)
async def update_bio_page(
    bio_page_id: str, body: BioPageUpdate, auth: BioPagesWrite, session: SessionDep, context: ContextDep
) -> BioPage:
    view = await bio_page_service.update(
        session, settings=context.settings, workspace_id=auth.workspace_id, page_id=bio_page_id, data=body
    )
    return bio_page_service.to_schema(view)


@pages.delete(
    "/{bio_page_id}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Delete a bio page",
    description="Scope: `bio_pages:write`. Its public page answers 404.",
)
async def delete_bio_page(bio_page_id: str, auth: BioPagesWrite, session: SessionDep) -> Response:
    await bio_page_service.delete(session, workspace_id=auth.workspace_id, page_id=bio_page_id)
    return Response(status_code=204)


router = APIRouter()
router.include_router(pages)
