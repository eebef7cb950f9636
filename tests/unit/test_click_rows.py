"""The raw click row: `trigger`, then (links with a policy only) what the decision engine decided, as trailing
fields; rows written before either existed still read (as `link` clicks with nothing decided)."""

from __future__ import annotations

import json

import pytest

from mask.click.schemas import BASE_LENGTH, DECISION_FIELDS, RAW_FIELDS, RawClick, link_click_row

UTM = ("mail", None, None, None, None)


def test_a_row_round_trips_with_its_trigger_through_json() -> None:
    row = link_click_row(
        at=1.5,
        workspace_id="ws_a",
        domain="go.x",
        link_id="lnk_a",
        ip="1.2.3.4",
        user_agent="ua",
        referrer="",
        utm=UTM,
        trigger="qr",
    )
    assert len(row) == len(RAW_FIELDS) - len(DECISION_FIELDS) and row[-1] == "qr"  # a plain link: no decision
    click = RawClick.from_row(json.loads(json.dumps(["clk_1", *row[1:]])))
    assert (click.trigger, click.link_id, click.utm_source) == ("qr", "lnk_a", "mail")
    assert click.to_row()[-1] == "qr"
    assert (click.destination_url, click.rule_index, click.variant, click.passed_password) == (None, None, None, False)


def test_a_row_from_before_triggers_is_a_link_click() -> None:
    old = ["clk_1", 1.5, "ws_a", "go.x", "lnk_a", None, None, "1.2.3.4", "ua", "", *UTM]
    assert len(old) == BASE_LENGTH == len(RAW_FIELDS) - 1 - len(DECISION_FIELDS)
    assert RawClick.from_row(old).trigger == "link"


def test_an_unknown_trigger_is_not_a_click_row() -> None:
    row = ["clk_1", 1.5, "ws_a", "go.x", "lnk_a", None, None, None, "ua", "", *UTM, "nfc"]
    with pytest.raises(ValueError, match="not a click row"):
        RawClick.from_row(row)


def test_named_fields_carry_the_trigger_too() -> None:
    click = RawClick("clk_1", 1.0, "ws_a", "go.x", bio_page_id="bio_a", trigger="bio")
    assert RawClick.from_fields(click.to_fields()).trigger == "bio"
    assert "trigger" not in RawClick("clk_2", 1.0, "ws_a", "go.x", link_id="lnk_a").to_fields()


def test_a_decided_row_round_trips_through_json() -> None:
    decision = ("https://example.com/b", None, 1, True)
    row = link_click_row(
        at=1.5,
        workspace_id="ws_a",
        domain="go.x",
        link_id="lnk_a",
        ip=None,
        user_agent="ua",
        referrer="",
        utm=UTM,
        decision=decision,
    )
    assert len(row) == len(RAW_FIELDS)
    click = RawClick.from_row(json.loads(json.dumps(["clk_1", *row[1:]])))
    assert (click.destination_url, click.rule_index, click.variant, click.passed_password) == decision
    assert click.trigger == "link"
    assert RawClick.from_row(click.to_row()) == click


@pytest.mark.parametrize(
    "decision",
    [
        ("https://example.com/b", "1", None, False),  # an index that is not a number
        ("https://example.com/b", None, True, False),  # a boolean is not an index
        (7, None, None, False),  # a URL that is not text
        ("https://example.com/b", None, None, "yes"),
        ("https://example.com/b", None, None),  # cut short
    ],
)
def test_a_malformed_decision_is_not_a_click_row(decision: tuple[object, ...]) -> None:
    row = ["clk_1", 1.5, "ws_a", "go.x", "lnk_a", None, None, None, "ua", "", *UTM, "link", *decision]
    with pytest.raises(ValueError, match="not a click row"):
        RawClick.from_row(row)
