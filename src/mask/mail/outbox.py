"""Queue a mail in the caller's transaction: rendered now (plain text and HTML from the templates beside this
module), sent by the background process (mask.mail.sender) once the transaction has committed, never if it
rolled back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.ext.asyncio import AsyncSession

from mask.config import Settings
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.mail import OutboxMail
from mask.signals import MailQueued, emit

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

_text = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=False,  # noqa: S701 - plain-text mails: nothing is HTML there
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_html = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)


@dataclass(frozen=True)
class Kind:
    name: str
    subject: str  # a template too


VERIFY_EMAIL = Kind("verify_email", "Confirm your e-mail address for MASK")
SIGNUP_EXISTING = Kind("signup_existing", "You already have a MASK account")
PASSWORD_RESET = Kind("password_reset", "Reset your MASK password")
PASSWORD_CHANGED = Kind("password_changed", "Your MASK password was changed")
INVITE = Kind("invite", "You are invited to {{ workspace }} on MASK")


def app_url(settings: Settings, path: str) -> str:
    """An absolute link to the dashboard: https, except on loopback hosts (local development)."""
    domain = settings.short_domain
    host = domain.split("]", 1)[0] + "]" if domain.startswith("[") else domain.split(":", 1)[0]
    scheme = "http" if host in LOOPBACK_HOSTS or host.endswith(".localhost") else "https"
    return f"{scheme}://{domain}{path}"


def render(kind: Kind, values: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a mail."""
    subject = _text.from_string(kind.subject).render(values).strip()
    text = _text.get_template(f"{kind.name}.txt").render(values)
    html = _html.get_template(f"{kind.name}.html").render(values, subject=subject)
    return subject, text, html


async def queue(
    session: AsyncSession, *, to: str, kind: Kind, values: dict[str, Any], user_id: str | None = None
) -> OutboxMail:
    """Add a mail to the outbox; it is sent once (and only if) the transaction commits."""
    subject, text, html = render(kind, values)
    now = utcnow()
    mail = OutboxMail(
        id=new_id("mail"),
        user_id=user_id,
        to_address=to,
        kind=kind.name,
        subject=subject[:200],
        text=text,
        html=html,
        created_at=now,
        next_attempt_at=now,
        attempts=0,
    )
    session.add(mail)
    emit(session, MailQueued())
    return mail
