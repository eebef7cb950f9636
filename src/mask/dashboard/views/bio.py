"""Bio pages: the list, and an editor (page settings, blocks, reordering, theme presets) beside a preview.

Every change goes through mask.bio_page.service like the API's PATCH: the editor sends the page's whole block
list (kept blocks by id) with the one change applied. The preview is the public page's own renderer
(mask.bio_page.rendering.render_page) on the saved page, so it shows exactly what visitors will see.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.responses import HTMLResponse, Response

from mask.bio_page import service as bio_page_service
from mask.bio_page import themes
from mask.bio_page.rendering import PLATFORM_LABELS, render_page
from mask.bio_page.schemas import BioPage as BioPageSchema
from mask.bio_page.schemas import BioPageCreate, BioPageUpdate
from mask.bio_page.service import BioPageView
from mask.dashboard.views.links import domain_choices
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.dashboard.wording import humanize
from mask.domain import service as domain_service
from mask.kit.errors import FieldError, MaskError, ValidationFailed
from mask.models.bio_page import BioBlock
from mask.workspace.permissions import Permission

BLOCK_TYPES = {"link": "Link button", "header": "Heading", "text": "Text", "social": "Social icon"}
PAGE_FIELDS = ("handle", "domain", "title", "description", "avatar_url", "seo_title", "seo_description", "og_image_url")
THEME_FIELDS = ("background", "text_color", "button_color", "button_text_color")
# The preview may be framed by the dashboard itself; it runs no script and loads only our stylesheets.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
BLOCK_PARAM = re.compile(r"^blocks\.(\d+)\.(\w+)")


def _block_in(block: BioBlock) -> dict[str, Any]:
    """A stored block as the service takes it back (by id, so it keeps its clicks)."""
    fields: dict[str, Any] = {"id": block.id, "type": block.type}
    if block.type == "link":
        fields.update(title=block.title or "", url=block.url or "", enabled=block.enabled)
    elif block.type in ("header", "text"):
        fields["text"] = block.text or ""
    else:
        fields.update(platform=block.platform, url=block.url or "")
    return fields


async def _block_from_form(page: Page, block_type: str) -> dict[str, Any]:
    if block_type == "link":
        return {
            "type": "link",
            "title": await page.field("title"),
            "url": (await page.field("url")).strip(),
            "enabled": await page.field("enabled") != "off",
        }
    if block_type in ("header", "text"):
        return {"type": block_type, "text": await page.field("text")}
    return {"type": "social", "platform": await page.field("platform"), "url": (await page.field("url")).strip()}


def _theme_of(stored: dict[str, Any]) -> dict[str, str]:
    return {name: str(stored.get(name) or "") for name in ("preset", "button_shape", "font", *THEME_FIELDS)}


def _page_values(schema: BioPageSchema) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(schema, name) or "" for name in PAGE_FIELDS}
    values["published"] = schema.published
    values["theme"] = _theme_of(schema.theme.model_dump())
    return values


async def _editor(
    page: Page,
    found: BioPageView,
    *,
    schema: BioPageSchema | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    block_errors: dict[str, dict[str, str]] | None = None,
    block_values: dict[str, dict[str, Any]] | None = None,
) -> Response:
    """The editor. After a refused change, `schema` is the page as it was before it (the session holds the
    half-applied change, which is rolled back) and `block_values` what was typed into the refused block."""
    schema = schema or bio_page_service.to_schema(found)
    return page.render(
        "bio/edit.html",
        status=status,
        bio=schema,
        blocks=schema.blocks,
        errors=errors or {},
        values=values or _page_values(schema),
        block_errors=block_errors or {},
        block_values=block_values or {},
        domains=await domain_choices(page),
        presets=list(themes.PRESETS),
        fonts=list(themes.FONTS),
        shapes=list(themes.BUTTON_SHAPES),
        block_types=BLOCK_TYPES,
        platforms=PLATFORM_LABELS,
        preview_version=int(schema.updated_at.timestamp() * 1000),
    )


def _split_errors(
    error: MaskError | ValidationError, blocks: list[dict[str, Any]]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Page-level errors by field, and block errors by block id (`new` for a block being added)."""
    page_errors: dict[str, str] = {}
    by_block: dict[str, dict[str, str]] = {}
    items: list[tuple[str, str]]
    if isinstance(error, ValidationError):
        items = [(".".join(str(part) for part in item["loc"]), str(item["msg"])) for item in error.errors()]
    elif isinstance(error, ValidationFailed):
        items = [(item.param, item.message) for item in error.errors]
    else:
        items = [(error.param or "__all__", error.message)]
    for param, raw in items:
        message = humanize(raw)
        found = BLOCK_PARAM.match(param)
        if found and int(found.group(1)) < len(blocks):
            key = blocks[int(found.group(1))].get("id") or "new"
            by_block.setdefault(key, {}).setdefault(found.group(2), message)
        elif param.startswith("theme."):
            page_errors.setdefault(param.replace(".", "_"), message)
        else:
            page_errors.setdefault(param.split(".", 1)[0], message)
    return page_errors, by_block


