"""Bio pages: validating what a client sends. Every problem is collected before answering (one 422)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.bio_page import themes
from mask.bio_page.schemas import BioPageFields, BlockIn, HeaderBlockIn, LinkBlockIn, SocialBlockIn, TextBlockIn
from mask.config import Settings
from mask.domain import service as domain_service
from mask.kit.addresses import host_problem
from mask.kit.errors import FieldError
from mask.kit.reserved import is_reserved
from mask.kit.url import UrlProblem, normalize_hostname, parse_destination

HANDLE_PATTERN = re.compile(r"^[a-z0-9_.-]{3,30}$")
MAX_BLOCKS = 100
MAX_TITLE = 100  # a link's title, a header
MAX_TEXT = 500  # a text block
IMAGE_SCHEMES = frozenset({"https:"})
# One address, nothing else: no second recipient, no `?cc=`/`?body=` a visitor would not expect.
EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def _bad_characters(text: str) -> bool:
    """C0 controls (but tab, newline, carriage return) and DEL: invisible, and NUL is refused by PostgreSQL."""
    return any((ord(char) < 0x20 and char not in "\t\n\r") or ord(char) == 0x7F for char in text)


def _clean_text(
    param: str, value: str | None, errors: list[FieldError], *, required: bool, max_length: int | None = None
) -> str | None:
    """Plain text as given (it is escaped on output, never altered); blank required text is refused."""
    if max_length is not None and value is not None and len(value) > max_length:
        errors.append(FieldError(param, "string_too_long", f"At most {max_length} characters."))
        return None
    if value is None:
        if required:
            errors.append(FieldError(param, "required", "This field is required."))
        return None
    if _bad_characters(value):
        errors.append(
            FieldError(
                param, "invalid_characters", "Control characters (other than tab and line breaks) are not allowed."
            )
        )
        return None
    if not value.strip():
        if required:
            errors.append(FieldError(param, "blank", "This text must not be blank."))
        return None  # an empty optional text clears the field
    return value


def check_handle(raw: str, errors: list[FieldError]) -> str | None:
    handle = raw.strip().lower()
    if not HANDLE_PATTERN.match(handle):
        errors.append(
            FieldError("handle", "invalid_handle", "A handle is 3–30 characters of a–z, 0–9, `_`, `.` and `-`.")
        )
        return None
    if is_reserved(handle):
        errors.append(FieldError("handle", "reserved_handle", f"`{handle}` is reserved by MASK; choose another."))
        return None
    return handle


async def _check_image(
    session: AsyncSession, settings: Settings, param: str, raw: str | None, errors: list[FieldError]
) -> str | None:
    """An image every visitor's browser fetches: https, a public host (never loopback, a private address or an
    intranet name, which would make visitors' browsers probe their own networks) and none of MASK's short
    domains (each view would be a click)."""
    if raw is None or raw == "":
        return None
    try:
        parsed = parse_destination(raw, schemes=IMAGE_SCHEMES)
    except UrlProblem as problem:
        errors.append(FieldError(param, problem.code, problem.message))
        return None
    blocked = host_problem(parsed.hostname)
    if blocked is not None:
        errors.append(
            FieldError(param, "blocked_destination", f"Images cannot come from {parsed.hostname}: it is {blocked}.")
        )
        return None
    return await domain_service.check_destination(
        session, settings=settings, param=param, raw=parsed.href, errors=errors
    )


def check_email(param: str, raw: str, errors: list[FieldError]) -> str | None:
    """`mailto:` with exactly one plain address (or the bare address); the domain goes to punycode."""
    text = raw.strip()
    address = text[len("mailto:") :] if text.lower().startswith("mailto:") else text
    local, at, host = address.rpartition("@")
    problem = "Give an e-mail address, like `mailto:hello@example.com`."
    if not at or len(local) > 64 or not EMAIL_LOCAL.match(local):
        errors.append(FieldError(param, "invalid_email", problem))
        return None
    try:
        domain = normalize_hostname(host)
    except UrlProblem:
        errors.append(FieldError(param, "invalid_email", problem))
        return None
    return f"mailto:{local}@{domain}"


async def check_blocks(
    session: AsyncSession, settings: Settings, blocks: Sequence[BlockIn], errors: list[FieldError]
) -> list[dict[str, Any]]:
    """Each block's stored fields (id as sent, None for a new block), in order."""
    if len(blocks) > MAX_BLOCKS:
        errors.append(FieldError("blocks", "too_many_blocks", f"A page has at most {MAX_BLOCKS} blocks."))
        return []
    cleaned: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        param = f"blocks.{index}"
        if block.id is not None:
            if block.id in seen_ids:
                errors.append(FieldError(f"{param}.id", "duplicate_block_id", "This block id appears twice."))
            seen_ids.add(block.id)
        fields: dict[str, Any] = {
            "id": block.id,
            "type": block.type,
            "title": None,
            "text": None,
            "url": None,
            "platform": None,
            "enabled": True,
        }
        if isinstance(block, LinkBlockIn):
            fields["title"] = _clean_text(f"{param}.title", block.title, errors, required=True, max_length=MAX_TITLE)
            fields["url"] = await domain_service.check_destination(
                session, settings=settings, param=f"{param}.url", raw=block.url, errors=errors
            )
            fields["enabled"] = block.enabled
        elif isinstance(block, HeaderBlockIn | TextBlockIn):
            limit = MAX_TITLE if block.type == "header" else MAX_TEXT
            fields["text"] = _clean_text(f"{param}.text", block.text, errors, required=True, max_length=limit)
        elif isinstance(block, SocialBlockIn):
            fields["platform"] = block.platform
            if block.platform == "email":
                fields["url"] = check_email(f"{param}.url", block.url, errors)
            else:
                fields["url"] = await domain_service.check_destination(
                    session, settings=settings, param=f"{param}.url", raw=block.url, errors=errors
                )
        cleaned.append(fields)
    return cleaned


async def check_common(
    session: AsyncSession, settings: Settings, data: BioPageFields, errors: list[FieldError]
) -> dict[str, Any]:
    """The fields of `data` that were sent, validated into their stored form."""
    sent = data.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("title", "description", "seo_title", "seo_description"):
        if name in sent:
            changes[name] = _clean_text(name, getattr(data, name), errors, required=False)
    for name in ("avatar_url", "og_image_url"):
        if name in sent:
            changes[name] = await _check_image(session, settings, name, getattr(data, name), errors)
    if "theme" in sent:
        raw_theme = data.theme.model_dump(exclude_none=True) if data.theme is not None else {}
        changes["theme"] = themes.clean(raw_theme, errors)
    if "published" in sent:
        if data.published is None:
            errors.append(FieldError("published", "required", "`published` is true or false."))
        else:
            changes["published"] = data.published
    return changes
