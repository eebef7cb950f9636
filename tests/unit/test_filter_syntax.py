r"""The analytics filter syntax (`a,b,-c`, `(none)`) and its backslash escapes (`\,` `\\` `\-` `\(none)`, `\ `):
what every existing filter meant it still means, and any value, escaped, reads back as exactly itself."""

from __future__ import annotations

import random

import pytest

from mask.analytics.query import UNKNOWN, ValueFilter
from mask.analytics.service import _parse_filter, escape_filter_value, filter_items
from mask.kit.errors import FieldError


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("US", [(False, "US")]),
        ("US,DE", [(False, "US"), (False, "DE")]),
        (" US , -DE ,- FR", [(False, "US"), (True, "DE"), (True, "FR")]),
        ("(none)", [(False, None)]),
        ("-(none)", [(True, None)]),
        (" - (none) ", [(True, None)]),
        ("a,,b", [(False, "a"), (False, ""), (False, "b")]),
        ("-", [(True, "")]),
        ("--a", [(True, "-a")]),
        ("/a\\b", [(False, "/a\\b")]),  # a backslash before an ordinary character is itself, as it always was
        ("a\\", [(False, "a\\")]),
        ("C:\\temp\\x", [(False, "C:\\temp\\x")]),
    ],
)
def test_the_syntax_without_escapes_means_what_it_meant(raw: str, items: list[tuple[bool, str | None]]) -> None:
    assert filter_items(raw) == items


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("/a\\,b", [(False, "/a,b")]),
        ("/a\\,b,/c", [(False, "/a,b"), (False, "/c")]),
        ("-/a\\,b", [(True, "/a,b")]),
        ("\\,", [(False, ",")]),
        ("\\,\\,", [(False, ",,")]),
        ("\\\\", [(False, "\\")]),
        ("a\\\\,b", [(False, "a\\"), (False, "b")]),  # an escaped backslash, then a separator
        ("a\\\\\\,b", [(False, "a\\,b")]),
        ("\\-x", [(False, "-x")]),
        ("-\\-x", [(True, "-x")]),
        ("a\\-b", [(False, "a-b")]),
        ("\\(none)", [(False, "(none)")]),
        ("-\\(none)", [(True, "(none)")]),
        ("(none\\)", [(False, "(none\\)")]),  # `)` is not escapable: the backslash is kept
        ("\\ x\\ ", [(False, " x ")]),
        (" \\  ", [(False, " ")]),
        ("-\\ -x", [(True, " -x")]),
        (
            "https://r.test/?q=a\\,b,https://r.test/?q=c",
            [(False, "https://r.test/?q=a,b"), (False, "https://r.test/?q=c")],
        ),
    ],
)
def test_a_backslash_escapes_the_syntaxs_own_characters(raw: str, items: list[tuple[bool, str | None]]) -> None:
    assert filter_items(raw) == items


NAUGHTY = [
    "",
    ",",
    ",,",
    "\\",
    "\\\\",
    "\\,",
    "a\\",
    "-",
    "--",
    "-a",
    " -a",
    "(none)",
    "-(none)",
    " (none) ",
    "(",
    "(none",
    "a,b,-c",
    "/a,b",
    "-/a,b",
    " ",
    "  ",
    " a ",
    "a\\ ",
    "\\ ",
    "é,ü",
    "😀,-😀",
    "a\u00a0",
    "\u3000x",
]


@pytest.mark.parametrize("value", NAUGHTY)
def test_any_value_escaped_reads_back_as_itself(value: str) -> None:
    assert filter_items(escape_filter_value(value)) == [(False, value)]
    assert filter_items("-" + escape_filter_value(value)) == [(True, value)]


def test_escaped_values_listed_together_read_back_one_by_one() -> None:
    rng = random.Random(26)
    alphabet = ",\\-( )none\u00a0x"
    for _ in range(2000):
        values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(1, 4))]
        raw = ",".join(escape_filter_value(value) for value in values)
        assert filter_items(raw) == [(False, value) for value in values], raw


def test_values_without_special_characters_are_sent_as_they_are() -> None:
    for value in ("US", "t.co", "/wp-login.php", "lnk_0123", "spring sale", "a-b", "x)y"):
        assert escape_filter_value(value) == value


def _parsed(name: str, raw: str) -> tuple[ValueFilter | None, list[FieldError]]:
    errors: list[FieldError] = []
    return _parse_filter(name, raw, errors), errors


def test_the_parsed_filter_holds_the_unescaped_values() -> None:
    parsed, errors = _parsed("path", "/a\\,b,-\\-c")
    assert not errors and parsed == ValueFilter("path", frozenset({"/a,b"}), frozenset({"-c"}))
    parsed, errors = _parsed("referrer", "\\(none),-(none)")
    assert not errors and parsed == ValueFilter("referrer", frozenset({"(none)"}), frozenset({UNKNOWN}))
    parsed, errors = _parsed("tags", "spring\\, summer,-old")
    assert not errors and parsed == ValueFilter("tag", frozenset({"spring, summer"}), frozenset({"old"}))


def test_escaped_commas_do_not_count_as_values_and_empty_ones_are_still_refused() -> None:
    parsed, errors = _parsed("path", ",".join(["/a\\,b"] * 100))
    assert not errors and parsed is not None and parsed.include == frozenset({"/a,b"})
    _, errors = _parsed("path", ",".join(["/a"] * 101))
    assert [error.code for error in errors] == ["too_many_values"]
    _, errors = _parsed("path", "/a,,/b")
    assert [error.code for error in errors] == ["empty_value"]
    _, errors = _parsed("country", "\\-US")
    assert [error.code for error in errors] == ["invalid_country"]  # `-US` is not a country code
    _, errors = _parsed("trigger", "\\(none)")
    assert [error.code for error in errors] == ["invalid_trigger"]  # the text, not "no value"
