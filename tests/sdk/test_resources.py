"""Every resource of the SDK against a real `mask serve`: create, read, list (across pages), update, delete."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from mask_sdk import NOT_GIVEN, ConflictError, NotFoundError
from mask_sdk.models import (
    Breakdown,
    ClickCount,
    ClickTimeseries,
    HeaderBlockIn,
    LinkBlock,
    LinkBlockIn,
    LinksBreakdown,
    SocialBlockIn,
    TextBlock,
    ThemeIn,
    TrafficTypeClicks,
    UtmSourceClicks,
    ViewBreakdown,
    ViewCount,
)

from tests.sdk.conftest import BROWSER, SdkServer, eventually

pytestmark = pytest.mark.slow


def test_links_are_created_read_updated_listed_and_deleted(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
        link = client.links.create(
            url="https://example.com/spring-sale",
            slug="spring",
            tags=["campaign-q1", "email"],
            utm_source="newsletter",
            utm_medium="email",
            expires_at=expires,
        )
        assert (link.slug, link.tags, link.utm_source) == ("spring", ["campaign-q1", "email"], "newsletter")
        assert link.clicks == 0
        assert link.short_url == f"{server.url}/spring"
        assert link.expires_at == expires
        assert link.id.startswith("lnk_") and link.created_at.tzinfo is not None

        assert client.links.get(link.id) == link

        updated = client.links.update(link.id, utm_source=None, utm_campaign="spring", tags=["email"])
        assert (updated.utm_source, updated.utm_medium, updated.utm_campaign) == (None, "email", "spring")
        assert updated.tags == ["email"]
        assert client.links.update(link.id, slug=NOT_GIVEN).slug == "spring"  # left out: unchanged

        assert [found.id for found in client.links.list(q="spring-sale")] == [link.id]
        assert list(client.links.list(tag="campaign-q1")) == []

        assert client.links.delete(link.id) is None
        with pytest.raises(NotFoundError) as missing:
            client.links.get(link.id)
        assert missing.value.code == "link_not_found"


def test_lists_follow_next_cursor_across_pages(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        created = [client.links.create(url=f"https://example.com/{n}", tags=["paged"]) for n in range(7)]
        client.links.create(url="https://example.com/other", tags=["not-paged"])
        newest_first = [link.id for link in reversed(created)]

        assert [link.id for link in client.links.list(tag="paged", limit=3)] == newest_first
        pages = list(client.links.list(tag="paged", limit=3).pages())
        assert [len(page.data) for page in pages] == [3, 3, 1]
        assert [page.has_more for page in pages] == [True, True, False]

        assert [link.id for link in client.links.list(tag="paged", limit=3, max_items=5)] == newest_first[:5]
        capped = list(client.links.list(tag="paged", limit=3, max_items=4).pages())
        assert [len(page.data) for page in capped] == [3, 1]  # the last page asked for the one item it needed

        first = client.links.list_page(tag="paged", limit=4)
        assert first.has_more and first.next_cursor is not None
        second = client.links.list_page(tag="paged", limit=4, cursor=first.next_cursor)
        assert [link.id for link in [*first.data, *second.data]] == newest_first
        assert (second.has_more, second.next_cursor) == (False, None)


def test_domains_are_added_listed_and_removed_unless_in_use(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        name = f"go.{server.backend}-{datetime.now(UTC).strftime('%H%M%S%f')}.example.com"
        domain = client.domains.create(domain=name.upper())
        assert (domain.domain, domain.verified) == (name, False)
        assert client.domains.get(domain.id) == domain
        assert [found.id for found in client.domains.list()] == [domain.id]
        assert client.domains.list_page(limit=1).data == [domain]

        link = client.links.create(url="https://example.com/", domain=name)
        assert link.short_url == f"https://{name}/{link.slug}"
        with pytest.raises(ConflictError) as in_use:
            client.domains.delete(domain.id)
        assert in_use.value.code == "domain_in_use"

        client.links.delete(link.id)
        client.domains.delete(domain.id)
        assert list(client.domains.list()) == []


def test_tags_come_with_their_link_counts(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        client.links.create(url="https://example.com/1", tags=["beta", "alpha"])
        client.links.create(url="https://example.com/2", tags=["alpha"])
        tags = client.tags.list()
        assert [(tag.name, tag.link_count) for tag in tags] == [("alpha", 2), ("beta", 1)]


def test_bio_pages_with_their_blocks_and_theme(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        handle = f"ada{datetime.now(UTC).strftime('%H%M%S%f')}"
        page = client.bio_pages.create(
            handle=handle,
            title="Ada Lovelace",
            theme=ThemeIn(preset="midnight", button_shape="pill"),
            blocks=[
                HeaderBlockIn(text="Links"),
                LinkBlockIn(title="My site", url="https://example.com/ada"),
                SocialBlockIn(platform="github", url="https://github.com/ada"),
                {"type": "text", "text": "Notes on the Analytical Engine."},
            ],
        )
        assert page.url == f"{server.url}/@{handle}" and page.published
        assert (page.theme.preset, page.theme.button_shape) == ("midnight", "pill")
        assert [block.type for block in page.blocks] == ["header", "link", "social", "text"]
        assert client.bio_pages.get(page.id) == page
        assert [found.id for found in client.bio_pages.list()] == [page.id]

        kept = page.blocks[1]
        assert isinstance(kept, LinkBlock)
        updated = client.bio_pages.update(
            page.id,
            title=None,
            blocks=[LinkBlockIn(id=kept.id, title="Site", url=kept.url), {"type": "text", "text": "New."}],
        )
        assert updated.title is None and updated.theme.preset == "midnight"
        assert updated.blocks[0].id == kept.id and isinstance(updated.blocks[1], TextBlock)

        client.bio_pages.delete(page.id)
        with pytest.raises(NotFoundError):
            client.bio_pages.get(page.id)


def test_webhooks_their_secret_rotation_test_events_and_deliveries(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        webhook = client.webhooks.create(
            url="http://127.0.0.1:9/hook", events=["link.created"], description="nobody listens here"
        )
        assert webhook.secret.startswith("whsec_") and webhook.enabled
        fetched = client.webhooks.get(webhook.id)
        assert not hasattr(fetched, "secret") and fetched.url == webhook.url
        assert [found.id for found in client.webhooks.list()] == [webhook.id]

        rotated = client.webhooks.rotate_secret(webhook.id)
        assert rotated.secret != webhook.secret and rotated.secret.startswith("whsec_")

        delivery = client.webhooks.send_test(webhook.id)
        assert (delivery.webhook_id, delivery.event_type) == (webhook.id, "ping")
        assert [found.id for found in client.webhooks.deliveries.list(webhook.id)] == [delivery.id]
        assert client.webhooks.deliveries.list_page(webhook.id, event_type="link.created").data == []
        detail = client.webhooks.deliveries.get(webhook.id, delivery.id)
        assert detail.payload is not None and detail.payload["type"] == "ping"
        assert client.webhooks.deliveries.retry(webhook.id, delivery.id).id == delivery.id

        updated = client.webhooks.update(webhook.id, enabled=False, events=["link.created", "link.deleted"])
        assert (updated.enabled, updated.disabled_reason, updated.events) == (
            False,
            "manual",
            ["link.created", "link.deleted"],
        )
        with pytest.raises(ConflictError):
            client.webhooks.send_test(webhook.id)

        client.webhooks.delete(webhook.id)
        with pytest.raises(NotFoundError):
            client.webhooks.get(webhook.id)


def test_analytics_count_what_a_real_click_and_a_real_view_recorded(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        link = client.links.create(url="https://example.com/counted", utm_source="newsletter")
        server.click(link.short_url)
        eventually(lambda: client.links.get(link.id).clicks == 1, message="the click stored")

        total = client.analytics.clicks(link_id=link.id, interval="all")
        assert isinstance(total, ClickCount) and (total.clicks, total.unique_clicks) == (1, 1)

        top = client.analytics.clicks(group_by="links", interval="30d")
        assert isinstance(top, LinksBreakdown)
        assert [(row.link_id, row.slug, row.clicks) for row in top.data] == [(link.id, link.slug, 1)]

        sources = client.analytics.clicks(group_by="utm_sources", interval="30d")
        assert isinstance(sources, Breakdown) and isinstance(sources.data[0], UtmSourceClicks)
        assert [(row.utm_source, row.clicks) for row in sources.data if isinstance(row, UtmSourceClicks)] == [
            ("newsletter", 1)
        ]

        series = client.analytics.clicks(group_by="timeseries", interval="24h", granularity="hour")
        assert isinstance(series, ClickTimeseries) and sum(point.clicks for point in series.data) == 1

        exported = client.analytics.clicks_csv(group_by="links", interval="30d")
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert [(row["link_id"], row["clicks"]) for row in rows] == [(link.id, "1")]

        events = list(client.analytics.events.list(interval="all", link_id=link.id, limit=1))
        assert [(e.link_id, e.utm_source, e.is_bot, e.trigger) for e in events] == [
            (link.id, "newsletter", False, "link")
        ]
        assert (events[0].traffic_type, events[0].bot_name, events[0].orphan_type) == ("human", None, None)
        types = client.analytics.clicks(group_by="traffic_types", interval="all", link_id=link.id)
        assert isinstance(types, Breakdown) and [
            (row.traffic_type, row.clicks) for row in types.data if isinstance(row, TrafficTypeClicks)
        ] == [("human", 1)]
        orphans = client.analytics.clicks(kind="orphan", interval="all")
        assert isinstance(orphans, ClickCount) and orphans.clicks == 0
        page_of_events = client.analytics.events.page(interval="all", link_id=link.id)
        assert [e.click_id for e in page_of_events.data] == [events[0].click_id] and not page_of_events.has_more
        exported_events = client.analytics.events.csv(interval="all", link_id=link.id)
        assert [row["click_id"] for row in csv.DictReader(io.StringIO(exported_events))] == [events[0].click_id]
        lines = client.analytics.events.ndjson(interval="all", link_id=link.id).splitlines()
        assert [json.loads(line)["click_id"] for line in lines] == [events[0].click_id]

        handle = f"viewed{datetime.now(UTC).strftime('%H%M%S%f')}"
        page = client.bio_pages.create(handle=handle)
        assert httpx.get(page.url, headers={"User-Agent": BROWSER}, timeout=30).status_code == 200
        eventually(lambda: client.bio_pages.get(page.id).views == 1, message="the view stored")
        views = client.analytics.views(bio_page_id=page.id, interval="all")
        assert isinstance(views, ViewCount) and views.views == 1
        by_page = client.analytics.views(group_by="bio_pages", interval="30d")
        assert isinstance(by_page, ViewBreakdown) and by_page.data[0].model_extra == {"bio_page_id": page.id}
        assert "views,unique_views" in client.analytics.views_csv(group_by="count", bio_page_id=page.id)
