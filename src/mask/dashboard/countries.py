"""Countries as people read them: ISO 3166-1 alpha-2 codes with their English names from CLDR (Babel), for the
analytics breakdowns (with flags) and the targeting page's country menu."""

from __future__ import annotations

from babel import Locale

# CLDR territories that are not countries a geo lookup returns: unions, regions, pseudo-locales, "unknown".
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})

COUNTRIES: dict[str, str] = dict(
    sorted(
        (
            (code, name)
            for code, name in Locale("en").territories.items()
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
        ),
        key=lambda item: item[1],
    )
)


def flag(code: str) -> str:
    """The flag emoji of a country code: its letters as Unicode regional indicators."""
    code = code.upper()
    return (
        "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in code) if len(code) == 2 and code.isalpha() else ""
    )


def country_label(code: str) -> str:
    """`🇩🇪 Germany` for `DE`."""
    code = code.upper()
    return f"{flag(code)} {COUNTRIES.get(code, code)}".strip()
