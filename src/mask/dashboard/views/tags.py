"""Tags: create, rename, recolour, merge and delete through mask.tag.service (the API's rules)."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.kit.errors import MaskError
from mask.tag import service as tag_service
from mask.tag.schemas import TagCreate, TagUpdate
from mask.workspace.permissions import Permission


async def _render(page: Page, *, status: int = 200, errors: dict[str, str] | None = None, failed: str = "") -> Response:
    tags = await tag_service.list_with_counts(page.db, workspace_id=page.ws.workspace.id)
    return page.render(
        "tags.html", status=status, tags=tags, colors=tag_service.COLORS, errors=errors or {}, failed=failed
    )


@view(workspace=True, permission=Permission.links_read)
async def list_tags(page: Page) -> Response:
    return await _render(page)


@view(workspace=True, permission=Permission.tags_write)
async def create_tag(page: Page) -> Response:
    try:
        data = TagCreate(name=await page.field("name"), color=await page.field("color") or None)
        await tag_service.create(page.db, workspace_id=page.ws.workspace.id, data=data)
    except (MaskError, ValidationError) as error:
        status = 422 if isinstance(error, ValidationError) else error.status_code
        raise Rerender(await _render(page, status=status, errors=field_errors(error), failed="new")) from error
    return page.redirect(f"{page.base}/tags", done="tag-created")


@view(workspace=True, permission=Permission.tags_write)
async def update_tag(page: Page) -> Response:
    tag_id = page.request.path_params["tag_id"]
    merge = await page.field("merge") == "1"
    try:
        data = TagUpdate(name=await page.field("name") or None, color=await page.field("color") or None, merge=merge)
        await tag_service.update(page.db, workspace_id=page.ws.workspace.id, tag_id=tag_id, data=data)
    except (MaskError, ValidationError) as error:
        if isinstance(error, tag_service.TagNotFound):
            raise
        status = 422 if isinstance(error, ValidationError) else error.status_code
        raise Rerender(await _render(page, status=status, errors=field_errors(error), failed=tag_id)) from error
    return page.redirect(f"{page.base}/tags", done="tag-merged" if merge else "tag-saved")


@view(workspace=True, permission=Permission.tags_write)
async def delete_tag(page: Page) -> Response:
    await tag_service.delete(page.db, workspace_id=page.ws.workspace.id, tag_id=page.request.path_params["tag_id"])
    return page.redirect(f"{page.base}/tags", done="tag-deleted")
