"""Links: the searchable table, create/edit/delete through mask.link.service, QR codes (segno)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import ValidationError
from starlette.responses import JSONResponse, Response

from mask.bulk import service as bulk_service
from mask.bulk.schemas import MAX_BULK_ITEMS, BulkSet
from mask.dashboard.views import analytics
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.domain import service as domain_service
from mask.kit.errors import MaskError, ValidationFailed
from mask.kit.time import as_utc
from mask.link import service as link_service
from mask.link.metadata import MetadataUnavailable, fetch_metadata
from mask.link.repository import Archived, Order, Sort
from mask.link.schemas import Link, LinkCreate, LinkMetadata, LinkUpdate
from mask.qr import service as qr_service
from mask.qr.endpoints import qr_url
from mask.qr.render import MEDIA_TYPES, etag, render
from mask.tag import service as tag_service
from mask.workspace.permissions import Permission

PAGE_SIZE = 25
FORM_FIELDS = (
    "url",
    "slug",
    "domain",
    "title",
    "notes",
    "external_id",
    "tags",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "expires_at",
    "expired_url",
    "starts_at",
    "max_clicks",
    "redirect_status",
    "preview_title",
    "preview_description",
    "preview_image_url",
)
OPTIONAL_ON_EDIT = frozenset(FORM_FIELDS) - {"url", "slug"}
NUMBERS = frozenset({"max_clicks", "redirect_status"})  # sent to the API as integers when they are ones
TIMES = ("expires_at", "starts_at")
MULTILINE = frozenset({"notes", "preview_description"})
PREVIEW = ("preview_title", "preview_description", "preview_image_url")  # the link's `preview`, as one object
URLS = ("url", "expired_url")  # `example.com/page` is taken as `https://example.com/page`
# A bare host (with a dot and a TLD-like end, or localhost), optionally a port and a path: no scheme typed.
BARE_URL = re.compile(
    r"^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,63}|\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?(?:[/?#]|$)", re.I
)
TZ_COOKIE = "mask_tz"  # the browser's time zone (set by links.js), so times are shown in it on the next page


def with_scheme(raw: str) -> str:
    """`example.com/page` → `https://example.com/page` (the builder says so); anything else as typed."""
    return f"https://{raw}" if raw and "://" not in raw and BARE_URL.match(raw) else raw


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone `name` (the browser's, sent with the form or kept in a cookie), else UTC."""
    if name and len(name) <= 64 and ".." not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


async def _zone(page: Page) -> ZoneInfo:
    """The form's time zone: the one it was filled in (`tz`), else the browser's from the cookie, else UTC."""
    if page.request.method == "POST":
        sent = await page.field("tz")
        if sent:
            return zone_named(sent)
    return zone_named(unquote(page.request.cookies.get(TZ_COOKIE, "")))