async def _load(page: Page) -> BioPageView:
    return await bio_page_service.get(
        page.db, workspace_id=page.ws.workspace.id, page_id=page.request.path_params["bio_id"]
    )


async def _save_blocks(
    page: Page, found: BioPageView, blocks: list[dict[str, Any]], *, focus: str | None = None
) -> Response:
    """Replace the page's blocks with `blocks` through the service; errors go next to their block. `focus`: the id
    of the control the editor focuses again once reloaded (the page's script reads it from the URL's fragment)."""
    before = bio_page_service.to_schema(found)
    try:
        data = BioPageUpdate.model_validate({"blocks": blocks})
        await bio_page_service.update(
            page.db, settings=page.settings, workspace_id=page.ws.workspace.id, page_id=found.page.id, data=data
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, bio_page_service.BioPageNotFound):
            raise
        page_errors, block_errors = _split_errors(error, blocks)
        typed = {block.get("id") or "new": block for block in blocks if (block.get("id") or "new") in block_errors}
        status = 422 if isinstance(error, ValidationError) else error.status_code
        raise Rerender(
            await _editor(
                page,
                found,
                schema=before,
                status=status,
                errors=page_errors,
                block_errors=block_errors,
                block_values=typed,
            )
        ) from error
    return page.see_other(f"{page.base}/bio/{found.page.id}" + (f"#{focus}" if focus else ""), notice="bio-saved")


@view(workspace=True, permission=Permission.bio_pages_read)
async def list_bio_pages(page: Page) -> Response:
    views, _ = await bio_page_service.list_page(
        page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None, domain=None
    )
    return page.render(
        "bio/list.html",
        pages=[bio_page_service.to_schema(item) for item in views],
        domains=await domain_choices(page),
        values={
            "domain": await domain_service.default_domain(
                page.db, settings=page.settings, workspace_id=page.ws.workspace.id
            )
        },
    )


@view(workspace=True, permission=Permission.bio_pages_write)
async def create_bio_page(page: Page) -> Response:
    handle, domain, title = await page.field("handle"), await page.field("domain"), await page.field("title")
    body: dict[str, Any] = {"handle": handle.strip(), "title": title.strip() or None, "domain": domain.strip() or None}
    try:
        created = await bio_page_service.create(
            page.db, settings=page.settings, workspace_id=page.ws.workspace.id, data=BioPageCreate.model_validate(body)
        )
    except (MaskError, ValidationError) as error:
        views, _ = await bio_page_service.list_page(
            page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None, domain=None
        )
        raise Rerender(
            page.render(
                "bio/list.html",
                status=422 if isinstance(error, ValidationError) else error.status_code,
                pages=[bio_page_service.to_schema(item) for item in views],
                domains=await domain_choices(page),
                errors=field_errors(error),
                values={"handle": handle, "domain": domain, "title": title},
            )
        ) from error
    return page.redirect(f"{page.base}/bio/{created.page.id}", done="bio-created")


@view(workspace=True, permission=Permission.bio_pages_read)
async def edit_bio_page(page: Page) -> Response:
    return await _editor(page, await _load(page))


async def _page_form(page: Page) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page form as the service takes it (an emptied optional field is cleared), and as typed."""
    form = {name: (await page.field(name)).strip() for name in PAGE_FIELDS}
    theme = {
        name: (await page.field(f"theme_{name}")).strip() for name in ("preset", "button_shape", "font", *THEME_FIELDS)
    }
    body: dict[str, Any] = {name: (value or None) for name, value in form.items()}
    body["handle"] = form["handle"]
    body["published"] = await page.field("published") == "on"
    body["theme"] = {name: value for name, value in theme.items() if value}
    return body, {**form, "published": body["published"], "theme": theme}


@view(workspace=True, permission=Permission.bio_pages_write)
async def save_bio_page(page: Page) -> Response:
    """The page's own fields and theme; an emptied optional field is cleared."""
    found = await _load(page)
    body, values = await _page_form(page)
    before = bio_page_service.to_schema(found)
    try:
        await bio_page_service.update(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            page_id=found.page.id,
            data=BioPageUpdate.model_validate(body),
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, bio_page_service.BioPageNotFound):
            raise
        page_errors, _ = _split_errors(error, [])
        status = 422 if isinstance(error, ValidationError) else error.status_code
        raise Rerender(
            await _editor(page, found, schema=before, status=status, errors=page_errors, values=values)
        ) from error
    return page.redirect(f"{page.base}/bio/{found.page.id}", done="bio-saved")


@view(workspace=True, permission=Permission.bio_pages_write)
async def add_block(page: Page) -> Response:
    found = await _load(page)
    block_type = await page.field("type")
    if block_type not in BLOCK_TYPES:
        raise Rerender(
            await _editor(page, found, status=422, block_errors={"new": {"type": "Choose a kind of block."}})
        )
    blocks = [_block_in(block) for block in found.blocks] + [await _block_from_form(page, block_type)]
    return await _save_blocks(page, found, blocks)


def _index_of(found: BioPageView, block_id: str) -> int:
    for index, block in enumerate(found.blocks):
        if block.id == block_id:
            return index
    raise bio_page_service.BioPageNotFound(f"No block `{block_id}` on this page.", param="id")


