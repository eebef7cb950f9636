"""A bulk create body read all at once (`parse_items`) gives each item what `parse_item` gives it alone."""

from __future__ import annotations

import json
from typing import Any

from mask.bulk.service import parse_item, parse_items
from mask.kit.errors import MaskError
from mask.link.schemas import LinkCreate
from tests.conftest import corpus_path


def _alone(raws: list[Any]) -> list[tuple[str, Any]]:
    return [_shape(parse_item(raw)) for raw in raws]


def _shape(parsed: LinkCreate | MaskError) -> tuple[str, Any]:
    if isinstance(parsed, MaskError):
        return ("error", (parsed.status_code, parsed.body("r")))
    return ("link", (parsed.model_dump(), sorted(parsed.model_fields_set)))


def test_a_body_of_good_items_is_read_at_once_as_each_alone() -> None:
    raws: list[Any] = [
        {"url": f"https://example.com/{n}", "tags": ["a", f"t{n}"]} | ({"slug": f"s{n}"} if n % 2 else {})
        for n in range(50)
    ]
    raws.append({"url": "https://example.com/x", "title": None, "archived": False, "if_exists": "return"})
    parsed = parse_items(raws)
    assert all(isinstance(item, LinkCreate) for item in parsed)
    assert [_shape(item) for item in parsed] == _alone(raws)


def test_one_bad_item_leaves_every_other_its_own_result() -> None:
    raws: list[Any] = [
        {"url": "https://example.com/a"},
        {"url": "https://example.com/b", "utm_sorce": "x"},
        "not an object",
        {"url": 5},
        {"url": "https://example.com/c", "archived": "yes"},
        {"url": "https://example.com/d\u0000"},
        {"url": "https://example.com/e", "tags": ["ok"]},
    ]
    shapes = [_shape(item) for item in parse_items(raws)]
    assert shapes == _alone(raws)
    assert [kind for kind, _ in shapes] == ["link", "error", "error", "error", "error", "error", "link"]


def test_naughty_strings_in_every_text_field_read_alike() -> None:
    strings: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))
    raws: list[Any] = [
        {"url": text, "title": text, "notes": text, "tags": [text], "slug": text, "external_id": text}
        for text in strings
    ]
    assert [_shape(item) for item in parse_items(raws)] == _alone(raws)
    fine = [{"url": "https://example.com/", "title": text, "notes": text} for text in strings if "\x00" not in text]
    parsed = parse_items(fine)
    assert all(isinstance(item, LinkCreate) for item in parsed)
    assert [_shape(item) for item in parsed] == _alone(fine)
