"""The composition root: what a MASK process is made of, built and wired in one place.

Read top to bottom, it says who reacts to what:
- A click: the redirect app or a bio page hands it to the ClickTracker → this worker's click journal file
  (ClickJournal), before the answer → in the background process on the same host, the JournalShipper enriches
  and stores each batch (mask.click.service.record_batch), running the click listeners in the batch's transaction:
  `link.clicked` events (webhooks), bio page counters, analytics rollups.
- After a commit (mask.signals): LinkChanged → the redirect cache forgets the link (here, then in every worker via
  Redis); BioPageChanged → the bio page cache likewise; WebhooksChanged and EventsRecorded → the webhook
  dispatcher looks for work at once; MailQueued → the mail sender sends at once; TitlesWanted → the title fetcher
  fetches new links' page titles at once; DomainChanged → every worker's domain states forget the host name
  (whether it serves, whose links, its fallbacks), and the domain checker looks for due checks.
- Background services (the background process): click storing, webhook delivery, the mail sender, audit log
  retention, raw click retention (MASK_CLICK_RETENTION_DAYS), the link title fetcher, and the DomainChecker,
  which re-checks custom domains' DNS records when due.

Two roles: `create_app` builds an HTTP process (`mask serve`'s workers, the tests), `create_worker` the background
process (`mask worker`) with only what it runs: click storing and webhook delivery, no ASGI apps.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from mask.analytics import service as analytics_service
from mask.analytics.retention import ClickRetention
from mask.api.app import api_stack, create_api
from mask.api.edge import BodyFirst
from mask.app import MaskApp, Services
from mask.audit_log.service import AuditRetention
from mask.bio_page import published as bio_page_published
from mask.click.enrichment import Enricher
from mask.click.journal import ClickJournal
from mask.click.legacy import LegacyClicks
from mask.click.pipeline import ClickPipeline
from mask.click.service import ClickListener
from mask.click.shipper import JournalShipper, writer_engine
from mask.click.tracker import ClickTracker
from mask.config import Settings, get_settings
from mask.context import AppContext, BackgroundService
from mask.dashboard.app import create_dashboard
from mask.db import create_sessionmaker, session_scope
from mask.domain.dns import Dns
from mask.domain.tasks import DomainChecker
from mask.imports.runner import ImportRunner
from mask.kit.cpu import CpuGate
from mask.link import service as link_service
from mask.link.titles import TitleFetcher
from mask.mail.sender import MailSender
from mask.public.bio_pages import BioPagePublic, create_bio_pages_app, page_cache
from mask.public.cache import PublicCache
from mask.public.domains import DomainStates, VerifiedDomains
from mask.public.invalidation import BIO_PAGES, DOMAINS, REDIRECTS, CacheInvalidation, channel_name
from mask.public.pages import Hosts
from mask.public.report import ReportPage
from mask.public.tls import TlsAsk
from mask.rate_limit.limiter import Limiter
from mask.rate_limit.middleware import RateLimitGuard
from mask.redirect.app import RedirectApp
from mask.redirect.decision import Decider
from mask.redirect.resolver import Resolver, Target, lookup_engine
from mask.signals import (
    BioPageChanged,
    DomainChanged,
    EventsRecorded,
    ImportQueued,
    LinkChanged,
    MailQueued,
    TitlesWanted,
    WebhooksChanged,
)
from mask.webhook.clicks import LinkClickedRecorder
from mask.webhook.dispatcher import WebhookDispatcher
from mask.webhook.runtime import WebhookRuntime
from mask.webhook.ssrf import GuardedTransport

logger = logging.getLogger("mask")


@dataclass
class Worker:
    """The background process's parts: no HTTP."""

    context: AppContext
    services: Services


