"""Themes: every preset is readable (WCAG contrast computed from its colours), overrides stay readable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mask.bio_page import themes
from mask.bio_page.themes import MIN_CONTRAST, PRESETS, contrast_ratio
from mask.kit.errors import FieldError

hex_colors = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda value: f"#{value:06x}")


def test_wcag_contrast_formula_matches_known_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # Published reference values (WebAIM contrast checker).
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#0000ff", "#ffffff") == pytest.approx(8.59, abs=0.01)


def test_there_are_at_least_four_presets() -> None:
    assert len(PRESETS) >= 4


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_reaches_4_5_to_1_everywhere_text_is_drawn(name: str) -> None:
    theme = PRESETS[name]
    for background in theme.backgrounds:  # both ends of a gradient
        assert contrast_ratio(theme.text_color, background) >= MIN_CONTRAST, (name, "text", background)
    assert contrast_ratio(theme.button_text_color, theme.button_color) >= MIN_CONTRAST, (name, "button")
    # resolve() of the bare preset changes nothing.
    assert themes.resolve({"preset": name}) == theme


@given(background=hex_colors, button=hex_colors, preset=st.sampled_from(sorted(PRESETS)))
def test_colours_left_out_are_chosen_readable_whatever_the_overrides(background: str, button: str, preset: str) -> None:
    errors: list[FieldError] = []
    stored = themes.clean({"preset": preset, "background": background, "button_color": button}, errors)
    assert errors == []
    theme = themes.resolve(stored)
    assert contrast_ratio(theme.text_color, background) >= MIN_CONTRAST
    assert contrast_ratio(theme.button_text_color, button) >= MIN_CONTRAST


@given(background=hex_colors, text=hex_colors)
def test_explicit_low_contrast_text_is_refused_and_readable_text_accepted(background: str, text: str) -> None:
    errors: list[FieldError] = []
    themes.clean({"preset": "minimal", "background": background, "text_color": text}, errors)
    readable = contrast_ratio(text, background) >= MIN_CONTRAST
    assert [error.code for error in errors] == ([] if readable else ["low_contrast"])


def test_overrides_on_a_gradient_preset_check_both_ends() -> None:
    errors: list[FieldError] = []
    # Readable on midnight's dark start, not on a light end: only a text colour fine on both ends passes.
    themes.clean({"preset": "midnight", "text_color": "#f8fafc"}, errors)
    assert errors == []
    themes.clean({"preset": "midnight", "text_color": "#334155"}, errors)
    assert [error.param for error in errors] == ["theme.text_color"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_stylesheet_key_round_trips(name: str) -> None:
    theme = themes.resolve({"preset": name, "button_shape": "pill", "font": "mono"})
    assert themes.parse_key(theme.key) == theme


@pytest.mark.parametrize(
    "key",
    [
        "",
        "ffffff",
        "ffffff.none.111827.111827.ffffff.111827.rounded",
        "ffffff.none.111827.111827.ffffff.111827.rounded.comic",
        "ffffff.none.111827.111827.ffffff.111827.blob.system",
        "none.none.111827.111827.ffffff.111827.rounded.system",
        "fffffg.none.111827.111827.ffffff.111827.rounded.system",
        "ffffff.none.111827.111827.ffffff.111827;}body{x:y.rounded.system",
        "FFFFFF.none.111827.111827.ffffff.111827.rounded.system",
    ],
)
def test_stylesheet_keys_that_resolve_never_produced_are_refused(key: str) -> None:
    assert themes.parse_key(key) is None


def test_stylesheet_holds_only_theme_values() -> None:
    css = themes.stylesheet(PRESETS["midnight"])
    assert css.startswith(":root{--bg:#0b1120;--bg-image:linear-gradient(180deg, #0b1120 0%, #1e1b4b 100%);")
    assert "--radius:999px" in css
