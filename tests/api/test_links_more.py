"""Links a team can live with: titles, notes and external ids, lookups, find-or-create, sorting with keyset
cursors, multi-tag filters, and unknown query parameters refused everywhere."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.link import Link
from tests.conftest import Tenant, TenantFactory, corpus_path


async def create(client: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> httpx.Response:
    return await client.post("/v1/links", json={"url": "https://example.com/", **fields}, headers=tenant.headers)


def errors_of(response: httpx.Response) -> dict[str, str]:
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


async def test_title_notes_and_external_id_round_trip(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await create(
        client, tenant, title="Spring sale", notes="Line one\n\tindented", external_id="crm-4711", slug="spring"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["title"], body["title_source"], body["notes"], body["external_id"]) == (
        "Spring sale",
        "user",
        "Line one\n\tindented",
        "crm-4711",
    )
    assert (body["archived"], body["disabled"], body["last_clicked_at"]) == (False, False, None)
    cleared = await client.patch(
        f"/v1/links/{body['id']}", json={"notes": None, "external_id": None}, headers=tenant.headers
    )
    assert (cleared.json()["notes"], cleared.json()["external_id"]) == (None, None)


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"title": "x" * 256}, "title", "string_too_long"),
        ({"title": "   "}, "title", "blank"),
        ({"title": "bell\x07"}, "title", "control_characters"),
        ({"notes": "n" * 2001}, "notes", "string_too_long"),
        ({"notes": "esc\x1b"}, "notes", "control_characters"),
        ({"external_id": "e" * 256}, "external_id", "string_too_long"),
        ({"external_id": "two\nlines"}, "external_id", "control_characters"),
        ({"archived": None}, "archived", "required"),
        ({"disabled": "maybe"}, "disabled", "bool_type"),
        ({"if_exists": "merge"}, "if_exists", "literal_error"),
    ],
)
async def test_every_new_field_is_checked_with_a_422_naming_it(
    client: httpx.AsyncClient, tenant: Tenant, fields: dict[str, Any], param: str, code: str
) -> None:
    response = await create(client, tenant, **fields)
    assert response.status_code == 422, response.text
    assert errors_of(response) == {param: code}


async def test_an_external_id_is_unique_in_its_workspace_only(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    assert (await create(client, mine, external_id="order-1")).status_code == 201
    taken = await create(client, mine, external_id="order-1")
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "external_id_taken"
    assert (await create(client, theirs, external_id="order-1")).status_code == 201
    other = (await create(client, mine, external_id="order-2")).json()
    moved = await client.patch(f"/v1/links/{other['id']}", json={"external_id": "order-1"}, headers=mine.headers)
    assert moved.status_code == 409


async def test_links_are_found_by_short_url_or_external_id_in_the_workspace_only(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    await client.post("/v1/domains", json={"domain": "go.mine.test"}, headers=mine.headers)
    on_default = (await create(client, mine, slug="house", external_id="ext-1")).json()
    on_domain = (await create(client, mine, slug="house", domain="go.mine.test")).json()

    async def info(tenant: Tenant, **params: str) -> httpx.Response:
        return await client.get("/v1/links/info", params=params, headers=tenant.headers)

    assert (await info(mine, slug="house")).json()["id"] == on_default["id"]
    assert (await info(mine, domain="GO.mine.test", slug="house")).json()["id"] == on_domain["id"]
    assert (await info(mine, external_id="ext-1")).json()["id"] == on_default["id"]
    for params in ({"slug": "home"}, {"domain": "go.mine.test", "slug": "home"}, {"external_id": "ext-1"}):
        refused = await info(theirs, **params)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "link_not_found"
    assert (await info(mine)).status_code == 422
    assert (await info(mine, slug="house", external_id="ext-1")).status_code == 422
    assert (await info(mine, slug="nope1")).status_code == 404


async def test_find_or_create_returns_the_same_link_for_the_same_url_and_settings(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    first = await create(client, mine, url="https://example.com/a", tags=["x"], utm_source="mail", if_exists="return")
    assert first.status_code == 201
    again = await create(client, mine, url="https://EXAMPLE.com/a", tags=["x"], utm_source="mail", if_exists="return")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    fewer = await create(client, mine, url="https://example.com/a", if_exists="return")  # fewer fields sent: same
    assert fewer.status_code == 200 and fewer.json()["id"] == first.json()["id"]
    for different in ({"utm_source": "ads"}, {"tags": ["y"]}, {"title": "Other"}):
        made = await create(client, mine, url="https://example.com/a", if_exists="return", **different)
        assert made.status_code == 201 and made.json()["id"] != first.json()["id"], different
    plain = await create(client, mine, url="https://example.com/a")  # without if_exists: always a new link
    assert plain.status_code == 201 and plain.json()["id"] != first.json()["id"]
    elsewhere = await create(client, theirs, url="https://example.com/a", tags=["x"], if_exists="return")
    assert elsewhere.status_code == 201 and elsewhere.json()["workspace_id"] == theirs.workspace_id


async def _set(app: MaskApp, link_id: str, **values: Any) -> None:
    async with session_scope(app.context.sessionmaker) as session:
        await session.execute(update(Link).where(Link.id == link_id).values(**values))


async def _all_pages(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await client.get(
            "/v1/links", params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}, headers=tenant.headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        seen += body["data"]
        cursor = body["next_cursor"]
        assert body["has_more"] == (cursor is not None)
        if cursor is None:
            return seen


async def test_every_sort_pages_through_every_link_once_in_order(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    for index, (title, clicks, last) in enumerate(
        [("banana", 5, 3), (None, 5, None), ("Apple", 0, 1), ("cherry", 9, None), ("apple", 5, 3), (None, 0, 7)]
    ):
        link = (await create(client, tenant, slug=f"s{index}", **({"title": title} if title else {}))).json()
        await _set(
            app,
            link["id"],
            clicks=clicks,
            last_clicked_at=base + timedelta(hours=last) if last is not None else None,
            created_at=base + timedelta(minutes=index % 3),  # ties on created_at: the id breaks them
        )
        made.append(link["id"])
    async with session_scope(app.context.sessionmaker) as session:
        rows = {link.id: link for link in (await session.execute(Link.__table__.select())).all()}

    def key(sort: str, link_id: str) -> Any:
        return getattr(rows[link_id], sort)

    for sort in ("created_at", "clicks", "last_clicked_at", "title"):
        for order in ("asc", "desc"):
            listed = [item["id"] for item in await _all_pages(client, tenant, sort=sort, order=order)]
            assert sorted(listed) == sorted(made), (sort, order)  # every link once
            valued = [i for i in made if key(sort, i) is not None]
            empty = [i for i in made if key(sort, i) is None]
            expected = sorted(valued, key=lambda i: (key(sort, i), i), reverse=order == "desc")
            expected += sorted(empty, reverse=order == "desc")  # no value: last, by id
            if sort == "title":  # the database's collation decides among titles; the rest holds anyway
                assert set(listed[: len(valued)]) == set(valued) and listed[len(valued) :] == expected[len(valued) :]
            else:
                assert listed == expected, (sort, order)


async def test_a_cursor_only_works_with_the_sort_it_came_from(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for index in range(3):
        await create(client, tenant, slug=f"c{index}")
    page = (await client.get("/v1/links", params={"limit": 1, "sort": "clicks"}, headers=tenant.headers)).json()
    mismatched = await client.get(
        "/v1/links", params={"cursor": page["next_cursor"], "sort": "title"}, headers=tenant.headers
    )
    assert mismatched.status_code == 422 and errors_of(mismatched) == {"cursor": "cursor_mismatch"}
    for bad in ({"sort": "popularity"}, {"order": "up"}, {"cursor": "W10"}, {"tag_match": "some"}):
        response = await client.get("/v1/links", params=bad, headers=tenant.headers)
        assert response.status_code == 422, bad


async def test_tags_filter_with_any_all_and_exclusions(client: httpx.AsyncClient, tenant: Tenant) -> None:
    a = (await create(client, tenant, slug="a", tags=["red"])).json()["id"]
    b = (await create(client, tenant, slug="b", tags=["red", "blue"])).json()["id"]
    c = (await create(client, tenant, slug="c", tags=["blue"])).json()["id"]
    d = (await create(client, tenant, slug="d")).json()["id"]

    async def ids(**params: str) -> set[str]:
        response = await client.get("/v1/links", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["data"]}

    assert await ids(tags="red,blue") == {a, b, c}
    assert await ids(tags="red,blue", tag_match="all") == {b}
    assert await ids(tags="-red") == {c, d}
    assert await ids(tags="blue,-red") == {c}
    assert await ids(tags="red,unknown", tag_match="all") == set()
    assert await ids(tags="red,unknown") == {a, b}
    assert await ids(tags="-unknown") == {a, b, c, d}
    both = await client.get("/v1/links", params={"tags": "red", "tag": "red"}, headers=tenant.headers)
    assert both.status_code == 422 and errors_of(both) == {"tags": "conflicting_filters"}
    assert (await client.get("/v1/links", params={"tags": "red,,blue"}, headers=tenant.headers)).status_code == 422


async def test_unknown_query_parameters_are_422_on_every_endpoint(client: httpx.AsyncClient, tenant: Tenant) -> None:
    schema = (await client.get("/v1/openapi.json")).json()
    link = (await create(client, tenant)).json()
    checked = 0
    for path, operations in schema["paths"].items():
        if "{" in path and "{link_id}" not in path:
            continue
        concrete = path.replace("{link_id}", link["id"])
        for method in operations:
            body: dict[str, object] | None = {} if method in ("post", "patch", "put") else None
            response = await client.request(
                method.upper(), concrete, params={"sorty": "clicks"}, json=body, headers=tenant.headers
            )
            assert response.status_code == 422, f"{method.upper()} {path} → {response.status_code}"
            assert errors_of(response) == {"sorty": "unknown_parameter"}, path
            checked += 1
    assert checked >= 15


NAUGHTY: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))


async def test_naughty_strings_as_titles_notes_and_tag_names(client: httpx.AsyncClient, tenant: Tenant) -> None:
    stored = refused = 0
    for index, text in enumerate(NAUGHTY):
        response = await create(client, tenant, title=text[:255], notes=text)
        assert response.status_code in (201, 422), (index, text, response.text)
        if response.status_code == 422:
            refused += 1
            assert set(errors_of(response)) <= {"title", "notes"}, (index, text)
        else:
            stored += 1
            again = (await client.get(f"/v1/links/{response.json()['id']}", headers=tenant.headers)).json()
            assert (again["title"], again["notes"]) == (text[:255], text), index
        tag = await client.post("/v1/tags", json={"name": text[:50]}, headers=tenant.headers)
        assert tag.status_code in (201, 409, 422), (index, text, tag.text)
        if tag.status_code == 201:
            assert tag.json()["name"] == text[:50].strip()
            listed = await client.get("/v1/links", params={"tags": text[:50].replace(",", " ")}, headers=tenant.headers)
            assert listed.status_code in (200, 422), (index, listed.text)
    assert stored > 400 and refused < 100
