"""`POST|PATCH|DELETE /v1/links/bulk`: per-item results in the error shape, the create rules item by item,
tenant isolation, idempotency, one event per call."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
from sqlalchemy import func, select

from mask.abuse import service as abuse_service
from mask.app import MaskApp
from mask.bulk.schemas import BulkAnswer
from mask.db import session_scope
from mask.models.event import Event
from mask.models.link import Link
from tests.conftest import Tenant, TenantFactory, corpus_path


async def bulk(client: httpx.AsyncClient, tenant: Tenant, items: Sequence[object], **headers: str) -> httpx.Response:
    return await client.post("/v1/links/bulk", json={"links": list(items)}, headers={**tenant.headers, **headers})


async def link_count(app: MaskApp, workspace_id: str) -> int:
    async with session_scope(app.context.sessionmaker) as session:
        return int(await session.scalar(select(func.count()).where(Link.workspace_id == workspace_id)) or 0)


async def test_each_item_gets_its_own_result_and_a_bad_item_aborts_nothing(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    taken = await client.post(
        "/v1/links", json={"url": "https://example.com/", "slug": "taken"}, headers=tenant.headers
    )
    assert taken.status_code == 201
    response = await bulk(
        client,
        tenant,
        [
            {"url": "https://example.com/a", "slug": "first", "tags": ["spring", "q1"]},
            {"url": "javascript:alert(1)"},
            {"url": "http://localhost:8000/loop"},
            {"url": "https://example.com/b", "slug": "first"},
            {"url": "https://example.com/c", "slug": "taken"},
            {"url": "https://example.com/d", "utm_sorce": "x"},
            "not an object",
            {"url": "https://example.com/e", "tags": ["q1"], "title": "Kept"},
        ],
    )
    assert response.status_code == 200, response.text
    # The answer, built without the models, is byte for byte what the documented model serialises.
    assert BulkAnswer.model_validate_json(response.content).model_dump_json().encode() == response.content
    body = response.json()
    results = body["data"]
    assert [result["index"] for result in results] == list(range(8))
    assert [result["status"] for result in results] == [201, 422, 422, 409, 409, 422, 422, 201]
    assert (body["succeeded"], body["failed"]) == (2, 6)
    assert results[0]["link"]["short_url"] == "http://localhost:8000/first"
    assert results[0]["link"]["tags"] == ["q1", "spring"]
    assert results[1]["error"]["errors"][0]["param"] == "url"
    assert results[2]["error"]["errors"][0]["code"] == "redirect_loop"
    assert results[3]["error"]["code"] == "slug_taken"
    assert results[4]["error"]["code"] == "slug_taken"
    assert results[5]["error"]["errors"][0] == {
        "param": "utm_sorce",
        "code": "unknown_field",
        "message": "This field is not part of the API.",
    }
    for result in results[1:7]:
        assert result["link"] is None and result["error"]["request_id"] == response.headers["x-request-id"]
    generated = results[7]["link"]
    assert len(generated["slug"]) == 7 and generated["title"] == "Kept"
    fetched = await client.get(f"/v1/links/{generated['id']}", headers=tenant.headers)
    assert fetched.json() == generated
    tags = (await client.get("/v1/tags", headers=tenant.headers)).json()
    assert sorted(tag["name"] for tag in tags["data"]) == ["q1", "spring"]
    assert await link_count(app, tenant.workspace_id) == 3


async def test_one_bulk_created_event_lists_the_links(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await bulk(client, tenant, [{"url": f"https://example.com/{n}"} for n in range(60)])
    assert response.json()["succeeded"] == 60
    async with session_scope(app.context.sessionmaker) as session:
        events = list((await session.execute(select(Event).where(Event.workspace_id == tenant.workspace_id))).scalars())
    assert [event.type for event in events] == ["link.bulk_created"]
    assert events[0].data["count"] == 60
    assert {link["id"] for link in events[0].data["links"]} == {r["link"]["id"] for r in response.json()["data"]}


async def test_a_created_link_redirects_at_once_even_after_a_cached_miss(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await client.get("http://localhost:8000/later")).status_code == 404  # the miss is cached
    many = [{"url": "https://example.com/later", "slug": "later"}] + [
        {"url": f"https://example.com/{n}"} for n in range(60)
    ]
    assert (await bulk(client, tenant, many)).json()["succeeded"] == 61
    answer = await client.get("http://localhost:8000/later")
    assert answer.status_code in (301, 302) and answer.headers["location"] == "https://example.com/later"


async def test_limits_and_malformed_bodies_get_the_error_shape(client: httpx.AsyncClient, tenant: Tenant) -> None:
    too_many = await bulk(client, tenant, [{"url": "https://example.com/"}] * 1001)
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "validation_error"
    empty = await bulk(client, tenant, [])
    assert empty.status_code == 422
    not_array = await client.post("/v1/links/bulk", json={"url": "https://example.com/"}, headers=tenant.headers)
    assert not_array.status_code == 422 and "error" in not_array.json()


async def test_a_key_without_links_write_cannot_bulk(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    reader = await make_tenant(scopes=["links:read"])
    response = await bulk(client, reader, [{"url": "https://example.com/"}])
    assert response.status_code == 403 and response.json()["error"]["required_scope"] == "links:write"


async def test_another_workspaces_slug_and_links_are_out_of_reach(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    ours, theirs = await make_tenant(), await make_tenant()
    their_link = (
        await client.post("/v1/links", json={"url": "https://theirs.example/", "slug": "x"}, headers=theirs.headers)
    ).json()
    created = await bulk(client, ours, [{"url": "https://ours.example/", "slug": "x"}])
    assert created.json()["data"][0]["error"]["code"] == "slug_taken"
    updated = await client.patch(
        "/v1/links/bulk", json={"ids": [their_link["id"]], "set": {"disabled": True}}, headers=ours.headers
    )
    assert updated.status_code == 200
    assert updated.json()["data"][0]["status"] == 404
    assert updated.json()["data"][0]["error"]["code"] == "link_not_found"
    by_external = await client.patch(
        "/v1/links/bulk", json={"external_ids": ["nope"], "set": {"archived": True}}, headers=ours.headers
    )
    assert by_external.json()["data"][0]["status"] == 404
    deleted = await client.request("DELETE", "/v1/links/bulk", json={"ids": [their_link["id"]]}, headers=ours.headers)
    assert deleted.json()["data"][0]["status"] == 404
    still = await client.get(f"/v1/links/{their_link['id']}", headers=theirs.headers)
    assert still.status_code == 200 and still.json()["disabled"] is False
    assert await link_count(app, theirs.workspace_id) == 1


async def test_bulk_update_adds_and_removes_tags_and_sets_fields(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await bulk(
        client,
        tenant,
        [
            {"url": "https://example.com/1", "tags": ["old", "keep"], "external_id": "crm-1"},
            {"url": "https://example.com/2", "tags": ["old"], "external_id": "crm-2"},
        ],
    )
    ids = [result["id"] for result in created.json()["data"]]
    response = await client.patch(
        "/v1/links/bulk",
        json={
            "ids": [*ids, "lnk_unknown"],
            "set": {"tags_add": ["new"], "tags_remove": ["old"], "archived": True, "utm_source": "mail"},
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    results = response.json()["data"]
    assert [result["status"] for result in results] == [200, 200, 404]
    assert results[0]["link"]["tags"] == ["keep", "new"] and results[1]["link"]["tags"] == ["new"]
    assert all(result["link"]["archived"] and result["link"]["utm_source"] == "mail" for result in results[:2])
    by_external = await client.patch(
        "/v1/links/bulk", json={"external_ids": ["crm-2"], "set": {"archived": False}}, headers=tenant.headers
    )
    assert by_external.json()["data"][0]["link"]["archived"] is False
    assert (await client.get(f"/v1/links/{ids[0]}", headers=tenant.headers)).json()["archived"] is True


async def test_bulk_update_refuses_a_bad_set_as_a_whole(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await bulk(client, tenant, [{"url": "https://example.com/1"}])
    link_id = created.json()["data"][0]["id"]
    for changes, param in [
        ({"slug": "new"}, "set.slug"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "set.expires_at"),
        ({"expired_url": "javascript:x"}, "set.expired_url"),
        ({}, "set"),
        ({"tags_add": ["a"], "tags_remove": ["a"]}, "set.tags_remove"),
    ]:
        response = await client.patch("/v1/links/bulk", json={"ids": [link_id], "set": changes}, headers=tenant.headers)
        assert response.status_code == 422, changes
        assert response.json()["error"]["errors"][0]["param"] == param
    both = await client.patch(
        "/v1/links/bulk",
        json={"ids": [link_id], "external_ids": ["x"], "set": {"archived": True}},
        headers=tenant.headers,
    )
    assert both.status_code == 422


async def test_bulk_update_never_gives_a_link_more_than_25_tags(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await bulk(client, tenant, [{"url": "https://example.com/1", "tags": [f"t{n}" for n in range(25)]}])
    link_id = created.json()["data"][0]["id"]
    response = await client.patch(
        "/v1/links/bulk", json={"ids": [link_id], "set": {"tags_add": ["one-more"]}}, headers=tenant.headers
    )
    assert response.json()["data"][0]["error"]["errors"][0]["code"] == "too_many_tags"


async def test_bulk_delete_removes_links_and_stops_their_redirects(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await bulk(client, tenant, [{"url": "https://example.com/1", "slug": "gone", "tags": ["t"]}])
    link_id = created.json()["data"][0]["id"]
    assert (await client.get("http://localhost:8000/gone")).status_code in (301, 302)
    response = await client.request(
        "DELETE", "/v1/links/bulk", json={"ids": [link_id, link_id, "lnk_nope"]}, headers=tenant.headers
    )
    assert [result["status"] for result in response.json()["data"]] == [200, 200, 404]
    assert (await client.get(f"/v1/links/{link_id}", headers=tenant.headers)).status_code == 404
    assert (await client.get("http://localhost:8000/gone")).status_code == 404
    assert await link_count(app, tenant.workspace_id) == 0


async def test_an_idempotency_key_replays_the_first_answer_and_creates_nothing_twice(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    items = [{"url": "https://example.com/1"}, {"url": "https://example.com/2"}]
    first = await bulk(client, tenant, items, **{"Idempotency-Key": "import-7"})
    again = await bulk(client, tenant, items, **{"Idempotency-Key": "import-7"})
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert await link_count(app, tenant.workspace_id) == 2
    created = first.json()["data"][0]["id"]
    delete = {"ids": [created]}
    gone = await client.request(
        "DELETE", "/v1/links/bulk", json=delete, headers={**tenant.headers, "Idempotency-Key": "d"}
    )
    replay = await client.request(
        "DELETE", "/v1/links/bulk", json=delete, headers={**tenant.headers, "Idempotency-Key": "d"}
    )
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == gone.json()


async def test_naughty_strings_as_titles_are_stored_exactly_or_refused_per_item(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    naughty: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))
    items = [{"url": "https://example.com/", "title": text, "notes": text, "tags": [text[:50]]} for text in naughty]
    for start in range(0, len(items), 1000):
        response = await bulk(client, tenant, items[start : start + 1000])
        assert response.status_code == 200
        for result in response.json()["data"]:
            text = naughty[start + result["index"]]
            if result["status"] == 201:
                assert result["link"]["title"] == text and result["link"]["notes"] == text
            else:
                assert result["status"] == 422 and result["error"]["errors"]


async def test_blocked_destinations_are_refused_item_by_item_in_a_big_batch(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The blocklist is looked up for the whole batch at once (several hundred keys, over more than one query);
    each blocked `url` or `expired_url` is still that item's own 422, the rest are created."""
    async with session_scope(app.context.sessionmaker) as session:
        await abuse_service.update_blocklist(session, text="evil.example\nhttp://files.example/payload/\n")
    items: list[dict[str, object]] = [{"url": f"https://example.com/deep/path/{n}/x?q={n}"} for n in range(300)]
    items[10] = {"url": "https://login.EVIL.example./x"}
    items[150] = {"url": "https://example.com/fine", "expired_url": "http://files.example/payload/a.exe"}
    items[299] = {"url": "https://evil.example/"}
    items[200] = {"url": "https://evil.example.org/"}  # not blocked: another domain
    response = await bulk(client, tenant, items)
    results = response.json()["data"]
    refused = {result["index"]: result["error"]["errors"][0] for result in results if result["status"] != 201}
    assert refused == {
        10: {"param": "url", "code": "destination_blocked", "message": refused[10]["message"]},
        150: {"param": "expired_url", "code": "destination_blocked", "message": refused[150]["message"]},
        299: {"param": "url", "code": "destination_blocked", "message": refused[299]["message"]},
    }
    assert results[200]["link"]["url"] == "https://evil.example.org/"
    assert await link_count(app, tenant.workspace_id) == 297


