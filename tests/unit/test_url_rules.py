"""URL, host and slug rules against the WHATWG and IDNA test corpora, plus property-based tests."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mask.kit.errors import FieldError
from mask.kit.ids import ALPHABET, random_string
from mask.kit.reserved import RESERVED_WORDS, is_reserved
from mask.kit.url import MAX_URL_LENGTH, UrlProblem, is_loopback, normalize_hostname, parse_destination
from mask.link.service import GENERATED_SLUG_LENGTH, SLUG_PATTERN, check_slug
from tests.conftest import corpus_path

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _whatwg_cases() -> list[dict[str, Any]]:
    cases = json.loads(corpus_path("urltestdata.json").read_text(encoding="utf-8"))
    # Only absolute inputs matter to a shortener: no base, or the about:blank base.
    return [case for case in cases if isinstance(case, dict) and case.get("base") in (None, "about:blank")]


WHATWG = _whatwg_cases()


def test_the_whatwg_corpus_has_absolute_cases() -> None:
    assert len(WHATWG) > 50


@pytest.mark.parametrize("case", WHATWG, ids=lambda case: repr(case["input"])[:60])
def test_destinations_follow_the_whatwg_parser_with_our_stricter_rules(case: dict[str, Any]) -> None:
    raw = case["input"]
    if case.get("failure"):
        with pytest.raises(UrlProblem):
            parse_destination(raw)
        return
    inner = raw.strip("".join(chr(code) for code in range(0x21)))
    refusal = None
    if case["protocol"] not in ("http:", "https:"):
        refusal = "unsupported_scheme"
    elif case["username"] or case["password"]:
        refusal = "credentials_in_url"
    elif CONTROL.search(inner):
        refusal = "invalid_url"
    if refusal is None and len(raw) <= MAX_URL_LENGTH:
        parsed = parse_destination(raw)
        assert parsed.href == case["href"]
        assert (parsed.hostname, parsed.host) == (case["hostname"].lower(), case["host"].lower())
        assert parsed.port == (int(case["port"]) if case["port"] else {"http:": 80, "https:": 443}[case["protocol"]])
    else:
        with pytest.raises(UrlProblem):
            parse_destination(raw)


def _toascii_cases() -> list[dict[str, Any]]:
    cases = json.loads(corpus_path("toascii.json").read_text(encoding="utf-8"))
    return [case for case in cases if isinstance(case, dict)]


def _is_plain_domain(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return (
        len(labels) >= 2
        and len(host.rstrip(".")) <= 253
        and all(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", label) for label in labels)
        and not labels[-1].isdigit()
    )


@pytest.mark.parametrize("case", _toascii_cases(), ids=lambda case: repr(case["input"])[:60])
def test_short_domains_are_canonicalised_like_browsers_do(case: dict[str, Any]) -> None:
    if case["output"] is None:
        with pytest.raises(UrlProblem):
            normalize_hostname(case["input"])
    elif _is_plain_domain(case["output"]):
        assert normalize_hostname(case["input"]) == case["output"].rstrip(".")
    else:  # an IP, a single label, …: valid hosts, but not short domains
        with pytest.raises(UrlProblem):
            normalize_hostname(case["input"])


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"https?://[a-zA-Z0-9.\-\[\]:@%]{0,40}/?[ -~]{0,40}", fullmatch=True))
def test_any_accepted_destination_is_normalised_http_and_stable(raw: str) -> None:
    try:
        parsed = parse_destination(raw)
    except UrlProblem as problem:
        assert problem.code and problem.message
        return
    assert parsed.href.startswith(("http://", "https://"))
    assert len(parsed.href) <= MAX_URL_LENGTH
    assert "@" not in parsed.href.split("/")[2]
    assert not CONTROL.search(parsed.href)
    assert parse_destination(parsed.href).href == parsed.href  # normalising twice changes nothing


@given(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
def test_every_well_formed_slug_is_accepted_unless_reserved(slug: str) -> None:
    errors: list[FieldError] = []
    check_slug(slug, errors)
    assert [error.code for error in errors] == (["reserved_slug"] if is_reserved(slug) else [])


@given(st.text(min_size=0, max_size=80))
def test_anything_else_is_refused_as_a_slug(slug: str) -> None:
    errors: list[FieldError] = []
    check_slug(slug, errors)
    assert (errors == []) == (bool(SLUG_PATTERN.match(slug)) and not is_reserved(slug))
    if errors:
        assert errors[0].param == "slug"


def test_reserved_words_cover_every_path_mask_serves() -> None:
    assert {"v1", "api", "app", "static", "health", "docs"} <= RESERVED_WORDS


@given(st.integers(min_value=0, max_value=50))
def test_generated_slugs_are_seven_characters_of_the_alphabet(_: int) -> None:
    slug = random_string(GENERATED_SLUG_LENGTH, ALPHABET)
    assert SLUG_PATTERN.match(slug) and len(slug) == 7 and slug.isascii() and slug.isalnum()


def test_naughty_strings_as_slugs_are_accepted_only_when_well_formed() -> None:
    naughty = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))
    for text in naughty:
        errors: list[FieldError] = []
        check_slug(text, errors)
        assert (errors == []) == (bool(SLUG_PATTERN.match(text)) and not is_reserved(text)), text


@pytest.mark.parametrize(
    "name",
    [
        "localhost",
        "app.localhost.",
        "127.0.0.1",
        "127.1.2.3",
        "[::1]",
        "::1",
        "[0:0::1]",
        "::ffff:127.0.0.1",
        "example.com",
        "127.0.0.1.example",
        "1.2.3.4",
        "10.0.0.1.",
        "[::2]",
        "fe80::1",
        "::a",
        "",
        "1e100.net",
    ],
)
def test_loopback_is_told_from_names_and_other_addresses(name: str) -> None:
    try:
        expected = ipaddress.ip_address(name.rstrip(".").strip("[]")).is_loopback
    except ValueError:
        expected = name.rstrip(".") == "localhost" or name.rstrip(".").endswith(".localhost")
    assert is_loopback(name) is expected


def test_a_port_path_or_at_sign_outside_the_authority_is_read_right() -> None:
    assert parse_destination("https://Example.com:8443/a").port == 8443
    assert parse_destination("https://example.com:443/a").host == "example.com"
    assert parse_destination("http://[::1]:8080/").host == "[::1]:8080"
    assert (
        parse_destination("https://example.com/@user?to=a@b.example").href == "https://example.com/@user?to=a@b.example"
    )
    with pytest.raises(UrlProblem) as refused:
        parse_destination("https://example.com@evil.example/")
    assert refused.value.code == "credentials_in_url"
