"""The raw click row: `trigger`, then (links with a policy only) what the decision engine decided, as trailing
fields; rows written before either existed still read (as `link` clicks with nothing decided)."""

from __future__ import annotations

import json

import pytest

from mask.click.schemas import (
    DECISION_FIELDS,
    RAW_FIELDS,
    TRAFFIC_TAIL_DEFAULTS,
    RawClick,
    link_click_row,
    orphan_row,
    prefetch_row,
)
from mask.click.tracker import OrphanGate

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
    assert len(row) == len(RAW_FIELDS) and row[-1] == "qr"  # a plain link: no tail, no decision
    click = RawClick.from_row(json.loads(json.dumps(["clk_1", *row[1:]])))
    assert (click.trigger, click.link_id, click.utm_source) == ("qr", "lnk_a", "mail")
    assert click.to_row()[-1] == "qr"
    assert (click.destination_url, click.rule_index, click.variant, click.passed_password) == (None, None, None, False)


def test_a_row_from_before_triggers_is_a_link_click() -> None:
    old = ["clk_1", 1.5, "ws_a", "go.x", "lnk_a", None, None, "1.2.3.4", "ua", "", *UTM]
    assert len(old) == len(RAW_FIELDS) - 1
    assert RawClick.from_row(old).trigger == "link"


def test_an_unknown_trigger_is_not_a_click_row() -> None:
    row = ["clk_1", 1.5, "ws_a", "go.x", "lnk_a", None, None, None, "ua", "", *UTM, "nfc"]
    with pytest.raises(ValueError, match="not a click row"):
        RawClick.from_row(row)


def test_named_fields_carry_the_trigger_too() -> None:
    click = RawClick("clk_1", 1.0, "ws_a", "go.x", bio_page_id="bio_a", trigger="bio")
    assert RawClick.from_fields(click.to_fields()).trigger == "bio"
    assert "trigger" not in RawClick("clk_2", 1.0, "ws_a", "go.x", link_id="lnk_a").to_fields()


# --- traffic types and orphan hits: optional trailing fields (ROW_TAIL) -------------------------------------


def test_a_plain_click_row_carries_no_tail_and_older_rows_read_with_the_defaults() -> None:
    plain = link_click_row(
        at=1.5, workspace_id="ws_a", domain="go.x", link_id="lnk_a", ip=None, user_agent="ua", referrer="", utm=UTM
    )
    assert len(plain) == len(RAW_FIELDS)  # nothing added on the hot path for a plain click
    for row in (plain, plain[:-1]):  # this version's plain row; a row from before triggers
        click = RawClick.from_row(["clk_1", *row[1:]])
        assert (click.purpose, click.orphan_type, click.path) == ("", None, None)
        assert len(click.to_row()) == len(RAW_FIELDS)


def test_prefetch_and_orphan_rows_round_trip_through_json() -> None:
    plain = link_click_row(
        at=1.5, workspace_id="ws_a", domain="go.x", link_id="lnk_a", ip=None, user_agent="ua", referrer="", utm=UTM
    )
    prefetch = RawClick.from_row(json.loads(json.dumps(["clk_1", *prefetch_row(plain)[1:]])))
    assert (prefetch.purpose, prefetch.orphan_type, prefetch.link_id) == ("prefetch", None, "lnk_a")
    assert prefetch.to_row()[len(RAW_FIELDS) :] == ("prefetch",)
    row = orphan_row(
        at=2.0,
        workspace_id="ws_a",
        domain="go.x",
        orphan_type="unknown_slug",
        path="/wp-login.php" + "x" * 600,
        ip="1.2.3.4",
        user_agent="curl/8",
        referrer="",
        prefetch=False,
    )
    orphan = RawClick.from_row(json.loads(json.dumps(["clk_2", *row[1:]])))
    assert (orphan.orphan_type, orphan.link_id, orphan.purpose) == ("unknown_slug", None, "")
    assert orphan.path is not None and orphan.path.startswith("/wp-login.php") and len(orphan.path) == 500
    assert RawClick.from_row(list(orphan.to_row())) == orphan
    assert RawClick.from_fields(orphan.to_fields()) == orphan


@pytest.mark.parametrize(
    "tail",
    [("later",), ("", "lost_slug"), ("", "unknown_slug", 7), ("", None, None, None, None, None, False, "one too many")],
)
def test_a_bad_tail_is_not_a_click_row(tail: tuple[object, ...]) -> None:
    row = ["clk_1", 1.5, "ws_a", "go.x", None, None, None, None, "ua", "", *UTM, "link", *tail]
    with pytest.raises(ValueError, match="not a click row"):
        RawClick.from_row(row)


def test_the_orphan_gate_caps_hits_per_workspace_and_minute() -> None:
    gate = OrphanGate(per_minute=2)
    assert [gate.admit("ws_a", 60.0 + i) for i in range(3)] == [True, True, False]
    assert gate.admit("ws_b", 62.0)  # another workspace has its own count
    assert gate.admit("ws_a", 120.0)  # a new minute starts afresh
    assert gate.dropped == 1
    assert not OrphanGate(per_minute=0).admit("ws_a", 1.0)


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
    assert len(row) == len(RAW_FIELDS) + len(TRAFFIC_TAIL_DEFAULTS) + len(DECISION_FIELDS)
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
    ],
)
def test_a_malformed_decision_is_not_a_click_row(decision: tuple[object, ...]) -> None:
    row = [
        "clk_1",
        1.5,
        "ws_a",
        "go.x",
        "lnk_a",
        None,
        None,
        None,
        "ua",
        "",
        *UTM,
        "link",
        *TRAFFIC_TAIL_DEFAULTS,
        *decision,
    ]
    with pytest.raises(ValueError, match="not a click row"):
        RawClick.from_row(row)