def build_click_pipeline(context: AppContext, listeners: list[ClickListener]) -> ClickPipeline:
    """The tracker, this worker's click journal and the shipper (a background service) that ships the host's
    journal to the database, first storing what the hand-overs before the journal left (mask.click.legacy)."""
    settings = context.settings
    enricher = Enricher(secret_key=settings.secret_key, mmdb_path=settings.geoip_mmdb_path)
    engine = writer_engine(settings, context.engine)
    sessionmaker = (
        context.sessionmaker
        if engine is context.engine
        else create_sessionmaker(engine, info=context.signals.session_info())
    )
    journal = ClickJournal(
        settings.click_journal_path,
        fsync_ms=settings.click_journal_fsync_ms,
        segment_bytes=settings.click_journal_segment_bytes,
        segment_seconds=settings.click_journal_segment_seconds,
    )
    legacy = LegacyClicks(
        sessionmaker=sessionmaker,
        read_sessionmaker=context.sessionmaker,
        enricher=enricher,
        listeners=listeners,
        batch_size=settings.click_batch_size,
        spill_dir=settings.click_spill_path,
        redis=context.redis,
        redis_prefix=settings.redis_prefix,
    )
    shipper = JournalShipper(
        directory=settings.click_journal_path,
        sessionmaker=sessionmaker,
        read_sessionmaker=context.sessionmaker,
        enricher=enricher,
        listeners=listeners,
        batch_size=settings.click_batch_size,
        poll_interval=settings.click_flush_interval,
        drain_seconds=settings.click_drain_seconds,
        cpu_gate=CpuGate(longest=settings.click_store_yield_seconds),
        before_start=legacy.store,
    )
    tracker = ClickTracker(settings=settings, journal=journal, shipper=shipper if context.run_background else None)

    async def start_journal() -> None:
        if context.run_background:  # only the background process enriches
            await asyncio.to_thread(enricher.warm_up)
        await journal.start()

    async def stop_journal() -> None:
        await journal.stop()  # after the shipper: background services stop before these hooks
        if engine is not context.engine:
            await engine.dispose()

    context.on_startup.append(start_journal)
    context.on_shutdown.append(stop_journal)
    context.background.append(BackgroundService("click journal shipper", shipper.start, shipper.stop))
    context.health["clicks"] = journal.status
    return ClickPipeline(tracker, journal, shipper, enricher, listeners)


