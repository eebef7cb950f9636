"""Prefixed, time-ordered ids (`lnk_…`, `ws_…`): 48-bit milliseconds then 80 random bits, base62, fixed width.

Time order keeps B-tree inserts local and makes ids readable in logs; the random part makes them unguessable.
"""

from __future__ import annotations

import secrets
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 22  # ceil(128 / log2(62))


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rest = divmod(number, 62)
        chars.append(ALPHABET[rest])
    return "".join(reversed(chars)).rjust(width, "0")


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_base62(value, _WIDTH)}"


def random_string(length: int, alphabet: str = ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))
