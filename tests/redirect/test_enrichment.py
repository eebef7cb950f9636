"""Enrichment on real user-agent strings and real addresses (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mask.click.enrichment import Enricher, GeoLocator, Place, parse_agent, referrer_parts
from mask.click.schemas import RawClick

DESKTOP_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
CURL = "curl/8.5.0"


@pytest.mark.parametrize(
    ("user_agent", "device", "browser", "os", "is_bot"),
    [
        (DESKTOP_CHROME, "desktop", "Chrome", "Windows", False),
        (MAC_FIREFOX, "desktop", "Firefox", "Mac OS X", False),
        (IPHONE, "mobile", "Mobile Safari", "iOS", False),
        (IPAD, "tablet", "Mobile Safari", "iOS", False),
        (ANDROID, "mobile", "Chrome Mobile", "Android", False),
        (GOOGLEBOT, "bot", "Googlebot", None, True),
        (SLACKBOT, "bot", "Slackbot-LinkExpanding", None, True),
        (CURL, "bot", "curl", None, True),
        ("", "bot", None, None, True),
    ],
)
def test_user_agents_are_parsed_into_device_browser_os_and_bot(
    user_agent: str, device: str, browser: str | None, os: str | None, is_bot: bool
) -> None:
    agent = parse_agent(user_agent)
    assert (agent.device, agent.browser, agent.os, agent.is_bot) == (device, browser, os, is_bot)


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("81.2.69.160", "GB"),
        ("217.160.0.1", "DE"),
        ("1.1.1.1", "AU"),
        ("2001:4860:4860::8888", "US"),
        ("2a00:1450:4001:82b::200e", "DE"),
        ("127.0.0.1", None),
        ("10.1.2.3", None),
        ("::1", None),
        ("203.0.113.10", None),  # documentation range
        ("not-an-ip", None),
        (None, None),
    ],
)
def test_ipv4_and_ipv6_addresses_map_to_their_country_offline(ip: str | None, country: str | None) -> None:
    place = GeoLocator().locate(ip)
    assert (place.country, place.city) == (country, None)  # the bundled data has no cities


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("https://www.Google.com/search?q=x", ("www.google.com", "https://www.Google.com/search?q=x")),
        ("android-app://com.slack/", ("com.slack", "android-app://com.slack/")),
        ("", (None, None)),
        ("not a url", (None, None)),
        ("http://[::1", (None, None)),
    ],
)
def test_referrer_header_gives_host_and_url(header: str, expected: tuple[str | None, str | None]) -> None:
    assert referrer_parts(header) == expected


def _raw(at: datetime, ip: str = "81.2.69.160", user_agent: str = DESKTOP_CHROME) -> RawClick:
    return RawClick(
        click_id="clk_1",
        at=at.timestamp(),
        workspace_id="ws_1",
        domain="localhost:8000",
        link_id="lnk_1",
        ip=ip,
        user_agent=user_agent,
        referrer="https://news.example/item",
        utm_source="tw",
    )


def test_enriched_click_has_no_ip_and_a_daily_rotating_salted_visitor_hash() -> None:
    enricher = Enricher(secret_key="k" * 40)
    day = datetime(2026, 5, 1, 23, 59, tzinfo=UTC)
    first = enricher.enrich(_raw(day))
    same_day = enricher.enrich(_raw(day.replace(hour=1)))
    next_day = enricher.enrich(_raw(datetime(2026, 5, 2, 0, 1, tzinfo=UTC)))
    other_ip = enricher.enrich(_raw(day, ip="8.8.8.8"))
    other_secret = Enricher(secret_key="x" * 40).enrich(_raw(day))

    assert first.visitor_hash == same_day.visitor_hash
    assert len({first.visitor_hash, next_day.visitor_hash, other_ip.visitor_hash, other_secret.visitor_hash}) == 4
    assert "81.2.69.160" not in repr(first)
    assert (first.country, first.device, first.browser, first.referrer, first.utm_source, first.is_bot) == (
        "GB",
        "desktop",
        "Chrome",
        "news.example",
        "tw",
        False,
    )
    assert first.clicked_at == day


def test_a_maxmind_database_adds_the_city(tmp_path: Path) -> None:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "GB"}, "city": {"names": {"en": "London"}}})
    writer.insert_network(
        IPSet(["2a00:1450:4001::/48"]), {"country": {"iso_code": "DE"}, "city": {"names": {"en": "Frankfurt"}}}
    )
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))

    locator = GeoLocator(str(path))
    assert locator.locate("81.2.69.160") == Place("GB", "London")
    assert locator.locate("2a00:1450:4001:82b::200e") == Place("DE", "Frankfurt")
    assert locator.locate("8.8.8.8") == Place(None, None)  # not in this database
    assert (
        Enricher(secret_key="k" * 40, mmdb_path=str(path)).enrich(_raw(datetime(2026, 5, 1, tzinfo=UTC))).city
        == "London"
    )
