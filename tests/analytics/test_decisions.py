"""What the decision engine decided, as clicks record it and analytics answers it (issue 21): real requests with
real user agents through the redirect app, the clicks shipped from the journal, then `group_by=variants|
destinations|rules`, the `variant`/`destination_url`/`rule_index` filters and the events endpoint must say exactly
what the redirects did; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from mask.app import MaskApp
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import stored_clicks

DEFAULT_URL = "https://example.com/default"
IOS_URL = "https://apps.apple.com/app/mask"
VARIANT_URLS = ["https://example.com/a", "https://example.com/b", "https://example.com/c"]
# Real user agents: desktop Chrome and Firefox of many versions (distinct visitors), iPhones (the rule), a crawler.
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:{}.0) Gecko/20100101 Firefox/{}.0"
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{} "
    "Safari/605.1.15"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{} Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
VISITORS = (
    [CHROME.format(version) for version in range(100, 130)]
    + [FIREFOX.format(version, version) for version in range(110, 130)]
    + [MAC_SAFARI.format(minor) for minor in range(0, 6)]
)
IPHONES = [IPHONE.format(minor, minor) for minor in range(0, 5)]


async def analytics(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get("/v1/analytics/clicks", headers=tenant.headers, params={"interval": "24h", **params})
    assert response.status_code == 200, response.text
    return response.json()


async def events(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/analytics/events", headers=tenant.headers, params={"interval": "24h", "limit": 1000, **params}
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def click(client: httpx.AsyncClient, slug: str, user_agent: str) -> str:
    response = await client.get(f"/{slug}", headers={"User-Agent": user_agent, "Accept": "text/html"})
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def ab_link(client: httpx.AsyncClient, tenant: Tenant, slug: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/links",
        headers=tenant.headers,
        json={
            "url": DEFAULT_URL,
            "slug": slug,
            "rules": [{"url": IOS_URL, "conditions": [{"type": "os", "value": "ios"}]}],
            "variants": [
                {"url": VARIANT_URLS[0], "weight": 50},
                {"url": VARIANT_URLS[1], "weight": 30},
                {"url": VARIANT_URLS[2], "weight": 20},
            ],
        },
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def rows(answer: Any, key: str) -> dict[Any, tuple[int, int]]:
    return {row[key]: (row["clicks"], row["unique_clicks"]) for row in answer["data"]}


async def test_breakdowns_by_variant_destination_and_rule_equal_what_the_redirects_decided(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await ab_link(client, tenant, "launch")
    plain = await client.post(
        "/v1/links", headers=tenant.headers, json={"url": "https://example.com/plain", "slug": "plain"}
    )
    assert plain.status_code == 201, plain.text

    sent: Counter[str] = Counter()  # Location → human clicks
    first: Counter[str] = Counter()  # Location → distinct visitors (unique clicks)
    for user_agent in VISITORS + IPHONES:
        locations = {await click(client, "launch", user_agent) for _ in range(2)}  # a visitor comes back
        assert len(locations) == 1  # the same variant every time, without a cookie
        (location,) = locations
        sent[location] += 2
        first[location] += 1
    bot_location = await click(client, "launch", GOOGLEBOT)
    await click(client, "plain", VISITORS[0])

    assert bot_location == VARIANT_URLS[0]  # bots always get the first variant
    assert sent[IOS_URL] == 2 * len(IPHONES)  # the rule comes before the test
    assert all(sent[url] > 0 for url in VARIANT_URLS), sent  # 56 visitors split 50/30/20 reach every variant
    stored = await stored_clicks(app)
    assert len(stored) == 2 * len(VISITORS + IPHONES) + 2

    expected_variants: dict[int | None, tuple[int, int]] = {
        index: (sent[url], first[url]) for index, url in enumerate(VARIANT_URLS)
    }
    expected_variants[None] = (sent[IOS_URL], first[IOS_URL])  # the rule decided: no variant given
    by_variant = await analytics(client, tenant, group_by="variants", link_id=link["id"])
    assert rows(by_variant, "variant") == expected_variants

    by_destination = await analytics(client, tenant, group_by="destinations", link_id=link["id"])
    assert rows(by_destination, "destination_url") == {url: (sent[url], first[url]) for url in sent}

    by_rule = await analytics(client, tenant, group_by="rules", link_id=link["id"])
    variant_clicks = sum(sent[url] for url in VARIANT_URLS)
    assert rows(by_rule, "rule_index") == {
        0: (sent[IOS_URL], first[IOS_URL]),
        None: (variant_clicks, sum(first[url] for url in VARIANT_URLS)),
    }

    # The workspace's breakdown: the plain link's click went to its own URL, nothing decided (null).
    workspace = rows(await analytics(client, tenant, group_by="destinations"), "destination_url")
    assert workspace[None] == (1, 1)
    # Bots count only when asked for, and always as the first variant.
    with_bots = rows(
        await analytics(client, tenant, group_by="variants", link_id=link["id"], bots="include"), "variant"
    )
    assert with_bots[0] == (sent[VARIANT_URLS[0]] + 1, first[VARIANT_URLS[0]])

    # Filters: one variant, all but one, a destination, a rule.
    assert await analytics(client, tenant, variant="1") == {
        "clicks": sent[VARIANT_URLS[1]],
        "unique_clicks": first[VARIANT_URLS[1]],
    }
    assert (await analytics(client, tenant, variant="0,2"))["clicks"] == sent[VARIANT_URLS[0]] + sent[VARIANT_URLS[2]]
    # Excluding keeps clicks without a variant (the iPhones', the plain link's).
    assert (await analytics(client, tenant, variant="-0"))["clicks"] == sum(sent.values()) + 1 - sent[VARIANT_URLS[0]]
    assert (await analytics(client, tenant, destination_url=IOS_URL))["clicks"] == sent[IOS_URL]
    assert (await analytics(client, tenant, rule_index="0", group_by="devices"))["data"] == [
        {"device": "mobile", "clicks": sent[IOS_URL], "unique_clicks": first[IOS_URL]}
    ]

    # Events: each click says what was decided.
    decided = await events(client, tenant, link_id=link["id"])
    assert Counter(event["destination_url"] for event in decided) == sent
    for event in decided:
        url = event["destination_url"]
        assert event["variant"] == (VARIANT_URLS.index(url) if url in VARIANT_URLS else None)
        assert event["rule_index"] == (0 if url == IOS_URL else None)
        assert event["passed_password"] is False
    only_b = await events(client, tenant, variant="1")
    assert {event["destination_url"] for event in only_b} == {VARIANT_URLS[1]}
    assert len(only_b) == sent[VARIANT_URLS[1]]
    (plain_event,) = await events(client, tenant, link_id=plain.json()["id"])
    assert (plain_event["destination_url"], plain_event["variant"], plain_event["rule_index"]) == (None, None, None)


async def test_a_visitor_let_through_a_password_is_recorded_so(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/v1/links",
        headers=tenant.headers,
        json={"url": "https://example.com/secret", "slug": "locked", "password": "open sesame"},
    )
    assert created.status_code == 201, created.text
    headers = {"User-Agent": VISITORS[3], "Accept": "text/html"}
    unlocked = await client.post("/locked", data={"password": "open sesame"}, headers=headers)
    assert unlocked.status_code == 303
    cookie = unlocked.headers["set-cookie"].split(";", 1)[0]
    through = await client.get("/locked", headers={**headers, "Cookie": cookie})
    assert through.headers["location"] == "https://example.com/secret"
    assert len(await stored_clicks(app)) == 1

    (event,) = await events(client, tenant, link_id=created.json()["id"])
    assert event["passed_password"] is True
    assert (event["destination_url"], event["variant"], event["rule_index"]) == (
        "https://example.com/secret",
        None,
        None,
    )


async def test_bad_decision_filters_are_422_naming_the_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for name, value in (("variant", "first"), ("variant", "-1x"), ("rule_index", "99999"), ("destination_url", "")):
        response = await client.get("/v1/analytics/clicks", headers=tenant.headers, params={name: value})
        assert response.status_code == 422, (name, value, response.text)
        assert [error["param"] for error in response.json()["error"]["errors"]] == [name]
    response = await client.get("/v1/analytics/views", headers=tenant.headers, params={"group_by": "variants"})
    assert response.status_code == 422, response.text


async def test_another_workspace_sees_nothing_of_a_links_variants(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    link = await ab_link(client, tenant, "launch")
    for user_agent in VISITORS[:10]:
        await click(client, "launch", user_agent)
    assert len(await stored_clicks(app)) == 10
    other = await make_tenant(plan="enterprise")

    for group_by in ("variants", "destinations", "rules"):
        response = await client.get(
            "/v1/analytics/clicks", headers=other.headers, params={"group_by": group_by, "link_id": link["id"]}
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["param"] == "link_id"
        assert (await analytics(client, other, group_by=group_by))["data"] == []
    assert await analytics(client, other, variant="0,1,2") == {"clicks": 0, "unique_clicks": 0}
    assert await events(client, other, destination_url=",".join(VARIANT_URLS)) == []
    response = await client.get("/v1/analytics/events", headers=other.headers, params={"link_id": link["id"]})
    assert response.status_code == 404, response.text
    # The owner sees its ten.
    assert sum(row["clicks"] for row in (await analytics(client, tenant, group_by="variants"))["data"]) == 10