async def test_taken_slugs_and_external_ids_are_found_among_many_in_one_batch(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    """A batch's slugs and external ids are looked up together (one statement on PostgreSQL): each taken one,
    by this workspace or another, in the database or earlier in the same request, is that item's 409; the
    first of the request to ask wins; an external id is per workspace."""
    ours, theirs = await make_tenant(), await make_tenant()
    before = [{"url": f"https://example.com/old/{n}", "slug": f"old-{n}", "external_id": f"crm-{n}"} for n in range(40)]
    assert (await bulk(client, theirs, before[:20])).json()["succeeded"] == 20
    assert (await bulk(client, ours, before[20:])).json()["succeeded"] == 20
    items: list[dict[str, object]] = [
        {"url": f"https://example.com/new/{n}", "slug": f"new-{n}", "external_id": f"new-{n}"} for n in range(600)
    ]
    items[5] = {"url": "https://example.com/a", "slug": "old-3"}  # another workspace's slug
    items[6] = {"url": "https://example.com/b", "slug": "old-30"}  # our own
    items[7] = {"url": "https://example.com/c", "external_id": "crm-31"}  # our own external id
    items[8] = {"url": "https://example.com/d", "external_id": "crm-4"}  # theirs: free for us
    items[599] = {"url": "https://example.com/e", "slug": "new-10"}  # asked earlier in this request
    items[598] = {"url": "https://example.com/f", "external_id": "new-11"}  # the same
    results = (await bulk(client, ours, items)).json()["data"]
    refused = {result["index"]: result["error"]["code"] for result in results if result["status"] != 201}
    assert refused == {
        5: "slug_taken",
        6: "slug_taken",
        7: "external_id_taken",
        599: "slug_taken",
        598: "external_id_taken",
    }
    assert results[10]["link"]["slug"] == "new-10" and results[11]["link"]["external_id"] == "new-11"
    assert results[8]["link"]["external_id"] == "crm-4"
