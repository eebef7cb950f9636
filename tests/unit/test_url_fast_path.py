"""The plain-URL fast path of mask.kit.url gives what the WHATWG parser (ada-url) gives, or steps aside.

Every input where `plain_url` answers is parsed again by the WHATWG path and both must be equal: the WHATWG and
IDNA corpora, the naughty strings in every part of a URL, and generated URLs built from the characters and
pieces where the two could part (case, dots, ports, hyphens, `xn--`, percent signs, every ASCII punctuation).
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mask.kit.url import (
    ALLOWED_SCHEMES,
    C0_AND_SPACE,
    MAX_URL_LENGTH,
    ParsedUrl,
    UrlProblem,
    _parse_whatwg,
    parse_destination,
    plain_url,
)
from tests.conftest import corpus_path


def _whatwg(raw: str) -> ParsedUrl | str:
    try:
        return _parse_whatwg(raw.strip(C0_AND_SPACE), ALLOWED_SCHEMES)
    except UrlProblem as problem:
        return problem.code


def _agrees(raw: str) -> bool:
    """Whether the fast path answered for `raw`; fails when it answered differently from the parser."""
    fast = plain_url(raw.strip(C0_AND_SPACE))
    if fast is None:
        return False
    assert fast == _whatwg(raw), raw
    return True


def _json(name: str) -> list[Any]:
    loaded: list[Any] = json.loads(corpus_path(name).read_text(encoding="utf-8"))
    return loaded


def test_plain_urls_take_the_fast_path_with_the_parsers_result() -> None:
    plain = [
        "https://example.com/page/1?ref=bench",
        "http://example.com",
        "HTTPS://Example.COM./A/B?c=d&e=f#top",
        "https://shop.example:8443/item/42?utm_source=x%20y",
        "https://a-b.c0m/~user/(1);x=y,z*+$!@:'",
        "https://localhost/",
    ]
    assert all(_agrees(url) for url in plain)
    assert plain_url("http://example.com").href == "http://example.com/"  # type: ignore[union-attr]
    assert plain_url("HTTPS://Example.COM./A").href == "https://example.com./A"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com:443/",  # a default port is dropped
        "https://example.com:080/",  # leading zeros
        "https://example.com:65536/",
        "https://1.2.3/",  # an IPv4 address in a short spelling
        "https://example.0x1f/",
        "https://xn--nxasmq6b.com/",
        "https://example.com/a/../b",
        "https://example.com/a/%2E%2e/b",
        "https://example.com/./",
        "https://example.com/a b",
        "https://example.com/a\\b",
        "https://example.com/?q='x'",
        "https://example.com/{x}",
        "https://user@example.com/",
        "https://exämple.com/",
        "https://-example.com/",
        "https://example..com/",
        "ftp://example.com/",
    ],
)
def test_what_the_parser_would_rewrite_goes_to_the_parser(url: str) -> None:
    assert plain_url(url) is None


def test_the_whatwg_corpus_agrees() -> None:
    cases = [case["input"] for case in _json("urltestdata.json") if isinstance(case, dict)]
    taken = sum(_agrees(raw) for raw in cases)
    assert taken >= 20  # the corpus's plain http(s) URLs did take the fast path


def test_the_idna_corpus_agrees_in_every_host_position() -> None:
    hosts = [case["input"] for case in _json("toascii.json") if isinstance(case, dict)]
    templates = ("https://{}/", "http://{}", "https://{}:8080/x", "https://{}./p?q#f", "HTTP://{}/A")
    taken = sum(_agrees(template.format(host)) for host in hosts for template in templates)
    assert taken >= 10  # the ASCII hosts


def test_naughty_strings_agree_in_every_part_of_a_url() -> None:
    templates = (
        "{}",
        "https://{}/",
        "http://{}.com/",
        "https://example.com/{}",
        "https://example.com/?q={}",
        "https://example.com/#{}",
        "https://example.com:{}/",
    )
    strings = _json("blns.json")
    taken = sum(_agrees(template.format(text)) for text in strings for template in templates)
    assert taken >= 300


PIECES = [
    "http", "https", "HTTP", "://", ":/", "/", ".", "..", "%2e", "%2E", "xn--", "a", "B1", "0x", "0", "1", "255",
    "-", ":", ":80", ":443", ":0", ":65535", ":65536", ":0080", "?", "#", "@", "%", "%41", "localhost", "com",
    "\\", "'", ";", " ", "\t", "[", "]", "<", ">", '"', "`", "{", "}", "|", "^", "~", "ß", "\u0130", "\u212a",
]  # fmt: skip


def test_generated_near_misses_agree() -> None:
    draw = random.Random(20261206)
    taken = 0
    for _ in range(20_000):
        text = "".join(draw.choice(PIECES) for _ in range(draw.randint(1, 12)))
        if draw.random() < 0.8:
            text = draw.choice(["http://", "https://", "HtTpS://"]) + text
        taken += _agrees(text)
    assert taken >= 200


LABEL = st.text(alphabet="abzAZ019-", max_size=7) | st.sampled_from(["xn--", "0x", "0x1f", "-", "", "255"])
PATH = st.text(alphabet="aZ09-._~!$&'()*+,;=:@/%?#`{}^|\\ \"<>[]", max_size=16)


@settings(max_examples=3000, deadline=None)
@given(
    scheme=st.sampled_from(["http://", "https://", "HTTPS://", "Http://"]),
    labels=st.lists(LABEL, min_size=1, max_size=4),
    dot=st.booleans(),
    port=st.sampled_from(["", ":", ":0", ":1", ":80", ":443", ":8080", ":65535", ":65536", ":00080"]),
    path=PATH,
)
def test_generated_urls_agree(scheme: str, labels: list[str], dot: bool, port: str, path: str) -> None:
    _agrees(scheme + ".".join(labels) + ("." if dot else "") + port + path)


def test_parse_destination_keeps_its_refusals_on_the_fast_path() -> None:
    long = "https://example.com" + "?" + "a" * (MAX_URL_LENGTH - len("https://example.com?"))
    assert len(long) == MAX_URL_LENGTH
    with pytest.raises(UrlProblem) as refused:
        parse_destination(long)  # a `/` is added: one character too long once normalised
    assert refused.value.code == "url_too_long"
    with pytest.raises(UrlProblem) as unsupported:
        parse_destination("http://example.com/", schemes=frozenset({"https:"}))
    assert unsupported.value.code == "unsupported_scheme"
    assert parse_destination(" \thttps://Example.com/x\n") == _whatwg("https://example.com/x")
