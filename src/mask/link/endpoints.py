from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Query, Request, Response

from mask.auth.dependencies import LinksRead, LinksWrite
from mask.dependencies import ContextDep, SessionDep
from mask.kit.schemas import CURSOR_SCHEMA, error_responses
from mask.link import service as link_service
from mask.link.metadata import fetch_metadata
from mask.link.repository import Archived, Order, Sort
from mask.link.schemas import Link, LinkCreate, LinkMetadata, LinkPage, LinkUpdate

router = APIRouter(prefix="/links", tags=["Links"])


@router.post(
    "",
    status_code=201,
    response_model=Link,
    responses={
        **error_responses(400, 403, 409, 422),
        200: {"model": Link, "description": '`if_exists: "return"` found the same link: this is it.'},
    },
    summary="Create a link (or find the same one)",
    description="Scope: `links:write`. A taken slug on the domain, or an external id the workspace already uses, "
    'is `409`. With `"if_exists": "return"`, a link of the workspace to the same URL on the same domain with '
    "the same value for every other field sent is answered with `200` instead of a new link (`201`). Without "
    '`title`, the destination\'s `<title>` is fetched in the background (`title_source: "page"`).',
)
async def create_link(
    body: LinkCreate, auth: LinksWrite, session: SessionDep, context: ContextDep, response: Response
) -> Link:
    view, created = await link_service.create_or_find(
        session, settings=context.settings, workspace_id=auth.workspace_id, data=body
    )
    if not created:
        response.status_code = 200
    return link_service.to_schema(view)


TAGS_HELP = (
    "Tag names, comma-separated; `-name` excludes links carrying that tag. With `tag_match=all`, links "
    "carrying every named tag."
)


@router.get(
    "",
    response_model=LinkPage,
    responses=error_responses(403, 422),
    summary="List links",
    description="Scope: `links:read`. Newest first unless `sort`/`order` say otherwise; keyset cursors for every "
    "sort (`next_cursor` → `cursor`, with the same `sort` and `order`). Links without a `last_clicked_at` or a "
    "`title` come last when sorted by it, in either order. Archived links are left out unless `archived=true` "
    "(only them) or `archived=all`.",
)
async def list_links(
    auth: LinksRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=2000, description="`next_cursor` of the previous page", json_schema_extra=CURSOR_SCHEMA),
    ] = None,
    sort: Annotated[Sort, Query(description="What to sort by.")] = Sort.created_at,
    order: Annotated[Order, Query(description="`desc` (default) or `asc`.")] = Order.desc,
    archived: Annotated[Archived, Query(description="`false` (default), `true` (only archived) or `all`.")] = (
        Archived.false
    ),
    tags: Annotated[str | None, Query(max_length=2000, description=TAGS_HELP)] = None,
    tag_match: Annotated[Literal["any", "all"], Query(description="How `tags` combine.")] = "any",
    tag: Annotated[str | None, Query(max_length=50, description="One tag's exact name (older; see `tags`).")] = None,
    domain: Annotated[str | None, Query(max_length=253)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Search in URL, slug and title")] = None,
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
        query=link_service.ListQuery(
            sort=sort,
            order=order,
            archived=archived,
            domain=domain,
            query=q,
            tags=tags,
            tag_match=tag_match,
            tag=tag,
            created_by=created_by,
        ),
    )
    return LinkPage(
        data=[link_service.to_schema(view) for view in views], has_more=next_cursor is not None, next_cursor=next_cursor
    )


@router.get(
    "/info",
    response_model=Link,
    responses=error_responses(403, 404, 422),
    summary="Find a link by short URL or external id",
    description="Scope: `links:read`. `?domain=&slug=` (the default short domain when `domain` is absent) or "
    "`?external_id=`. A link of another workspace is `404`, as an unknown one is.",
)
async def link_info(
    auth: LinksRead,
    session: SessionDep,
    context: ContextDep,
    domain: Annotated[str | None, Query(max_length=253)] = None,
    slug: Annotated[str | None, Query(max_length=64)] = None,
    external_id: Annotated[str | None, Query(max_length=255)] = None,
) -> Link:
    view = await link_service.find(
        session,
        settings=context.settings,
        workspace_id=auth.workspace_id,
        domain=domain,
        slug=slug,
        external_id=external_id,
    )
    return link_service.to_schema(view)


def _page_client(request: Request) -> httpx.AsyncClient:
    """The SSRF-guarded client the composition root gives the API for fetching pages (mask.bootstrap)."""
    factory: Callable[[], httpx.AsyncClient] = request.app.state.page_client
    return factory()


@router.get(
    "/metadata",
    response_model=LinkMetadata,
    responses=error_responses(403, 422),
    summary="Read a page's preview fields",
    description="Scope: `links:write`. Fetches `url` (through the SSRF guard: public addresses only, 3 s, 1 MB) "
    "and answers its Open Graph title, description and https image, to pre-fill a link's `preview`. A page "
    "that cannot be read is `422 metadata_unavailable`.",
)
async def link_metadata(
    request: Request,
    auth: LinksWrite,
    session: SessionDep,
    context: ContextDep,
    url: Annotated[str, Query(max_length=2048)],
) -> LinkMetadata:
    checked = await link_service.check_page_url(session, settings=context.settings, url=url)
    async with _page_client(request) as client:
        found = await fetch_metadata(client, checked)
    return LinkMetadata(url=checked, title=found.title, description=found.description, image_url=found.image_url)


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
    description="Scope: `links:write`. `null` clears an optional field; `title: null` goes back to the "
    "destination page's title. `disabled: true` stops the redirect at once; `archived: true` hides the link from "
    "default lists (it still redirects).",
)
async def update_link(
    link_id: str, body: LinkUpdate, auth: LinksWrite, session: SessionDep, context: ContextDep
) -> Link:
    view = await link_service.update(
        session, settings=context.settings, workspace_id=auth.workspace_id, link_id=link_id, data=body
    )
    return link_service.to_schema(view)


@router.post(
    "/{link_id}/variants/{n}/promote",
    response_model=Link,
    responses=error_responses(403, 404),
    summary="Promote an A/B variant",
    description="Scope: `links:write`. Variant `n` (0-based, as in `variants`) becomes the link's `url`; the "
    "test ends (`variants` empty, `test_ends_at` null).",
)
async def promote_variant(link_id: str, n: int, auth: LinksWrite, session: SessionDep) -> Link:
    view = await link_service.promote_variant(session, workspace_id=auth.workspace_id, link_id=link_id, index=n)
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
