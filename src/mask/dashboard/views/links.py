"""Links: the searchable table, create/edit/delete through mask.link.service, QR codes (segno)."""

from __future__ import annotations

import io
from typing import Any

import segno
from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.views import analytics
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.domain import service as domain_service
from mask.kit.errors import MaskError
from mask.link import service as link_service
from mask.link.schemas import Link, LinkCreate, LinkUpdate
from mask.tag import service as tag_service
from mask.workspace.permissions import Permission

PAGE_SIZE = 25
FORM_FIELDS = (
    "url",
    "slug",
    "domain",
    "tags",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "expires_at",
    "expired_url",
)
OPTIONAL_ON_EDIT = frozenset(FORM_FIELDS) - {"url", "slug"}


async def domain_choices(page: Page) -> list[str]:
    """The default short domain, then the workspace's own domains (for a link or bio page's `domain`)."""
    rows, _ = await domain_service.list_page(page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None)
    return [page.settings.short_domain, *sorted(row.domain for row in rows)]


def _tags(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


async def _form_values(page: Page) -> dict[str, str]:
    return {name: (await page.field(name)).strip() for name in FORM_FIELDS}


def _create_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in values.items():
        if value:
            body[name] = _tags(value) if name == "tags" else value
    body.setdefault("url", "")
    return body


def _update_body(values: dict[str, str]) -> dict[str, Any]:
    """Every field of the edit form is sent: an emptied optional field is cleared, as `null` in the API."""
    body: dict[str, Any] = {}
    for name, value in values.items():
        if name == "tags":
            body[name] = _tags(value)
        elif name == "domain" and not value:
            body[name] = None
        else:
            body[name] = value if value or name not in OPTIONAL_ON_EDIT else None
    return body


@view(workspace=True, permission=Permission.links_read)
async def list_links(page: Page) -> Response:
    params = page.request.query_params
    query = params.get("q", "").strip()[:200]
    tag = params.get("tag", "").strip()[:50]
    domain = params.get("domain", "").strip()[:253]
    cursor = params.get("cursor") or None
    mine = params.get("created_by") == "me"
    views, next_cursor = await link_service.list_page(
        page.db,
        workspace_id=page.ws.workspace.id,
        limit=PAGE_SIZE,
        cursor=cursor[:200] if cursor else None,
        domain=domain or None,
        tag=tag or None,
        query=query or None,
        created_by=page.me.id if mine else None,
    )
    links = [link_service.to_schema(item) for item in views]
    filters = {"q": query, "tag": tag, "domain": domain, "created_by": "me" if mine else ""}
    values: dict[str, Any] = dict(
        links=links, next_cursor=next_cursor, filters=filters, paged=cursor is not None, filtered=any(filters.values())
    )
    # Links on domains whose claim is not verified do not answer yet: the list says so.
    values["unverified"] = await domain_service.unverified_names(page.db, workspace_id=page.ws.workspace.id)
    if page.request.headers.get("hx-target", "").endswith("#link-results"):
        return page.render("links/_results.html", **values)
    tags = await tag_service.list_with_counts(page.db, workspace_id=page.ws.workspace.id)
    return page.render("links/list.html", tags=tags, domains=await domain_choices(page), **values)


@view(workspace=True, permission=Permission.links_write)
async def new_link_form(page: Page) -> Response:
    return page.render(
        "links/form.html", link=None, domains=await domain_choices(page), values={"domain": page.settings.short_domain}
    )


@view(workspace=True, permission=Permission.links_write)
async def create_link(page: Page) -> Response:
    values = await _form_values(page)
    try:
        data = LinkCreate.model_validate(_create_body(values))
        await link_service.create(page.db, settings=page.settings, workspace_id=page.ws.workspace.id, data=data)
    except (MaskError, ValidationError) as error:
        raise Rerender(
            page.render(
                "links/form.html",
                status=422 if isinstance(error, ValidationError) else error.status_code,
                link=None,
                errors=field_errors(error),
                values=values,
                domains=await domain_choices(page),
            )
        ) from error
    return page.redirect(f"{page.base}/links", done="link-created")


def _values_of(link: Any) -> dict[str, str]:
    values = {
        name: "" if getattr(link, name) is None else str(getattr(link, name))
        for name in FORM_FIELDS
        if name not in ("tags", "expires_at")
    }
    values["tags"] = ", ".join(link.tags)
    values["expires_at"] = link.expires_at.strftime("%Y-%m-%dT%H:%M") if link.expires_at else ""
    return values


async def _link_report(page: Page, link: Link) -> dict[str, Any]:
    """The link's clicks: the chart and a few breakdowns, in the range and bot mode of the page's URL."""
    query = analytics.link_query(page, link.id)
    return await analytics.report(
        page, query, breakdowns=analytics.LINK_BREAKDOWNS, base=f"{page.base}/links/{link.id}"
    )


@view(workspace=True, permission=Permission.links_read)
async def link_detail(page: Page) -> Response:
    found = await link_service.get(
        page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"]
    )
    link = link_service.to_schema(found)
    return page.render(
        "links/form.html",
        link=link,
        values=_values_of(link),
        domains=await domain_choices(page),
        **await _link_report(page, link),
    )


@view(workspace=True, permission=Permission.links_write)
async def update_link(page: Page) -> Response:
    link_id = page.request.path_params["link_id"]
    values = await _form_values(page)
    try:
        data = LinkUpdate.model_validate(_update_body(values))
        await link_service.update(
            page.db, settings=page.settings, workspace_id=page.ws.workspace.id, link_id=link_id, data=data
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, link_service.LinkNotFound):
            raise
        link = link_service.to_schema(
            await link_service.get(page.db, workspace_id=page.ws.workspace.id, link_id=link_id)
        )
        raise Rerender(
            page.render(
                "links/form.html",
                status=422 if isinstance(error, ValidationError) else error.status_code,
                link=link,
                errors=field_errors(error),
                values=values,
                domains=await domain_choices(page),
                **await _link_report(page, link),
            )
        ) from error
    return page.redirect(f"{page.base}/links/{link_id}", done="link-updated")


@view(workspace=True, permission=Permission.links_write)
async def delete_link(page: Page) -> Response:
    await link_service.delete(page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"])
    return page.redirect(f"{page.base}/links", done="link-deleted")


async def _qr(page: Page, kind: str) -> Response:
    found = await link_service.get(
        page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"]
    )
    url = link_service.short_url(found.link.domain, found.link.slug)
    code = segno.make(url, error="m")
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=8, border=2, xmldecl=False, dark="#111827")
        media_type = "image/svg+xml"
    else:
        code.save(buffer, kind="png", scale=12, border=2)
        media_type = "image/png"
    headers = {"Cache-Control": "private, max-age=300"}
    if page.request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="qr-{found.link.slug}.{kind}"'
    return Response(buffer.getvalue(), media_type=media_type, headers=headers)


@view(workspace=True, permission=Permission.links_read)
async def qr_svg(page: Page) -> Response:
    return await _qr(page, "svg")


@view(workspace=True, permission=Permission.links_read)
async def qr_png(page: Page) -> Response:
    return await _qr(page, "png")