def title_client(settings: Settings) -> httpx.AsyncClient:
    """The page title fetcher's HTTP client: through the webhooks' SSRF guard (every hop's addresses checked,
    MASK_TITLE_FETCH_ALLOWED_NETWORKS excepted), redirects followed (5 at most), no proxy from the environment."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=8)
    transport = GuardedTransport(allow_private=False, limits=limits, allowed_networks=settings.title_fetch_networks)
    return httpx.AsyncClient(
        transport=transport, follow_redirects=True, max_redirects=5, timeout=httpx.Timeout(3.0), trust_env=False
    )


def build_services(settings: Settings, *, run_background: bool) -> tuple[AppContext, Services]:
    """What every MASK process has: the context, webhooks, the click pipeline and their wiring."""
    context = AppContext.create(settings, run_background=run_background)
    webhooks = WebhookRuntime(dispatcher=WebhookDispatcher(context), clicks=LinkClickedRecorder())
    context.background.append(
        BackgroundService("webhook dispatcher", webhooks.dispatcher.start, webhooks.dispatcher.stop)
    )
    context.signals.connect(WebhooksChanged, webhooks.on_webhooks_changed)
    context.signals.connect(EventsRecorded, webhooks.on_events_recorded)
    # Mail (sign-up confirmation, password reset, invites): queued in the request's transaction, sent here.
    mail = MailSender(settings, context.sessionmaker)
    context.background.append(BackgroundService("mail sender", mail.start, mail.stop))
    context.signals.connect(MailQueued, mail.on_mail_queued)
    retention = AuditRetention(context.sessionmaker, retention_days=settings.audit_retention_days)
    context.background.append(BackgroundService("audit log retention", retention.start, retention.stop))
    if settings.click_retention_days is not None:
        clicks_retention = ClickRetention(context.sessionmaker, retention_days=settings.click_retention_days)
        context.background.append(BackgroundService("click retention", clicks_retention.start, clicks_retention.stop))
    # In each click batch's transaction, in this order (mask.click.service.record_batch).
    listeners: list[ClickListener] = [
        webhooks.clicks,  # link.clicked events for subscribed workspaces
        bio_page_published.on_clicks,  # bio page view and block counters
        analytics_service.record_clicks,  # analytics rollups
    ]
    clicks = build_click_pipeline(context, listeners)
    # Link page titles: queued with the link, fetched here in the background process, never on a request.
    titles = TitleFetcher(sessionmaker=context.sessionmaker, client_factory=lambda: title_client(settings))
    context.background.append(BackgroundService("link title fetcher", titles.start, titles.stop))
    context.signals.connect(TitlesWanted, titles.on_titles_wanted)
    # Imports (mask.imports): created by the API or the CLI, run batch by batch here.
    imports = ImportRunner(
        settings=settings,
        sessionmaker=context.sessionmaker,
        client_factory=lambda: httpx.AsyncClient(timeout=httpx.Timeout(30.0), trust_env=False),
    )
    context.background.append(BackgroundService("import runner", imports.start, imports.stop))
    context.signals.connect(ImportQueued, imports.on_import_queued)
    checker = build_domain_checker(context)
    return context, Services(clicks=clicks, webhooks=webhooks, rate_limiter=None, domain_checker=checker, titles=titles)


# --- custom domains: the background checks --------------------------------------------------------------------
def build_domain_checker(context: AppContext) -> DomainChecker:
    """The DomainChecker, a background service; a claim added in this process wakes it."""
    checker = DomainChecker(settings=context.settings, sessionmaker=context.sessionmaker, dns=Dns(context.settings))
    context.background.append(BackgroundService("domain checker", checker.start, checker.stop))

    async def wake_checker(_signal: DomainChanged) -> None:
        checker.wake()

    if context.run_background:
        context.signals.connect(DomainChanged, wake_checker)
    return checker


# --- custom domains: what each host name answers, per worker ----------------------------------------------------
def build_domain_states(context: AppContext, hosts: Hosts, engine: AsyncEngine) -> DomainStates:
    """The per-worker domain states (mask.public.domains), dropped on DomainChanged here and, through Redis, in
    every other worker."""
    settings = context.settings
    domains = DomainStates(settings, hosts, VerifiedDomains(engine), ttl=settings.redirect_cache_ttl)
    invalidation = CacheInvalidation(
        forget=domains.invalidate,
        clear=domains.clear,
        redis=context.redis,
        channel=channel_name(settings.redis_prefix, DOMAINS),
    )
    context.on_startup.append(invalidation.start)
    context.on_shutdown.append(invalidation.stop)

    async def forget_domain(signal: DomainChanged) -> None:
        await invalidation.invalidate(signal.domain, None)

    context.signals.connect(DomainChanged, forget_domain)
    return domains


def _invalidation(context: AppContext, cache: PublicCache[Any], name: str) -> CacheInvalidation:
    """A cache's invalidation (here at once, in other workers through Redis), listening while the process runs."""
    settings = context.settings
    invalidation = CacheInvalidation(
        forget=cache.invalidate,
        clear=cache.clear,
        redis=context.redis,
        channel=channel_name(settings.redis_prefix, name),
    )
    context.on_startup.append(invalidation.start)
    context.on_shutdown.append(invalidation.stop)
    return invalidation


