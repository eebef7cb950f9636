"""The mail sender: a background service that delivers the outbox's mails, with retries.

Each pass (woken by a commit that queued mail, else every `poll_interval`) claims due mails one at a time (a
conditional update that moves `next_attempt_at` a lease ahead, so that two background processes never send the
same mail at once, and a process that dies mid-send loses nothing) and delivers each:

- with MASK_SMTP_URL, over SMTP (aiosmtplib): STARTTLS when the server offers it on smtp://, TLS from the start
  on smtps://; a failure is retried after 30 s, 1 min, 2 min, … (at most an hour apart), `MAX_ATTEMPTS` times;
- without it (a laptop), to the log and to an .eml file in MASK_MAIL_DIR, so that development works.

A sent mail's bodies are wiped (they may hold a single-use link); sent and failed rows go after `KEEP_SENT`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.config import Settings
from mask.db import session_scope
from mask.kit.time import utcnow
from mask.mail.repository import MailRepository
from mask.models.mail import OutboxMail

logger = logging.getLogger("mask.mail")

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=2)
KEEP_SENT = timedelta(days=7)
SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        implicit_tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
        )


def build_message(mail: OutboxMail, sender: str) -> EmailMessage:
    """The MIME message: plain text first, HTML as the alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=mail.id)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Mask-Mail"] = mail.kind  # what it is, for filters (and tests)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class MailSender:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_interval: float = 5.0,
        first_retry: timedelta = FIRST_RETRY,
    ) -> None:
        self.settings = settings
        self.first_retry = first_retry
        self.sessionmaker = sessionmaker
        self.poll_interval = poll_interval
        self.smtp = SmtpServer.from_url(settings.smtp_url) if settings.smtp_url else None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def on_mail_queued(self, _signal: object) -> None:
        self.wake()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mail sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away: try again on the next pass
                logger.exception("mail sender pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self) -> int:
        """Send every mail that is due now; the number sent."""
        sent = 0
        async with session_scope(self.sessionmaker) as session:
            await MailRepository(session).purge_before(utcnow() - KEEP_SENT)
        while True:
            async with session_scope(self.sessionmaker) as session:
                mail = await MailRepository(session).claim_next(now=utcnow(), lease=LEASE)
                if mail is None:
                    return sent
                session.expunge(mail)
            error = await self._deliver(mail)
            async with session_scope(self.sessionmaker) as session:
                repository = MailRepository(session)
                if error is None:
                    await repository.mark_sent(mail.id, now=utcnow())
                    sent += 1
                else:
                    attempts = mail.attempts + 1
                    delay = min(self.first_retry * 2 ** (attempts - 1), LONGEST_RETRY)
                    await repository.mark_failed(
                        mail.id,
                        attempts=attempts,
                        error=error,
                        retry_at=utcnow() + delay,
                        give_up=attempts >= MAX_ATTEMPTS,
                    )
                    logger.warning("mail %s to %s failed (attempt %d): %s", mail.id, mail.to_address, attempts, error)

    async def _deliver(self, mail: OutboxMail) -> str | None:
        """None when delivered, else what went wrong."""
        message = build_message(mail, self.settings.mail_sender)
        if self.smtp is None:
            return await asyncio.to_thread(self._write_file, mail, message)
        smtp = self.smtp
        try:
            await aiosmtplib.send(
                message,
                hostname=smtp.hostname,
                port=smtp.port,
                username=smtp.username,
                password=smtp.password,
                use_tls=smtp.implicit_tls,
                start_tls=None if not smtp.implicit_tls else False,
                timeout=SMTP_TIMEOUT,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"[:500]
        logger.info("mail %s sent to %s: %s", mail.id, mail.to_address, mail.subject)
        return None

    def _write_file(self, mail: OutboxMail, message: EmailMessage) -> str | None:
        """No SMTP server: the mail goes to the log (links included, to click in development) and to a file."""
        logger.info("mail to %s (no MASK_SMTP_URL; not sent): %s\n%s", mail.to_address, mail.subject, mail.text)
        directory = Path(self.settings.mail_dir)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.id}.eml").write_bytes(message.as_bytes())
        except OSError as error:
            return f"{type(error).__name__}: {error}"[:500]
        return None
