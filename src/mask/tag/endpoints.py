from __future__ import annotations

from fastapi import APIRouter, Response

from mask.auth.dependencies import LinksRead, TagsWrite
from mask.dependencies import SessionDep
from mask.kit.schemas import error_responses
from mask.tag import service as tag_service
from mask.tag.schemas import Tag, TagCreate, TagList, TagUpdate

router = APIRouter(prefix="/tags", tags=["Tags"])


@router.get(
    "",
    response_model=TagList,
    responses=error_responses(403),
    summary="List tags with link counts",
    description="Scope: `links:read`. Every tag of the workspace, by name.",
)
async def list_tags(auth: LinksRead, session: SessionDep) -> TagList:
    return TagList(data=await tag_service.list_with_counts(session, workspace_id=auth.workspace_id))


@router.post(
    "",
    status_code=201,
    response_model=Tag,
    responses=error_responses(403, 409, 422),
    summary="Create a tag",
    description="Scope: `tags:write`. A name the workspace already has is `409 tag_exists`. (Links also create "
    "their tags as they use them.)",
)
async def create_tag(body: TagCreate, auth: TagsWrite, session: SessionDep) -> Tag:
    return await tag_service.create(session, workspace_id=auth.workspace_id, data=body)


@router.get(
    "/{tag_id}",
    response_model=Tag,
    responses=error_responses(403, 404),
    summary="Get a tag",
    description="Scope: `links:read`.",
)
async def get_tag(tag_id: str, auth: LinksRead, session: SessionDep) -> Tag:
    return await tag_service.get(session, workspace_id=auth.workspace_id, tag_id=tag_id)


@router.patch(
    "/{tag_id}",
    response_model=Tag,
    responses=error_responses(403, 404, 409, 422),
    summary="Rename, recolour or merge a tag",
    description="Scope: `tags:write`. Renaming to the name of another tag is `409 tag_exists`, unless "
    "`merge: true`: then every link of this tag gets the other tag, this tag is deleted, and the answer is the "
    "other tag. Analytics filters and breakdowns by tag follow the links' tags as they are now.",
)
async def update_tag(tag_id: str, body: TagUpdate, auth: TagsWrite, session: SessionDep) -> Tag:
    return await tag_service.update(session, workspace_id=auth.workspace_id, tag_id=tag_id, data=body)


@router.delete(
    "/{tag_id}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Delete a tag",
    description="Scope: `tags:write`. The tag is removed from its links; the links themselves stay.",
)
async def delete_tag(tag_id: str, auth: TagsWrite, session: SessionDep) -> Response:
    await tag_service.delete(session, workspace_id=auth.workspace_id, tag_id=tag_id)
    return Response(status_code=204)