# --- what a click gets: passwords, start times, click limits (mask.redirect.decision) ---------------------------
def build_decider(context: AppContext, engine: AsyncEngine, tracker: ClickTracker | None = None) -> Decider:
    """The redirect path's decision engine: reservations on the resolver's engine, wrong password attempts
    counted by their own limiter (Redis when configured), `link.limit_reached` recorded in the outbox, the hits
    it answers itself (social previews) handed to the click tracker."""
    attempts = Limiter(context.settings)
    attempts.namespace = "link-password"
    context.on_shutdown.append(attempts.close)

    async def limit_reached(link_id: str) -> None:
        async with session_scope(context.sessionmaker) as session:
            await link_service.record_limit_reached(session, link_id=link_id)

    return Decider(
        settings=context.settings,
        engine=engine,
        attempts=attempts,
        on_limit_reached=limit_reached,
        tracker=tracker,
    )


def create_app(settings: Settings | None = None) -> MaskApp:
    """An HTTP process: the API, the redirects, bio pages and the dashboard (the ASGI factory `mask serve` runs).

    Background services run here only when MASK_SERVE_BACKGROUND is true (`mask serve` sets it false in its HTTP
    workers and starts `mask worker` beside them; tests leave it true and get a whole MASK in one process).
    """
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    context, services = build_services(settings, run_background=settings.serve_background)
    hosts = Hosts(settings.short_domain)

    redirect_cache: PublicCache[Target] = PublicCache(
        max_entries=settings.redirect_cache_size,
        ttl=settings.redirect_cache_ttl,
        negative_ttl=settings.redirect_negative_ttl,
    )
    redirects = _invalidation(context, redirect_cache, REDIRECTS)

    async def forget_link(signal: LinkChanged) -> None:
        await redirects.invalidate(signal.domain, signal.slug)

    context.signals.connect(LinkChanged, forget_link)
    engine = lookup_engine(settings)
    context.on_shutdown.append(engine.dispose)
    domains = build_domain_states(context, hosts, engine)
    redirect = RedirectApp(
        settings=settings,
        hosts=hosts,
        domains=domains,
        resolver=Resolver(engine, redirect_cache),
        tracker=services.clicks.tracker,
        decider=build_decider(context, engine, services.clicks.tracker),
    )

    pages = page_cache(ttl=settings.redirect_cache_ttl, negative_ttl=settings.redirect_negative_ttl)
    bio_page_invalidation = _invalidation(context, pages, BIO_PAGES)

    async def forget_bio_page(signal: BioPageChanged) -> None:
        await bio_page_invalidation.invalidate(signal.domain, signal.handle)

    context.signals.connect(BioPageChanged, forget_bio_page)
    bio_pages = create_bio_pages_app(
        BioPagePublic(
            hosts=hosts,
            domains=domains,
            cache=pages,
            sessionmaker=context.sessionmaker,
            tracker=services.clicks.tracker,
        )
    )

    if settings.rate_limit_enabled:
        services.rate_limiter = Limiter(settings)
        context.on_shutdown.append(services.rate_limiter.close)
    guard = RateLimitGuard(context, services.rate_limiter) if services.rate_limiter is not None else None
    api_app = create_api(context, rate_limiter=services.rate_limiter)
    api_app.state.page_client = lambda: title_client(settings)  # GET /v1/links/metadata: through the SSRF guard
    api = api_stack(api_app, context, guard=guard)
    # Forms read at the door, on the API's body terms: no session waits for a slow client (mask.api.edge).
    dashboard = BodyFirst(
        create_dashboard(context, rate_limiter=services.rate_limiter, page_client=lambda: title_client(settings)),
        settings,
    )
    return MaskApp(
        context,
        services,
        hosts=hosts,
        api=api,
        api_app=api_app,
        redirect=redirect,
        bio_pages=bio_pages,
        dashboard=dashboard,
        internal=TlsAsk(settings=settings, domains=domains),
        report=ReportPage(settings=settings, sessionmaker=context.sessionmaker),
    )


def create_worker(settings: Settings) -> Worker:
    """The background process: click storing and webhook delivery, always running; no HTTP."""
    context, services = build_services(settings, run_background=True)
    return Worker(context=context, services=services)
