"""Prefixed, time-ordered ids (`lnk_…`, `ws_…`): 48-bit milliseconds then 80 random bits, base62, fixed width.

Time order keeps B-tree inserts local and makes ids readable in logs; the random part makes them unguessable.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 22  # ceil(128 / log2(62))


_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]  # two base-62 digits per division


def _base62(number: int, width: int) -> str:
    chunks = []
    while number:
        number, rest = divmod(number, 3844)
        chunks.append(_PAIRS[rest])
    return "".join(reversed(chunks)).lstrip("0").rjust(width, "0")


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | secrets.randbits(80)
    return f"{prefix}_{_base62(value, _WIDTH)}"


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` ids laid out as `new_id`'s (one millisecond, 80 random bits each), the random bits read from
    the system in one call instead of one per id (a bulk create mints a thousand)."""
    head = (time.time_ns() // 1_000_000) << 80
    noise = secrets.token_bytes(10 * count)
    return [
        f"{prefix}_{_base62(head | int.from_bytes(noise[start : start + 10], 'big'), _WIDTH)}"
        for start in range(0, 10 * count, 10)
    ]


def new_click_id() -> str:
    """A click id (`clk_…`), laid out like `new_id` but with the random part from `random`, not `secrets`.

    Minted once per redirect: `secrets` costs a system call per id, which showed in the redirect path's
    profile. Click ids must be unique, not unguessable (nothing is authorised by one); 80 random bits per
    millisecond keep them unique, and `random` is reseeded in a forked child.
    """
    millis = time.time_ns() // 1_000_000
    return f"clk_{_base62((millis << 80) | random.getrandbits(80), _WIDTH)}"


def new_click_ids(count: int) -> list[str]:
    """`count` click ids at once, for a batch of clicks becoming durable together: the random, time-ordered
    head of `new_click_id` once (17 characters: the milliseconds and about 53 random bits), then the click's
    place in the batch as 5 hex digits. Same width and alphabet as `new_click_id`, a string concatenation
    per click instead of 22 divisions."""
    ids: list[str] = []
    for start in range(0, count, 0x100000):
        head = new_click_id()[:-5]
        ids.extend([f"{head}{index:05x}" for index in range(min(count - start, 0x100000))])
    return ids


def derived_click_ids(count: int, millis: int, seed: bytes) -> list[str]:
    """`count` click ids laid out like `new_click_ids`, the random bits taken from a hash of `seed` instead: the
    same seed gives the same ids (a batch read twice from the same place is stored once)."""
    bits = int.from_bytes(hashlib.blake2b(seed, digest_size=10).digest(), "big")
    head = f"clk_{_base62((millis << 80) | bits, _WIDTH)}"[:-5]
    return [f"{head}{index:05x}" for index in range(count)]


def random_string(length: int, alphabet: str = ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


# A random byte below 248 (= 4 x 62) is a uniform draw of ALPHABET: byte % 62; the 8 above are dropped.
_UNIFORM_LIMIT = 256 - 256 % len(ALPHABET)
_TO_ALPHABET = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))
_ABOVE_LIMIT = bytes(range(_UNIFORM_LIMIT, 256))


def random_strings(count: int, length: int) -> list[str]:
    """`count` strings of `length` characters of ALPHABET, each drawn as `random_string` draws them (uniform,
    from `secrets`), from a few reads of the system's randomness instead of one per character."""
    need = count * length
    text = ""
    while len(text) < need:
        missing = need - len(text)
        text += secrets.token_bytes(missing + missing // 16 + 8).translate(_TO_ALPHABET, _ABOVE_LIMIT).decode()
    return [text[start : start + length] for start in range(0, need, length)]
