from __future__ import annotations

from fastapi import APIRouter

from mask.auth.dependencies import LinksRead
from mask.dependencies import SessionDep
from mask.kit.schemas import error_responses
from mask.tag import service as tag_service
from mask.tag.schemas import TagList

router = APIRouter(prefix="/tags", tags=["Tags"])


@router.get(
    "",
    response_model=TagList,
    responses=error_responses(403),
    summary="List tags with link counts",
    description="Scope: `links:read`.",
)
async def list_tags(auth: LinksRead, session: SessionDep) -> TagList:
    return TagList(data=await tag_service.list_with_counts(session, workspace_id=auth.workspace_id))
