"""GET /v1/analytics/clicks against hand-computed fixtures, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.bio_page import BioPage
from tests.analytics.helpers import analytics, at, click, create_link, record
from tests.conftest import Tenant, TenantFactory

DAY = {"start": "2026-04-01T00:00:00Z", "end": "2026-04-02T00:00:00Z"}


def counts(rows: list[dict[str, Any]], key: str) -> list[tuple[Any, int, int]]:
    return [(row[key], row["clicks"], row["unique_clicks"]) for row in rows]


async def test_count_for_a_link_equals_its_clicks_field_humans_only_and_unique_per_visitor_day(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "promo")
    first = click(tenant, at("2026-03-01T10:00"), link_id=link, visitor="v1")
    await record(
        app,
        [
            first,
            click(tenant, at("2026-03-01T10:05"), link_id=link, visitor="v1"),  # same visitor, same day
            click(tenant, at("2026-03-01T10:10"), link_id=link, visitor="v2"),
            click(tenant, at("2026-03-02T09:00"), link_id=link, visitor="v1"),  # a new day: unique again
            click(tenant, at("2026-03-01T10:00"), link_id=link, visitor="crawler", is_bot=True),
        ],
    )
    await record(app, [first])  # a re-delivered click is stored (and counted) once

    field = (await client.get(f"/v1/links/{link}", headers=tenant.headers)).json()["clicks"]
    assert field == 4
    assert await analytics(client, tenant, link_id=link, interval="all") == {"clicks": 4, "unique_clicks": 3}
    assert await analytics(client, tenant, link_id=link, interval="all", bots="include") == {
        "clicks": 5,
        "unique_clicks": 3,
    }
    assert await analytics(client, tenant, link_id=link, interval="all", bots="only") == {
        "clicks": 1,
        "unique_clicks": 0,
    }
    assert await analytics(client, tenant, interval="all") == {"clicks": 4, "unique_clicks": 3}


async def test_new_york_day_buckets_follow_dst_with_both_edges_exact(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "ny")
    times = [
        "2026-03-07T04:59",  # Mar 6, 23:59 EST: before the range
        "2026-03-07T05:00",  # Mar 7, 00:00 EST: first instant of the first bucket
        "2026-03-08T04:59:59",  # Mar 7, 23:59:59 EST
        "2026-03-08T05:00",  # Mar 8, 00:00 EST
        "2026-03-08T07:30",  # Mar 8, 03:30 EDT (clocks jumped at 07:00 UTC)
        "2026-03-09T03:59",  # Mar 8, 23:59 EDT: the 23-hour day's last minute
        "2026-03-09T04:00",  # Mar 9, 00:00 EDT
        "2026-03-10T03:59",  # Mar 9, 23:59 EDT
        "2026-03-10T04:00",  # Mar 10, 00:00 EDT: the range's end, excluded
    ]
    await record(app, [click(tenant, at(t), link_id=link) for t in times])
    params = {"start": "2026-03-07", "end": "2026-03-10", "timezone": "America/New_York"}

    series = await analytics(client, tenant, group_by="timeseries", granularity="day", **params)
    assert [(p["start"], p["clicks"], p["unique_clicks"]) for p in series["data"]] == [
        ("2026-03-07T05:00:00Z", 2, 2),
        ("2026-03-08T05:00:00Z", 3, 3),
        ("2026-03-09T04:00:00Z", 2, 2),
    ]
    assert await analytics(client, tenant, **params) == {"clicks": 7, "unique_clicks": 7}
    by_link = await analytics(client, tenant, group_by="timeseries", granularity="day", link_id=link, **params)
    assert by_link == series


async def test_new_york_fall_back_has_two_one_oclock_hours_and_a_25_hour_day(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "fall")
    await record(
        app,
        [
            click(tenant, at(t), link_id=link)
            for t in (
                "2026-11-01T05:30",  # 01:30 EDT
                "2026-11-01T06:30",  # 01:30 EST, an hour later
                "2026-11-02T04:30",  # Nov 1, 23:30 EST: still the 25-hour day
                "2026-11-02T05:00",  # Nov 2, 00:00 EST
            )
        ],
    )
    tz = {"timezone": "America/New_York"}
    hours = await analytics(
        client, tenant, group_by="timeseries", granularity="hour", start="2026-11-01", end="2026-11-02", **tz
    )
    assert len(hours["data"]) == 25
    assert [(p["start"], p["clicks"]) for p in hours["data"][1:3]] == [
        ("2026-11-01T05:00:00Z", 1),
        ("2026-11-01T06:00:00Z", 1),
    ]
    days = await analytics(
        client, tenant, group_by="timeseries", granularity="day", start="2026-10-31", end="2026-11-03", **tz
    )
    assert [(p["start"], p["clicks"]) for p in days["data"]] == [
        ("2026-10-31T04:00:00Z", 0),
        ("2026-11-01T04:00:00Z", 3),
        ("2026-11-02T05:00:00Z", 1),
    ]


async def test_berlin_month_and_dst_day_buckets(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await create_link(client, tenant, "berlin")
    await record(
        app,
        [
            click(tenant, at(t), link_id=link)
            for t in (
                "2026-09-30T21:59",  # Sep 30, 23:59 CEST: before October
                "2026-09-30T22:00",  # Oct 1, 00:00 CEST
                "2026-10-31T22:59",  # Oct 31, 23:59 CET (the clocks went back on the 25th)
                "2026-10-31T23:00",  # Nov 1, 00:00 CET
                "2026-11-30T22:59",  # Nov 30, 23:59 CET
                "2026-11-30T23:00",  # Dec 1: the end, excluded
                "2026-03-29T21:59",  # Mar 29 (a 23-hour day), 23:59 CEST
                "2026-03-29T22:00",  # Mar 30, 00:00 CEST
            )
        ],
    )
    tz = {"timezone": "Europe/Berlin"}
    months = await analytics(
        client, tenant, group_by="timeseries", granularity="month", start="2026-10-01", end="2026-12-01", **tz
    )
    assert months["granularity"] == "month"
    assert [(p["start"], p["clicks"]) for p in months["data"]] == [
        ("2026-09-30T22:00:00Z", 2),
        ("2026-10-31T23:00:00Z", 2),
    ]
    spring = await analytics(
        client, tenant, group_by="timeseries", granularity="day", start="2026-03-29", end="2026-03-31", **tz
    )
    assert [(p["start"], p["clicks"]) for p in spring["data"]] == [
        ("2026-03-28T23:00:00Z", 1),
        ("2026-03-29T22:00:00Z", 1),
    ]


async def test_kolkata_days_start_at_half_past_and_are_exact_on_both_sides(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "kol")
    await record(
        app,
        [
            click(tenant, at(t), link_id=link, country=c)
            for t, c in (
                ("2026-05-09T18:29", "IN"),  # May 9, 23:59 IST: before the range
                ("2026-05-10T18:29", "IN"),  # May 10, 23:59 IST
                ("2026-05-10T18:30", "IN"),  # May 11, 00:00 IST
                ("2026-05-10T18:31", "US"),
                ("2026-05-11T12:00", "IN"),
                ("2026-05-11T18:29:59", "US"),  # May 11, 23:59:59 IST
                ("2026-05-12T18:00", "IN"),  # May 12, 23:30 IST
                ("2026-05-12T18:30", "IN"),  # May 13, 00:00 IST: the end, excluded
            )
        ],
    )
    params = {"start": "2026-05-10", "end": "2026-05-13", "timezone": "Asia/Kolkata"}
    days = await analytics(client, tenant, group_by="timeseries", granularity="day", **params)
    assert [(p["start"], p["clicks"]) for p in days["data"]] == [
        ("2026-05-09T18:30:00Z", 1),
        ("2026-05-10T18:30:00Z", 4),
        ("2026-05-11T18:30:00Z", 1),
    ]
    countries = await analytics(client, tenant, group_by="countries", **params)
    assert counts(countries["data"], "country") == [("IN", 4, 4), ("US", 2, 2)]


async def test_rolling_and_calendar_intervals_end_now(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await create_link(client, tenant, "now")
    now = datetime.now(UTC)
    berlin = ZoneInfo("Europe/Berlin")
    local = now.astimezone(berlin)
    month_start = datetime(local.year, local.month, 1, tzinfo=berlin).astimezone(UTC)
    times = [
        now - timedelta(minutes=1),
        now - timedelta(hours=23, minutes=58),
        now - timedelta(hours=24, minutes=2),  # outside 24h
        now - timedelta(days=6, hours=23),  # inside 7d
        now - timedelta(days=40),  # outside 30d
        month_start - timedelta(seconds=1),  # the last second before this month, in Berlin
        month_start + timedelta(seconds=1),
    ]
    times = [t for t in times if t < now - timedelta(seconds=5)]  # early on the 1st, the last one is future
    await record(app, [click(tenant, t, link_id=link) for t in times])

    def inside(start: datetime) -> int:
        return sum(1 for t in times if t >= start)

    assert (await analytics(client, tenant))["clicks"] == inside(now - timedelta(hours=24))  # the default
    assert (await analytics(client, tenant, interval="7d"))["clicks"] == inside(now - timedelta(days=7))
    assert (await analytics(client, tenant, interval="90d"))["clicks"] == len(times)
    assert (await analytics(client, tenant, interval="mtd", timezone="Europe/Berlin"))["clicks"] == inside(month_start)
    series = await analytics(client, tenant, group_by="timeseries", interval="all")
    assert sum(p["clicks"] for p in series["data"]) == len(times)
    first = datetime.fromisoformat(series["data"][0]["start"])
    assert first <= now - timedelta(days=40) < first + timedelta(days=1)  # day buckets from the first click
    assert series["granularity"] == "day"  # chosen from the range, and said


async def _filter_fixture(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    domain = await client.post("/v1/domains", headers=tenant.headers, json={"domain": "go.example.com"})
    assert domain.status_code == 201, domain.text
    links = {
        "one": await create_link(client, tenant, "one", tags=["a", "b"]),
        "two": await create_link(client, tenant, "two", tags=["b"]),
        "three": await create_link(client, tenant, "three", domain="go.example.com"),
    }
    # The workspace's bio page `bio_x` (a filter naming another workspace's page, or none, is 404).
    page = await client.post("/v1/bio-pages", headers=tenant.headers, json={"handle": "filters"})
    assert page.status_code == 201, page.text
    async with session_scope(app.context.sessionmaker) as session:
        await session.execute(update(BioPage).where(BioPage.id == page.json()["id"]).values(id="bio_x"))
    t = at("2026-04-01T12:00")
    minute = timedelta(minutes=1)
    await record(
        app,
        [
            click(
                tenant,
                t,
                link_id=links["one"],
                visitor="p",
                country="US",
                device="mobile",
                browser="Chrome",
                os="iOS",
                referrer="t.co",
                referrer_url="https://t.co/x",
                utm_source="twitter",
            ),
            click(
                tenant,
                t + minute,
                link_id=links["one"],
                visitor="p",
                country="US",
                device="mobile",
                browser="Safari",
                os="iOS",
                referrer="t.co",
                referrer_url="https://t.co/x",
                utm_source="twitter",
            ),
            click(
                tenant,
                t + 2 * minute,
                link_id=links["one"],
                visitor="q",
                country="DE",
                device="desktop",
                browser="Chrome",
                os="Windows",
                referrer="google.com",
                referrer_url="https://google.com/",
            ),
            click(
                tenant,
                t + 3 * minute,
                link_id=links["two"],
                visitor="r",
                country="DE",
                device="desktop",
                browser="Firefox",
                os="Linux",
            ),
            click(
                tenant,
                t + 4 * minute,
                link_id=links["two"],
                visitor="s",
                device="mobile",
                browser="Chrome",
                os="Android",
                referrer="google.com",
                referrer_url="https://google.com/",
                utm_source="newsletter",
            ),
            click(
                tenant,
                t + 5 * minute,
                link_id=links["three"],
                visitor="t",
                domain="go.example.com",
                country="FR",
                device="tablet",
                browser="Safari",
                os="iPadOS",
            ),
            click(
                tenant,
                t + 6 * minute,
                link_id=links["three"],
                visitor="bot",
                domain="go.example.com",
                country="US",
                device="bot",
                is_bot=True,
            ),
            # A bio page: a click on one of its blocks counts; a view of the page is not a click.
            click(tenant, t + 7 * minute, visitor="u", bio_page_id="bio_x", bio_block_id="blk_1", country="FR"),
            click(tenant, t + 8 * minute, visitor="u", bio_page_id="bio_x", country="FR"),
        ],
    )
    return links


async def test_breakdowns_sum_to_the_total_with_unknown_values_as_null(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    links = await _filter_fixture(app, client, tenant)
    assert await analytics(client, tenant, **DAY) == {"clicks": 7, "unique_clicks": 6}
    countries = (await analytics(client, tenant, group_by="countries", **DAY))["data"]
    # Most clicks first, then most unique, then by value (null sorts first).
    assert counts(countries, "country") == [("DE", 2, 2), ("FR", 2, 2), ("US", 2, 1), (None, 1, 1)]
    referrers = (await analytics(client, tenant, group_by="referrers", **DAY))["data"]
    assert counts(referrers, "referrer") == [(None, 3, 3), ("google.com", 2, 2), ("t.co", 2, 1)]
    assert counts((await analytics(client, tenant, group_by="devices", limit=2, **DAY))["data"], "device") == [
        ("mobile", 3, 2),
        ("desktop", 2, 2),
    ]
    top = (await analytics(client, tenant, group_by="links", **DAY))["data"]
    assert [(row["slug"], row["short_url"], row["clicks"], row["unique_clicks"]) for row in top] == [
        ("one", "http://localhost:8000/one", 3, 2),
        ("two", "http://localhost:8000/two", 2, 2),
        ("three", "https://go.example.com/three", 1, 1),
    ]
    assert top[0]["link_id"] == links["one"]
    tags = (await analytics(client, tenant, group_by="tags", **DAY))["data"]
    assert counts(tags, "tag") == [("b", 5, 4), ("a", 3, 2)]
    domains = (await analytics(client, tenant, group_by="domains", **DAY))["data"]
    assert counts(domains, "domain") == [("localhost:8000", 6, 5), ("go.example.com", 1, 1)]
    assert counts((await analytics(client, tenant, group_by="bio_pages", **DAY))["data"], "bio_page_id") == [
        ("bio_x", 1, 1)
    ]
    assert (await analytics(client, tenant, group_by="bio_blocks", **DAY))["data"] == [
        {"bio_page_id": "bio_x", "bio_block_id": "blk_1", "clicks": 1, "unique_clicks": 1}
    ]
    utm = (await analytics(client, tenant, group_by="utm_sources", **DAY))["data"]
    assert counts(utm, "utm_source") == [(None, 4, 4), ("twitter", 2, 1), ("newsletter", 1, 1)]
    bots = (await analytics(client, tenant, group_by="devices", bots="only", **DAY))["data"]
    assert counts(bots, "device") == [("bot", 1, 0)]


FILTER_CASES: list[tuple[dict[str, str], tuple[int, int]]] = [
    ({"country": "US,DE"}, (4, 3)),
    ({"country": "-US"}, (5, 5)),  # excluding keeps clicks whose country is unknown
    ({"country": "-us,-de"}, (3, 3)),
    ({"tag": "a"}, (3, 2)),
    ({"tag": "b"}, (5, 4)),
    ({"tag": "-a"}, (4, 4)),  # links without tag `a`, and the bio page
    ({"tag": "a,-b"}, (0, 0)),
    ({"tag": "no-such-tag"}, (0, 0)),
    ({"domain": "GO.example.com"}, (1, 1)),
    ({"domain": "-go.example.com", "device": "mobile"}, (3, 2)),
    ({"utm_source": "twitter"}, (2, 1)),
    ({"referrer": "-t.co", "browser": "Chrome"}, (2, 2)),
    ({"device": "mobile", "os": "iOS,Android"}, (3, 2)),
    ({"bio_page_id": "bio_x"}, (1, 1)),
    ({"city": "Paris"}, (0, 0)),
    # `(none)`: clicks without a value (rollups keep no row for them: answered from the raw clicks).
    ({"country": "(none)"}, (1, 1)),
    ({"country": "-(none)"}, (6, 5)),
    ({"country": "-(none),-US"}, (4, 4)),
    ({"referrer": "(none)"}, (3, 3)),
    ({"utm_source": "(none),twitter"}, (6, 5)),
    ({"city": "(none)"}, (7, 6)),
]


async def test_filters_with_lists_and_exclusions(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    await _filter_fixture(app, client, tenant)
    for params, expected in FILTER_CASES:
        result = await analytics(client, tenant, **params, **DAY)
        assert (result["clicks"], result["unique_clicks"]) == expected, params


async def test_none_filters_the_rows_a_breakdown_shows_as_null(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    links = await _filter_fixture(app, client, tenant)
    for group_by, key in (("countries", "country"), ("referrers", "referrer"), ("utm_sources", "utm_source")):
        rows = (await analytics(client, tenant, group_by=group_by, **DAY))["data"]
        unknown = next(row for row in rows if row[key] is None)
        filtered = await analytics(client, tenant, **{key: "(none)"}, **DAY)
        assert (filtered["clicks"], filtered["unique_clicks"]) == (unknown["clicks"], unknown["unique_clicks"])
    direct = (await analytics(client, tenant, group_by="countries", referrer="(none)", **DAY))["data"]
    assert sum(row["clicks"] for row in direct) == 3
    one = await analytics(client, tenant, link_id=links["one"], referrer="(none)", **DAY)
    events = await client.get(
        "/v1/analytics/events", headers=tenant.headers, params={"link_id": links["one"], "referrer": "(none)", **DAY}
    )
    assert events.status_code == 200, events.text
    assert len(events.json()["data"]) == one["clicks"]
    assert all(event["referrer"] is None for event in events.json()["data"])
    for params in ({"trigger": "(none)"}, {"domain": "(none)"}, {"link_id": "(none)"}):
        response = await client.get("/v1/analytics/clicks", headers=tenant.headers, params={**params, **DAY})
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["param"] == next(iter(params))


async def test_link_filters_and_breakdowns_over_two_dimensions(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    links = await _filter_fixture(app, client, tenant)
    both = await analytics(client, tenant, link_id=f"{links['one']},{links['two']}", **DAY)
    assert both == {"clicks": 5, "unique_clicks": 4}
    assert (await analytics(client, tenant, link_id=f"-{links['one']}", **DAY))["clicks"] == 4
    browsers = (await analytics(client, tenant, group_by="browsers", device="mobile", **DAY))["data"]
    assert counts(browsers, "browser") == [("Chrome", 2, 2), ("Safari", 1, 0)]
    one = (await analytics(client, tenant, group_by="countries", link_id=links["one"], **DAY))["data"]
    assert counts(one, "country") == [("US", 2, 1), ("DE", 1, 1)]
    tagged = (await analytics(client, tenant, group_by="links", tag="b", country="DE", **DAY))["data"]
    assert [(row["slug"], row["clicks"]) for row in tagged] == [("one", 1), ("two", 1)]


async def test_unique_ranks_by_distinct_visitors(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await create_link(client, tenant, "rank")
    t = at("2026-04-01T12:00")
    await record(
        app,
        [
            *(click(tenant, t + timedelta(minutes=i), link_id=link, visitor="fan", country="GB") for i in range(3)),
            click(tenant, t, link_id=link, country="DE"),
            click(tenant, t, link_id=link, country="DE"),
        ],
    )
    by_clicks = (await analytics(client, tenant, group_by="countries", **DAY))["data"]
    by_unique = (await analytics(client, tenant, group_by="countries", unique="true", **DAY))["data"]
    assert counts(by_clicks, "country") == [("GB", 3, 1), ("DE", 2, 2)]
    assert counts(by_unique, "country") == [("DE", 2, 2), ("GB", 3, 1)]
    assert counts(
        (await analytics(client, tenant, group_by="countries", unique="true", limit=1, **DAY))["data"], "country"
    ) == [("DE", 2, 2)]


async def test_csv_parses_back_to_the_json_rows(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    await _filter_fixture(app, client, tenant)
    for group_by in ("count", "timeseries", "countries", "links", "tags", "referrer_urls", "bio_blocks"):
        await _check_csv(client, tenant, {"group_by": group_by, **DAY})


async def _check_csv(client: httpx.AsyncClient, tenant: Tenant, params: dict[str, str]) -> None:
    json_body = await analytics(client, tenant, **params)
    json_rows = json_body["data"] if "data" in json_body else [json_body]
    for extra, headers in (({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})):
        response = await client.get(
            "/v1/analytics/clicks", params={**params, **extra}, headers={**tenant.headers, **headers}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        parsed = list(csv.DictReader(io.StringIO(response.text)))
        assert len(parsed) == len(json_rows)
        for csv_row, json_row in zip(parsed, json_rows, strict=True):
            assert csv_row.keys() == json_row.keys()
            for key, value in json_row.items():
                expected = "" if value is None else str(value)
                assert csv_row[key] == expected, (key, csv_row, json_row)
    assert sum(int(row["clicks"]) for row in parsed) == sum(row["clicks"] for row in json_rows)


async def test_csv_cells_that_look_like_formulas_are_defused(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    link = await create_link(client, tenant, "csv")
    await record(app, [click(tenant, at("2026-04-01T12:00"), link_id=link, utm_source='=HYPERLINK("http://x")')])
    response = await client.get(
        "/v1/analytics/clicks", headers=tenant.headers, params={"group_by": "utm_sources", "format": "csv", **DAY}
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [["utm_source", "clicks", "unique_clicks"], ['\'=HYPERLINK("http://x")', "1", "1"]]
    json_rows = (await analytics(client, tenant, group_by="utm_sources", **DAY))["data"]
    assert json_rows[0]["utm_source"] == '=HYPERLINK("http://x")'


INVALID_CASES: list[tuple[dict[str, str], str]] = [
    ({"group_by": "planets"}, "group_by"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"start": "2026-03-02", "end": "2026-03-01"}, "end"),
    ({"start": "2026-03-01", "end": "2026-03-01"}, "end"),
    ({"start": "1999-12-31"}, "start"),
    ({"start": "2026-03-01", "end": "2099-01-01"}, "end"),
    ({"start": "yesterday"}, "start"),
    ({"end": "2026-03-01"}, "start"),
    ({"interval": "7d", "start": "2026-03-01"}, "interval"),
    ({"interval": "2w"}, "interval"),
    ({"granularity": "week"}, "granularity"),
    ({"group_by": "timeseries", "interval": "1y", "granularity": "hour"}, "granularity"),
    ({"country": "USA"}, "country"),
    ({"country": "US,,DE"}, "country"),
    ({"device": "-"}, "device"),
    ({"utm_source": "a\x01b"}, "utm_source"),
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"bots": "maybe"}, "bots"),
    ({"unique": "perhaps"}, "unique"),
    ({"format": "xml"}, "format"),
    ({"group_by_": "count"}, "group_by_"),
]


async def test_invalid_parameters_are_422_naming_the_parameter(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for params, param in INVALID_CASES:
        response = await client.get("/v1/analytics/clicks", headers=tenant.headers, params=params)
        assert response.status_code == 422, (params, response.text)
        error = response.json()["error"]
        assert error["param"] == param, (params, error)
        assert param in {e["param"] for e in error["errors"]}


async def test_every_invalid_parameter_is_listed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        "/v1/analytics/clicks", headers=tenant.headers, params={"timezone": "Nowhere", "country": "X", "start": "nope"}
    )
    assert response.status_code == 422
    assert {e["param"] for e in response.json()["error"]["errors"]} == {"timezone", "country", "start"}


async def test_a_workspace_only_sees_its_own_clicks(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    links = await _filter_fixture(app, client, tenant)
    other = await make_tenant(plan="enterprise")
    await create_link(client, other, "theirs", tags=["a"])
    assert await analytics(client, other, interval="all") == {"clicks": 0, "unique_clicks": 0}
    for group_by in ("countries", "links", "tags", "domains", "bio_pages", "timeseries"):
        data = (await analytics(client, other, group_by=group_by, **DAY))["data"]
        assert all(row["clicks"] == 0 for row in data), (group_by, data)
    assert await analytics(client, other, tag="a", interval="all") == {"clicks": 0, "unique_clicks": 0}
    response = await client.get("/v1/analytics/clicks", headers=other.headers, params={"bio_page_id": "bio_x"})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["param"] == "bio_page_id"
    for value in (links["one"], f"-{links['one']}", "lnk_doesnotexist"):
        response = await client.get("/v1/analytics/clicks", headers=other.headers, params={"link_id": value})
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "link_not_found"
        assert response.json()["error"]["param"] == "link_id"


async def test_needs_the_analytics_read_scope(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    limited = await make_tenant(plan="enterprise", scopes=["links:read"])
    response = await client.get("/v1/analytics/clicks", headers=limited.headers)
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "analytics:read"
    assert (await client.get("/v1/analytics/clicks")).status_code == 401


async def test_openapi_documents_each_shape_and_csv(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/v1/openapi.json")).json()
    operation = schema["paths"]["/v1/analytics/clicks"]["get"]
    content = operation["responses"]["200"]["content"]
    assert "text/csv" in content
    refs = {item["$ref"].rsplit("/", 1)[1] for item in content["application/json"]["schema"]["anyOf"]}
    assert {
        "ClickCount",
        "ClickTimeseries",
        "LinksBreakdown",
        "CountryBreakdown",
        "TagBreakdown",
        "ReferrerUrlBreakdown",
        "UtmContentBreakdown",
        "BioPageIdBreakdown",
        "BioBlocksBreakdown",
    } <= refs
    assert schema["components"]["schemas"]["CountryClicks"]["required"] == ["country", "clicks", "unique_clicks"]
    parameters = {p["name"] for p in operation["parameters"]}
    assert {
        "group_by",
        "interval",
        "start",
        "end",
        "timezone",
        "granularity",
        "link_id",
        "tag",
        "domain",
        "country",
        "utm_campaign",
        "bots",
        "unique",
        "limit",
        "format",
    } <= parameters
    assert set(operation["responses"]) >= {"200", "403", "404", "422"}
