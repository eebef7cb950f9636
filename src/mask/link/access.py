"""Who a link lets through, and when: its password, start time, click limit and redirect status (issue 21).

What the redirect path does with them is mask.redirect.decision; this is what the API accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.account import passwords
from mask.config import Settings
from mask.domain import service as domain_service
from mask.kit.errors import FieldError
from mask.kit.time import as_utc
from mask.link.schemas import LinkFields
from mask.models.link import Link

ACCESS_FIELDS = ("password", "starts_at", "max_clicks", "redirect_status")


async def changes(
    data: LinkFields,
    sent: set[str],
    errors: list[FieldError],
    *,
    link: Link | None,
    expires_at: datetime | None,
) -> dict[str, Any]:
    """The columns to set for the access fields in `sent` (a new link: `link` None); problems go to `errors`.
    `expires_at`: the link's expiry once the request is applied (a schedule must start before it ends)."""
    found: dict[str, Any] = {}
    if "password" in sent:
        password = data.password
        if password is not None and not password.strip():
            errors.append(FieldError("password", "blank", "`password` cannot be blank; send null to remove it."))
        elif password is not None and any(ord(char) < 0x20 or ord(char) == 0x7F for char in password):
            errors.append(FieldError("password", "control_characters", "`password` cannot contain control characters."))
        else:
            found["password_hash"] = None if password is None else await passwords.hash_password(password)
    starts_at = link.starts_at if link is not None else None
    if "starts_at" in sent:
        starts_at = None if data.starts_at is None else as_utc(data.starts_at)
        found["starts_at"] = starts_at
    if starts_at is not None and expires_at is not None and as_utc(starts_at) >= as_utc(expires_at):
        param = "starts_at" if "starts_at" in sent else "expires_at"
        errors.append(FieldError(param, "schedule_overlap", "`starts_at` must be before `expires_at`."))
    if "max_clicks" in sent:
        found["max_clicks"] = data.max_clicks
        if data.max_clicks is not None and (link is None or link.max_clicks is None):
            found["clicks_reserved"] = 0  # a new limit counts from now
    if "redirect_status" in sent:
        found["redirect_status"] = data.redirect_status or 302
    return found


async def preview_changes(
    session: AsyncSession, *, settings: Settings, data: LinkFields, sent: set[str], errors: list[FieldError]
) -> dict[str, Any]:
    """The `preview` column for a sent `preview`: a title, an optional description, an https image."""
    if "preview" not in sent:
        return {}
    preview = data.preview
    if preview is None:
        return {"preview": None}
    before = len(errors)
    title = preview.title.strip()
    if not title:
        errors.append(FieldError("preview.title", "blank", "`preview.title` cannot be blank."))
    description = preview.description.strip() if preview.description else None
    image_url = None
    if preview.image_url is not None:
        image_url = await domain_service.check_destination(
            session, settings=settings, param="preview.image_url", raw=preview.image_url, errors=errors
        )
        if image_url is not None and not image_url.startswith("https://"):
            errors.append(FieldError("preview.image_url", "https_required", "Preview images must be https URLs."))
    if len(errors) != before:
        return {}
    return {"preview": {"title": title, "description": description or None, "image_url": image_url}}
