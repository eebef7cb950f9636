"""Control characters in link text and tag names, checked by pattern: the same answer as the character rules
(C0, DEL and C1 for titles and external ids; notes may hold tabs and line breaks; tags refuse C0 and DEL)."""

from __future__ import annotations

import pytest

from mask.kit.errors import FieldError
from mask.link.service import _check_text
from mask.tag.service import clean_names

CODE_POINTS = [*range(0x00, 0x250), 0x2028, 0xFEFF, 0x1F600]


def _codes(errors: list[FieldError]) -> list[str]:
    return [error.code for error in errors]


@pytest.mark.parametrize("multiline", [False, True])
def test_link_text_refuses_exactly_the_control_characters(multiline: bool) -> None:
    for code in CODE_POINTS:
        char = chr(code)
        control = code < 0x20 or 0x7F <= code < 0xA0
        allowed = not control or (multiline and char in "\t\n\r")
        errors: list[FieldError] = []
        assert _check_text("notes", f"a{char}b", errors, multiline=multiline) == f"a{char}b"
        assert _codes(errors) == ([] if allowed else ["control_characters"]), hex(code)


def test_tag_names_refuse_c0_and_del_only() -> None:
    for code in CODE_POINTS:
        errors: list[FieldError] = []
        names = clean_names([f"a{chr(code)}b"], errors)
        refused = code < 0x20 or code == 0x7F
        assert (names == []) is refused and _codes(errors) == (["invalid_tag"] if refused else []), hex(code)
