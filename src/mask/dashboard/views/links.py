"""Links: the searchable table, create/edit/delete through mask.link.service, QR codes (segno)."""

from __future__ import annotations

from typing import Any, Literal, cast
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.views import analytics
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.domain import service as domain_service
from mask.kit.errors import MaskError
from mask.link import service as link_service
from mask.link.repository import Archived, Order, Sort
from mask.link.schemas import Link, LinkCreate, LinkUpdate
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
)
OPTIONAL_ON_EDIT = frozenset(FORM_FIELDS) - {"url", "slug"}
NUMBERS = frozenset({"max_clicks", "redirect_status"})  # sent to the API as integers when they are ones
TIMES = ("expires_at", "starts_at")
MULTILINE = frozenset({"notes"})


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
    return values


def _typed(name: str, value: str) -> Any:
    if name in NUMBERS and value.isdigit():
        return int(value)
    return _tags(value) if name == "tags" else value


async def _password_fields(page: Page, body: dict[str, Any]) -> None:
    """The password box is never filled in: typed into, it sets a new password; `remove_password` removes it."""
    password = await page.field("password")
    if password:
        body["password"] = password
    elif await page.field("remove_password"):
        body["password"] = None


def _create_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in values.items():
        if value:
            body[name] = _typed(name, value)
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
        elif name == "redirect_status" and not value:
            body[name] = 302
        else:
            body[name] = _typed(name, value) if value or name not in OPTIONAL_ON_EDIT else None
    return body


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


@view(workspace=True, permission=Permission.links_write)
async def new_link_form(page: Page) -> Response:
    default = await domain_service.default_domain(page.db, settings=page.settings, workspace_id=page.ws.workspace.id)
    return page.render("links/form.html", link=None, domains=await domain_choices(page), values={"domain": default})


@view(workspace=True, permission=Permission.links_write)
async def create_link(page: Page) -> Response:
    values = await _form_values(page)
    try:
        body = _create_body(values)
        await _password_fields(page, body)
        data = LinkCreate.model_validate(body)
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
        if name not in ("tags", *TIMES)
    }
    values["tags"] = ", ".join(link.tags)
    for name in TIMES:
        moment = getattr(link, name)
        values[name] = moment.strftime("%Y-%m-%dT%H:%M") if moment else ""
    return values


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
    return page.render(
        "links/form.html",
        link=link,
        values=_values_of(link),
        domains=await domain_choices(page),
        tag_colors=await tag_service.colors(page.db, workspace_id=page.ws.workspace.id),
        **await _link_report(page, link),
        **await qr_card(page, link),
    )


@view(workspace=True, permission=Permission.links_write)
async def update_link(page: Page) -> Response:
    link_id = page.request.path_params["link_id"]
    values = await _form_values(page)
    current = await link_service.get(page.db, workspace_id=page.ws.workspace.id, link_id=link_id)
    body = _update_body(values)
    await _password_fields(page, body)
    if values["title"] == (current.link.title or ""):
        del body["title"]  # untouched: a page title stays the page's (and follows the URL)
    try:
        data = LinkUpdate.model_validate(body)
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
                tag_colors=await tag_service.colors(page.db, workspace_id=page.ws.workspace.id),
                **await _link_report(page, link),
                **await qr_card(page, link),
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