@view(workspace=True, permission=Permission.bio_pages_write)
async def update_block(page: Page) -> Response:
    found = await _load(page)
    index = _index_of(found, page.request.path_params["block_id"])
    blocks = [_block_in(block) for block in found.blocks]
    blocks[index] = {"id": found.blocks[index].id, **await _block_from_form(page, found.blocks[index].type)}
    return await _save_blocks(page, found, blocks)


@view(workspace=True, permission=Permission.bio_pages_write)
async def move_block(page: Page) -> Response:
    found = await _load(page)
    index = _index_of(found, page.request.path_params["block_id"])
    direction = "up" if await page.field("direction") == "up" else "down"
    target = index - 1 if direction == "up" else index + 1
    blocks = [_block_in(block) for block in found.blocks]
    if 0 <= target < len(blocks):
        blocks[index], blocks[target] = blocks[target], blocks[index]
    # Back on the moved block's own button, so that a keyboard user moves it again with one key.
    return await _save_blocks(page, found, blocks, focus=f"move-{direction}-{found.blocks[index].id}")


@view(workspace=True, permission=Permission.bio_pages_write)
async def reorder_blocks(page: Page) -> Response:
    """A new order from drag and drop: every block id once."""
    found = await _load(page)
    order = [part for part in (await page.field("order")).split(",") if part]
    by_id = {block.id: block for block in found.blocks}
    if sorted(order) != sorted(by_id):
        raise ValidationFailed([FieldError("order", "invalid_order", "The order must list every block once.")])
    return await _save_blocks(page, found, [_block_in(by_id[block_id]) for block_id in order])


@view(workspace=True, permission=Permission.bio_pages_write)
async def delete_block(page: Page) -> Response:
    found = await _load(page)
    index = _index_of(found, page.request.path_params["block_id"])
    blocks = [_block_in(block) for number, block in enumerate(found.blocks) if number != index]
    return await _save_blocks(page, found, blocks)


@view(workspace=True, permission=Permission.bio_pages_write)
async def delete_bio_page(page: Page) -> Response:
    found = await _load(page)
    await bio_page_service.delete(page.db, workspace_id=page.ws.workspace.id, page_id=found.page.id)
    return page.redirect(f"{page.base}/bio", done="bio-deleted")


def _preview_response(found: BioPageView) -> HTMLResponse:
    html = render_page(found)
    for block in found.blocks:
        html = html.replace(
            f'href="{bio_page_service.block_path(found.page.handle, block.id)}"', 'href="#preview" aria-disabled="true"'
        )
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_POLICY, "X-Frame-Options": "SAMEORIGIN"})


@view(workspace=True, permission=Permission.bio_pages_read)
async def preview(page: Page) -> Response:
    """The page as the public renderer draws it, with its tracked links disarmed (a preview counts nothing)."""
    return _preview_response(await _load(page))


@view(workspace=True, permission=Permission.bio_pages_write)
async def live_preview(page: Page) -> Response:
    """The page with the editor's unsaved page settings, as the editor's form is typed in: the service applies
    them like a save, the preview is drawn, and the transaction is rolled back (nothing is kept; a change the
    service refuses leaves the saved page in the preview)."""
    found = await _load(page)
    body, _ = await _page_form(page)
    try:
        changed = await bio_page_service.update(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            page_id=found.page.id,
            data=BioPageUpdate.model_validate(body),
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, bio_page_service.BioPageNotFound):
            raise
        raise Rerender(_preview_response(found)) from error
    raise Rerender(_preview_response(changed))


def preset_swatch(name: str) -> str:
    """A small SVG picture of a theme preset: background, a button and a line of text."""
    theme = themes.resolve({"preset": name})
    end = theme.background_end or theme.background
    radius = {"square": 0, "rounded": 5, "pill": 9}.get(theme.button_shape, 5)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64" viewBox="0 0 96 64">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{theme.background}"/>'
        f'<stop offset="1" stop-color="{end}"/></linearGradient></defs>'
        '<rect width="96" height="64" rx="6" fill="url(#g)"/>'
        f'<rect x="30" y="9" width="36" height="5" rx="2.5" fill="{theme.text_color}"/>'
        f'<rect x="14" y="22" width="68" height="14" rx="{radius}" fill="{theme.button_color}" '
        f'stroke="{theme.button_border}"/>'
        f'<rect x="34" y="27.5" width="28" height="3" rx="1.5" fill="{theme.button_text_color}"/>'
        f'<rect x="14" y="42" width="68" height="14" rx="{radius}" fill="{theme.button_color}" '
        f'stroke="{theme.button_border}"/>'
        f'<rect x="34" y="47.5" width="28" height="3" rx="1.5" fill="{theme.button_text_color}"/>'
        "</svg>"
    )


@view(login=False)
async def preset_image(page: Page) -> Response:
    name = page.request.path_params["preset"]
    if name not in themes.PRESETS:
        raise bio_page_service.BioPageNotFound(f"No theme `{name}`.")
    return Response(preset_swatch(name), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