def local_input(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored UTC time as a `datetime-local` value in `zone` (minutes)."""
    return as_utc(moment).astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def to_utc(value: str, zone: ZoneInfo) -> Any:
    """A `datetime-local` value typed in `zone`, as an aware UTC time; an unreadable one is left to validation."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


async def domain_choices(page: Page) -> list[str]:
    """The default short domain, then the workspace's own domains (for a link or bio page's `domain`)."""
    rows, _ = await domain_service.list_page(page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None)
    return [page.settings.short_domain, *sorted(row.domain for row in rows)]


def _tags(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


async def _form_values(page: Page) -> dict[str, str]:
    values = {}
    for name in FORM_FIELDS:
        raw = await page.field(name)
        # Browsers send a textarea's line breaks as CRLF; notes keep them as the user typed them (LF).
        values[name] = raw.replace("\r\n", "\n").strip() if name in MULTILINE else raw.strip()
    for name in URLS:
        values[name] = with_scheme(values[name])
    return values


def _typed(name: str, value: str, zone: ZoneInfo) -> Any:
    if name in NUMBERS and value.isdigit():
        return int(value)
    if name in TIMES:
        return to_utc(value, zone)
    return _tags(value) if name == "tags" else value


def _preview(values: dict[str, str]) -> dict[str, str | None] | None:
    """The preview fields as the API's `preview` object (None when all are empty; the title is required)."""
    if not any(values[name] for name in PREVIEW):
        return None
    return {
        "title": values["preview_title"],
        "description": values["preview_description"] or None,
        "image_url": values["preview_image_url"] or None,
    }


async def _password_fields(page: Page, body: dict[str, Any]) -> None:
    """The password box is never filled in: typed into, it sets a new password; `remove_password` removes it."""
    password = await page.field("password")
    if password:
        body["password"] = password
    elif await page.field("remove_password"):
        body["password"] = None


def _create_body(values: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in values.items():
        if value and name not in PREVIEW:
            body[name] = _typed(name, value, zone)
    preview = _preview(values)
    if preview is not None:
        body["preview"] = preview
    body.setdefault("url", "")
    return body


def _update_body(values: dict[str, str], before: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """Only what changed against the stored link (`before`, shown in the same zone): an untouched past
    `expires_at` is not sent again (and refused), an untouched page title stays the page's. An emptied
    optional field is cleared, as `null` in the API."""
    body: dict[str, Any] = {}
    for name, value in values.items():
        if name in PREVIEW or value == before.get(name, ""):
            continue
        if name == "tags":
            if _tags(value) != _tags(before.get("tags", "")):
                body[name] = _tags(value)
        elif name == "domain" and not value:
            body[name] = None
        elif name == "redirect_status" and not value:
            body[name] = 302
        else:
            body[name] = _typed(name, value, zone) if value or name not in OPTIONAL_ON_EDIT else None
    if any(values[name] != before.get(name, "") for name in PREVIEW):
        body["preview"] = _preview(values)
    return body


# The error summary's links: a field's error points at its input (`f-<name>`); the API's `preview` at its title.
FIELD_OF_ERROR = {"preview": "preview_title", "password": "password"}


def error_summary(errors: dict[str, str]) -> list[tuple[str, str]]:
    """(field id, message) for templates/_error_summary.html: each error links to its field when it has one."""
    items = []
    for name, message in errors.items():
        field = FIELD_OF_ERROR.get(name, name)
        items.append((f"f-{field}" if field in FORM_FIELDS or field == "password" else "", message))
    return items


# The dashboard's sort menu: (value, label, API sort, API order).
SORTS = [
    ("newest", "Newest first", Sort.created_at, Order.desc),
    ("oldest", "Oldest first", Sort.created_at, Order.asc),
    ("most-clicks", "Most clicks", Sort.clicks, Order.desc),
    ("fewest-clicks", "Fewest clicks", Sort.clicks, Order.asc),
    ("recent-click", "Clicked most recently", Sort.last_clicked_at, Order.desc),
    ("title", "Title A–Z", Sort.title, Order.asc),
    ("title-desc", "Title Z–A", Sort.title, Order.desc),
]
STATES = [("false", "Active"), ("true", "Archived"), ("all", "All")]


def _list_filters(page: Page) -> dict[str, Any]:
    params = page.request.query_params
    chosen_tags = [tag.strip()[:50] for tag in params.getlist("tags") if tag.strip()][:25]
    single = params.get("tag", "").strip()[:50]
    if single and single not in chosen_tags:
        chosen_tags.append(single)
    sort = params.get("sort", "newest")
    return {
        "q": params.get("q", "").strip()[:200],
        "tags": chosen_tags,
        "tag_match": "all" if params.get("tag_match") == "all" else "any",
        "domain": params.get("domain", "").strip()[:253],
        "sort": sort if sort in {value for value, *_ in SORTS} else "newest",
        "archived": params.get("archived") if params.get("archived") in ("true", "all") else "false",
        "created_by": "me" if params.get("created_by") == "me" else "",
    }


def _filters_query(filters: dict[str, Any]) -> str:
    """The list's filters as a query string (for the pager and the sort links)."""
    pairs: list[tuple[str, str]] = [(name, filters[name]) for name in ("q", "domain") if filters[name]]
    pairs += [("tags", tag) for tag in filters["tags"]]
    if filters["tag_match"] == "all":
        pairs.append(("tag_match", "all"))
    if filters["sort"] != "newest":
        pairs.append(("sort", filters["sort"]))
    if filters["archived"] != "false":
        pairs.append(("archived", filters["archived"]))
    if filters["created_by"]:
        pairs.append(("created_by", filters["created_by"]))
    return urlencode(pairs)


@view(workspace=True, permission=Permission.links_read)
async def list_links(page: Page) -> Response:
    filters = _list_filters(page)
    cursor = page.request.query_params.get("cursor") or None
    _value, _label, sort, order = next(item for item in SORTS if item[0] == filters["sort"])
    # Tag names are matched exactly here (a name may hold a comma or start with `-`): one `tags` entry each.
    include = filters["tags"]
    workspace_id = page.ws.workspace.id
    views, next_cursor = await link_service.list_page(
        page.db,
        workspace_id=workspace_id,
        limit=PAGE_SIZE,
        cursor=cursor[:2000] if cursor else None,
        query=link_service.ListQuery(
            sort=sort,
            order=order,
            archived=Archived(filters["archived"]),
            domain=filters["domain"] or None,
            query=filters["q"] or None,
            tag_names=tuple(include),
            tag_match=filters["tag_match"],
            created_by=page.me.id if filters["created_by"] else None,
        ),
    )
    links = [link_service.to_schema(item) for item in views]
    colors = await tag_service.colors(page.db, workspace_id=workspace_id)
    values: dict[str, Any] = dict(
        links=links,
        next_cursor=next_cursor,
        filters=filters,
        filters_query=_filters_query(filters),
        paged=cursor is not None,
        filtered=any([filters["q"], filters["tags"], filters["domain"], filters["archived"] != "false"]),
        tag_colors=colors,
        sorts=SORTS,
        states=STATES,
    )
    # Links on domains whose claim is not verified do not answer yet: the list says so.
    values["unverified"] = await domain_service.unverified_names(page.db, workspace_id=page.ws.workspace.id)
    if page.request.headers.get("hx-target", "").endswith("#link-results"):
        return page.render("links/_results.html", **values)
    tags = await tag_service.list_with_counts(page.db, workspace_id=workspace_id)
    return page.render("links/list.html", tags=tags, domains=await domain_choices(page), **values)


def _values_of(link: Link, zone: ZoneInfo) -> dict[str, str]:
    values = {
        name: "" if getattr(link, name) is None else str(getattr(link, name))
        for name in FORM_FIELDS
        if name not in ("tags", *TIMES, *PREVIEW)
    }
    values["tags"] = ", ".join(link.tags)
    for name in TIMES:
        values[name] = local_input(getattr(link, name), zone)
    preview = link.preview
    values["preview_title"] = preview.title if preview else ""
    values["preview_description"] = (preview.description or "") if preview else ""
    values["preview_image_url"] = (preview.image_url or "") if preview else ""
    return values


def _utc_values(link: Link | None) -> dict[str, str]:
    """The stored times in UTC (ISO), for links.js to show them in the browser's zone on a first visit."""
    if link is None:
        return {}
    return {name: as_utc(getattr(link, name)).isoformat() for name in TIMES if getattr(link, name) is not None}


def _targeting_url(page: Page, link: Link) -> str:
    """The link's Targeting & A/B tests page (mask.dashboard.views.link_targeting)."""
    return f"{page.base}/links/{link.id}/targeting"


async def _builder(
    page: Page,
    *,
    link: Link | None,
    values: dict[str, str],
    zone: ZoneInfo,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    """The link builder (new) or editor (existing `link`), with what every part of it shows."""
    errors = errors or {}
    workspace_id = page.ws.workspace.id
    extra: dict[str, Any] = {}
    if link is not None:
        extra = {**await _link_report(page, link), **await qr_card(page, link)}
        extra["targeting_url"] = _targeting_url(page, link)
    domains = await domain_choices(page)
    slug = values.get("slug", "")
    domain = values.get("domain") or domains[0]
    qr_query = urlencode({"domain": domain, "slug": slug})
    if notice is not None:
        extra["notice"] = notice
    return page.render(
        "links/form.html",
        status=status,
        link=link,
        values=values,
        errors=errors,
        summary=error_summary(errors),
        domains=domains,
        tag_colors=await tag_service.colors(page.db, workspace_id=workspace_id),
        tz=zone.key,
        utc_values=_utc_values(link) if not errors else {},
        short_preview=f"{domain}/{slug}" if slug else f"{domain}/…",
        builder_qr=f"{page.base}/links/qr-preview.svg?{qr_query}" if SLUG.match(slug) else "",
        **extra,
    )


SLUG = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@view(workspace=True, permission=Permission.links_write)
async def new_link_form(page: Page) -> Response:
    default = await domain_service.default_domain(page.db, settings=page.settings, workspace_id=page.ws.workspace.id)
    values = dict.fromkeys(FORM_FIELDS, "")
    values["domain"] = default
    return await _builder(page, link=None, values=values, zone=await _zone(page))


async def _fetched_preview(page: Page, values: dict[str, str]) -> dict[str, str]:
    """The "Fetch from page" button without script: the destination's title, description and image in the
    preview fields (those still empty), through the API's metadata service; the link is not saved."""
    found = await page_metadata(page, values["url"])
    filled = dict(values)
    for name, value in (
        ("preview_title", found.title),
        ("preview_description", found.description),
        ("preview_image_url", found.image_url),
    ):
        if value and not filled[name]:
            filled[name] = value
    return filled


async def page_metadata(page: Page, url: str) -> LinkMetadata:
    """GET /v1/links/metadata's answer, for the dashboard: checked like a link's `url`, fetched through the
    SSRF-guarded client the composition root gave the dashboard."""
    checked = await link_service.check_page_url(page.db, settings=page.settings, url=url)
    factory: Callable[[], httpx.AsyncClient] | None = page.request.app.state.page_client
    if factory is None:
        raise MetadataUnavailable("This dashboard cannot read pages.", param="url")
    async with factory() as client:
        found = await fetch_metadata(client, checked)
    return LinkMetadata(url=checked, title=found.title, description=found.description, image_url=found.image_url)


@view(workspace=True, permission=Permission.links_write)
async def create_link(page: Page) -> Response:
    values = await _form_values(page)
    zone = await _zone(page)
    try:
        if await page.field("intent") == "fetch-preview":
            filled = await _fetched_preview(page, values)
            return await _builder(page, link=None, values=filled, zone=zone, notice="Preview fetched from the page.")
        body = _create_body(values, zone)
        await _password_fields(page, body)
        data = LinkCreate.model_validate(body)
        await link_service.create(page.db, settings=page.settings, workspace_id=page.ws.workspace.id, data=data)
    except (MaskError, ValidationError) as error:
        raise Rerender(
            await _builder(
                page,
                link=None,
                values=values,
                zone=zone,
                errors=field_errors(error),
                status=422 if isinstance(error, ValidationError) else error.status_code,
            )
        ) from error
    return page.redirect(f"{page.base}/links", done="link-created")


async def _link_report(page: Page, link: Link) -> dict[str, Any]:
    """The link's clicks: the chart, a few breakdowns and its A/B test's variants side by side, in the range and bot
    mode of the page's URL."""
    query = analytics.link_query(page, link.id)
    values = await analytics.report(
        page, query, breakdowns=analytics.LINK_BREAKDOWNS, base=f"{page.base}/links/{link.id}"
    )
    values["variant_rows"] = await analytics.variant_comparison(page, query, link.variants)
    return values


@view(workspace=True, permission=Permission.links_read)
async def link_detail(page: Page) -> Response:
    found = await link_service.get(
        page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"]
    )
    link = link_service.to_schema(found)
    zone = await _zone(page)
    return await _builder(page, link=link, values=_values_of(link, zone), zone=zone)


@view(workspace=True, permission=Permission.links_write)
async def update_link(page: Page) -> Response:
    link_id = page.request.path_params["link_id"]
    values = await _form_values(page)
    zone = await _zone(page)
    workspace_id = page.ws.workspace.id
    stored = link_service.to_schema(await link_service.get(page.db, workspace_id=workspace_id, link_id=link_id))
    try:
        if await page.field("intent") == "fetch-preview":
            filled = await _fetched_preview(page, values)
            return await _builder(page, link=stored, values=filled, zone=zone, notice="Preview fetched from the page.")
        body = _update_body(values, _values_of(stored, zone), zone)
        await _password_fields(page, body)
        data = LinkUpdate.model_validate(body)
        await link_service.update(
            page.db, settings=page.settings, workspace_id=workspace_id, link_id=link_id, data=data
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, link_service.LinkNotFound):
            raise
        link = link_service.to_schema(await link_service.get(page.db, workspace_id=workspace_id, link_id=link_id))
        raise Rerender(
            await _builder(
                page,
                link=link,
                values=values,
                zone=zone,
                errors=field_errors(error),
                status=422 if isinstance(error, ValidationError) else error.status_code,
            )
        ) from error
    return page.redirect(f"{page.base}/links/{link_id}", done="link-updated")


@view(workspace=True, permission=Permission.links_write)
async def delete_link(page: Page) -> Response:
    await link_service.delete(page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"])
    return page.redirect(f"{page.base}/links", done="link-deleted")


@view(workspace=True, permission=Permission.links_write)
async def change_state(page: Page) -> Response:
    """Archive or unarchive, disable or enable a link (the buttons of its page)."""
    link_id = page.request.path_params["link_id"]
    action = await page.field("action")
    changes = {
        "archive": {"archived": True},
        "unarchive": {"archived": False},
        "disable": {"disabled": True},
        "enable": {"disabled": False},
    }.get(action)
    if changes is None:
        raise link_service.LinkNotFound("No such action.")
    await link_service.update(
        page.db,
        settings=page.settings,
        workspace_id=page.ws.workspace.id,
        link_id=link_id,
        data=LinkUpdate.model_validate(changes),
    )
    return page.redirect(f"{page.base}/links/{link_id}", done=f"link-{action}d")


def qr_request(page: Page, kind: str) -> qr_service.QrRequest:
    """The QR parameters of the dashboard's URL (the API's names); anything unusable is left to the style."""
    params = page.request.query_params

    def number(name: str, low: int, high: int) -> int | None:
        raw = params.get(name, "")
        return min(max(int(raw), low), high) if raw.isdigit() else None

    ecc = params.get("ecc", "").upper()
    logo = params.get("logo")
    return qr_service.QrRequest(
        format=cast(Literal["svg", "png"], kind),
        size=number("size", qr_service.MIN_SIZE, qr_service.MAX_SIZE) or (480 if kind == "svg" else 1024),
        margin=number("margin", 0, 20),
        ecc=cast(Literal["L", "M", "Q", "H"], ecc) if ecc in ("L", "M", "Q", "H") else None,
        fg=params.get("fg") or None,
        bg=params.get("bg") or None,
        logo=None if logo is None else logo in ("1", "true", "on"),
    )


async def _qr(page: Page, kind: str) -> Response:
    """The link's QR code, drawn like the API's: cached by what it shows (ETag), not by link id, so a new slug
    or style shows at once."""
    found = await link_service.get(
        page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"]
    )
    url = qr_url(link_service.short_url(found.link.domain, found.link.slug))
    style = await qr_service.style_of(page.db, workspace_id=page.ws.workspace.id)
    options = qr_service.options_for(style, qr_request(page, kind), url)
    tag = etag(url, options)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if page.request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="qr-{found.link.slug}.{kind}"'
    if tag in {value.strip() for value in page.request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(render(url, options), media_type=MEDIA_TYPES[kind], headers=headers)


async def qr_card(page: Page, link: Link) -> dict[str, Any]:
    """What the QR card of a link page shows: the preview's URL (versioned by the ETag) and its options."""
    url = qr_url(link.short_url)
    style = await qr_service.style_of(page.db, workspace_id=page.ws.workspace.id)
    request = qr_request(page, "svg")
    problem = None
    try:
        options = qr_service.options_for(style, request, url)
    except MaskError as error:
        problem = error.message
        request = qr_service.QrRequest(format="svg", size=480)
        options = qr_service.options_for(style, request, url)
    chosen = {
        "fg": options.fg,
        "bg": options.bg,
        "margin": str(options.margin),
        "ecc": options.ecc,
        "logo": "1" if options.logo is not None else "0",
    }
    query = urlencode({**chosen, "v": etag(url, options).strip('"')})
    return {
        "qr_problem": problem,
        "qr_values": chosen,
        "qr_has_logo": style.logo is not None,
        "qr_src": f"{page.base}/links/{link.id}/qr.svg?{query}",
        "qr_png": f"{page.base}/links/{link.id}/qr.png?{query}&download=1",
        "qr_svg": f"{page.base}/links/{link.id}/qr.svg?{query}&download=1",
        "qr_encoded": url,
    }


@view(workspace=True, permission=Permission.links_read)
async def qr_preview(page: Page) -> Response:
    """The QR card's preview, redrawn as its controls change (htmx), or the link page without script."""
    found = await link_service.get(
        page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"]
    )
    link = link_service.to_schema(found)
    return page.render("links/_qr.html", link=link, **await qr_card(page, link))


@view(workspace=True, permission=Permission.links_read)
async def qr_svg(page: Page) -> Response:
    return await _qr(page, "svg")


@view(workspace=True, permission=Permission.links_read)
async def qr_png(page: Page) -> Response:
    return await _qr(page, "png")


@view(workspace=True, permission=Permission.links_write)
async def builder_qr(page: Page) -> Response:
    """The builder's QR preview: the short URL `domain/slug` would have, drawn in the workspace's style, before
    the link exists (the same drawing as the API's QR endpoint)."""
    params = page.request.query_params
    domain, slug = params.get("domain", ""), params.get("slug", "")
    if domain not in await domain_choices(page) or not SLUG.match(slug):
        return Response("Choose one of the workspace's domains and a slug of [A-Za-z0-9_-].", status_code=422)
    url = qr_url(link_service.short_url(domain, slug))
    style = await qr_service.style_of(page.db, workspace_id=page.ws.workspace.id)
    options = qr_service.options_for(style, qr_service.QrRequest(format="svg", size=240), url)
    return Response(
        render(url, options), media_type=MEDIA_TYPES["svg"], headers={"Cache-Control": "private, max-age=60"}
    )


@view(workspace=True, permission=Permission.links_write)
async def metadata(page: Page) -> Response:
    """The builder's "Fetch from page" (links.js): the page's preview fields as JSON, or the API's error."""
    try:
        found = await page_metadata(page, with_scheme(page.request.query_params.get("url", "").strip()[:2048]))
    except MaskError as error:
        return JSONResponse(
            {"error": {"code": error.code, "message": error.message, "param": error.param}},
            status_code=error.status_code,
        )
    return JSONResponse(found.model_dump(mode="json"))


BULK_ACTIONS = {
    "archive": "links-archived",
    "unarchive": "links-unarchived",
    "tag-add": "links-tagged",
    "tag-remove": "links-untagged",
    "delete": "links-deleted",
}


@view(workspace=True, permission=Permission.links_write)
async def bulk(page: Page) -> Response:
    """The list's selection and row actions, through mask.bulk (as PATCH/DELETE /v1/links/bulk). A row's button
    sends `row=<action>:<id>` (that link alone); the bulk bar sends `action` and the checked `ids`. Deleting asks
    first: a confirmation page lists the links, and only its button (`confirm=1`) deletes."""
    form = await page.form()
    row = await page.field("row")
    if row:
        action, _, one = row.partition(":")
        ids = [one]
    else:
        action = await page.field("action")
        ids = [value for value in form.getlist("ids") if isinstance(value, str) and value]
    back = f"{page.base}/links"
    query = await page.field("back")
    if query and not query.startswith(("/", "\\")) and "://" not in query:
        back += "?" + query[:2000]
    if action not in BULK_ACTIONS:
        raise ValidationFailed.single("action", "invalid", "Choose what to do with the selected links.")
    ids = list(dict.fromkeys(ids))[:MAX_BULK_ITEMS]
    if not ids:
        return page.redirect(back, done="links-none-selected")
    workspace_id = page.ws.workspace.id
    if action == "delete":
        if await page.field("confirm") != "1":
            found = []
            for link_id in ids:
                try:
                    found.append(
                        link_service.to_schema(
                            await link_service.get(page.db, workspace_id=workspace_id, link_id=link_id)
                        )
                    )
                except link_service.LinkNotFound:
                    continue
            return page.render("links/confirm_delete.html", links=found, back=query)
        outcomes = await bulk_service.delete_many(page.db, workspace_id=workspace_id, ids=ids)
    else:
        tag = (await page.field("tag")).strip()
        choices: dict[str, dict[str, Any]] = {
            "archive": {"archived": True},
            "unarchive": {"archived": False},
            "tag-add": {"tags_add": [tag]},
            "tag-remove": {"tags_remove": [tag]},
        }
        changes = choices[action]
        if action.startswith("tag-") and not tag:
            raise ValidationFailed.single("tag", "required", "Type the tag to add or remove.")
        outcomes = await bulk_service.update_many(
            page.db,
            settings=page.settings,
            workspace_id=workspace_id,
            ids=ids,
            external_ids=None,
            changes=BulkSet.model_validate(changes),
        )
    failed = [outcome for outcome in outcomes if outcome.kind == "failed"]
    if failed and len(failed) == len(outcomes):
        error = failed[0].error
        assert error is not None
        raise error
    return page.redirect(back, done=BULK_ACTIONS[action])
