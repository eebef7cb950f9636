"""The dashboard's plain words for the services' API-facing messages (mask.dashboard.wording) and its plurals."""

from __future__ import annotations

import pytest

from mask.bio_page.themes import _low_contrast
from mask.dashboard.web import plural
from mask.dashboard.wording import humanize


def test_a_contrast_error_names_the_colours_as_the_form_does() -> None:
    api = _low_contrast("theme.text_color", "text_color", "the background", 1.16).message  # as themes.py says it
    assert api.startswith("`text_color` has a contrast of 1.16:1")  # the API keeps its own wording
    shown = humanize(api)
    assert shown.startswith("The text colour is too close to the background to read easily: its contrast is 1.16:1")
    assert "`" not in shown and "text_color" not in shown and "WCAG" not in shown


@pytest.mark.parametrize(
    ("api", "person"),
    [
        (
            "1 link(s) and 2 bio page(s) still use `go.example.com`; delete or move them first.",
            "1 link and 2 bio pages still use “go.example.com”; delete or move them first.",
        ),
        (
            "This webhook is disabled; enable it (PATCH `enabled: true`) before retrying.",
            "This webhook is disabled; turn on “Enabled” in its settings below before retrying.",
        ),
        ("`handle` cannot be cleared; send a new one instead.", "The handle cannot be empty."),
        ("String should have at most 100 characters", "Use at most 100 characters."),
        ("No webhook `wh_123` in this workspace.", "No webhook “wh_123” in this workspace."),
        ("Use at most 100 characters.", "Use at most 100 characters."),
    ],
)
def test_api_wording_becomes_plain_words(api: str, person: str) -> None:
    assert humanize(api) == person


def test_counts_take_the_right_plural() -> None:
    assert [plural(n, "click") for n in (0, 1, 2, 1204)] == ["0 clicks", "1 click", "2 clicks", "1,204 clicks"]
    assert plural(1, "failure in a row", "failures in a row") == "1 failure in a row"
    assert plural(3, "entry", "entries") == "3 entries"
