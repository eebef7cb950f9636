"""Settings, read from the environment (prefix ``MASK_``). Production refuses unsafe defaults."""

from __future__ import annotations

import ipaddress
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mask.kit.association import AssociationProblem, check_apple_app_site_association, check_asset_links
from mask.kit.net import IPNetwork
from mask.kit.url import UrlProblem, parse_destination, split_host

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production, see below


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MASK_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./var/mask.db"
    redis_url: str | None = None
    secret_key: str = DEV_SECRET_KEY
    # The default short domain: links without a `domain` live here. Also the host that serves the API/dashboard.
    short_domain: str = "localhost:8000"
    # Addresses/CIDRs of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto we believe. Empty: nobody.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "info"
    # Background services (click journal shipper, webhook dispatcher, …) in a process `mask serve`
    # starts beside its workers; set false in production when `mask worker` runs them instead. The nice value
    # lowers that process's CPU priority: redirects first, clicks stored with the CPU they leave.
    serve_background: bool = True
    serve_background_nice: int = Field(default=10, ge=0, le=19)
    db_pool_size: int = 10
    # Let webhooks reach loopback/private addresses (self-hosting beside the receivers, tests). Off: SSRF guard.
    webhooks_allow_private: bool = False
    # API rate limits (README, "Rate limits"). Plan limits live in the plan_limits table; this one applies to
    # /v1 requests without a valid API key, counted per client IP, so that key guessing is throttled too.
    rate_limit_enabled: bool = True
    rate_limit_anonymous_per_minute: int = Field(default=60, ge=1)
    # Seconds Redis may take to connect or answer before a request is counted in process memory instead (the
    # limit then loosens, never tightens). Generous: a busy event loop stretches every wait; a Redis that is
    # down refuses connections at once anyway.
    rate_limit_redis_timeout: float = Field(default=2.0, gt=0)
    # Redirects and clicks (mask.redirect, mask.click). Prefix of every Redis key/channel MASK uses.
    redis_prefix: str = "mask:"
    redirect_cache_size: int = Field(default=100_000, ge=0)  # (domain, slug) entries per worker
    redirect_cache_ttl: float = Field(default=60.0, gt=0)  # seconds; a safety net behind invalidation
    redirect_negative_ttl: float = Field(default=5.0, ge=0)  # seconds an unknown slug stays known-unknown
    record_clicks: bool = True  # false only to measure what recording costs (bench)
    # Orphan hits (an unknown slug or the root of a workspace's domain, an expired link) recorded per workspace
    # and minute by each HTTP worker at most; the rest of a flood is answered but not recorded. 0: none recorded.
    orphan_hits_per_minute: int = Field(default=600, ge=0)
    click_flush_interval: float = Field(default=0.2, gt=0)  # seconds between the shipper's looks at the journal
    click_batch_size: int = Field(default=500, ge=1)  # clicks per transaction at most
    # Where a process that cannot write its click buffer at shutdown leaves it for the next start ("" = nowhere).
    click_spill_dir: str = "var/click-spill"
    # While other processes keep every CPU busy (a burst of redirects), storing clicks waits up to this many
    # seconds before each batch: serving first, clicks stored when the burst passes (at least a batch per this
    # many seconds meanwhile). 0: never wait.
    click_store_yield_seconds: float = Field(default=10.0, ge=0)
    # The click journal (mask.click.journal): each HTTP worker appends its clicks to files here before answering;
    # the background process on the same host ships them to the database. Unset: `clicks/` beside the SQLite
    # file (var/clicks with PostgreSQL). Put it on persistent disk.
    click_journal_dir: str | None = None
    click_journal_fsync_ms: int = Field(default=1000, ge=0)  # fdatasync every this many ms; 0: after every write
    click_journal_segment_bytes: int = Field(default=16 * 1024 * 1024, ge=4096)  # a segment rotates at this size
    click_journal_segment_seconds: float = Field(default=60.0, gt=0)  # … or this age (when it holds clicks)
    # On SIGTERM the background process keeps shipping the journal for up to this many seconds; the rest waits
    # for its next start.
    click_drain_seconds: float = Field(default=10.0, ge=0)
    geoip_mmdb_path: str | None = None  # optional MaxMind/DB-IP .mmdb (country + city) instead of geoip2fast
    # Dashboard sign-ups allowed per client (an IPv4 address, an IPv6 /64) per hour.
    signup_rate_per_hour: int = Field(default=10, ge=1)
    # Wrong passwords on shared dashboards (/share/<token>) per client address per 15 minutes.
    shared_dashboard_password_attempts: int = Field(default=10, ge=1)
    # Who may create an account in the dashboard: anyone, holders of an invite link, or nobody (the CLI only).
    signup: Literal["open", "invite", "closed"] = "open"
    # Creating links needs a verified e-mail address (a workspace none of whose owners verified theirs cannot).
    # Unset: on in production, off otherwise.
    require_verified_email: bool | None = None
    # Links a Hobby workspace without a verified owner may create per day (0: no cap).
    unverified_links_per_day: int = Field(default=25, ge=0)
    # Mail: SMTP delivery from the background process (smtp://user:password@host:587 with STARTTLS when the
    # server offers it, smtps://…:465 for TLS from the start). Unset: mails go to the log and to `mail_dir`.
    smtp_url: str | None = None
    mail_from: str | None = None  # "MASK <noreply@your.domain>"; unset: noreply@ the short domain's host
    mail_dir: str = "var/mail"
    # How long the audit log keeps its entries.
    audit_retention_days: int = Field(default=365, ge=1)
    # Raw clicks older than this many days are dropped by the background process; the analytics rollups stay
    # (mask.analytics.retention says what still answers for those days). Unset: raw clicks are kept forever.
    click_retention_days: int | None = Field(default=None, ge=1)
    # Abuse reports (`/report` on every short domain) accepted per network (/24, /48) per hour.
    reports_per_hour: int = Field(default=10, ge=1)
    # Custom domains (mask.domain): the routing record users create (a CNAME to this host name, or A/AAAA
    # records to these addresses), the DNS servers verification asks (empty: the system's), and the schedule.
    cname_target: str | None = None
    public_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    dns_resolvers: Annotated[list[str], NoDecode] = Field(default_factory=list)  # "ip" or "ip:port"
    dns_timeout: float = Field(default=5.0, gt=0)  # seconds for one lookup, every server tried
    domain_recheck_interval: float = Field(default=86_400.0, gt=0)  # seconds between checks of verified domains
    domain_pending_window: float = Field(default=7 * 86_400.0, gt=0)  # seconds pending domains are re-checked
    domain_grace_period: float = Field(default=72 * 3_600.0, ge=0)  # seconds a vanished record is tolerated
    # What the default short domain answers besides links (workspace domains: PATCH /v1/domains/{id}).
    root_url: str | None = None
    not_found_url: str | None = None
    expired_url: str | None = None
    robots: Literal["deny", "allow"] = "deny"
    apple_app_site_association_file: str | None = None
    asset_links_file: str | None = None
    # Link titles (mask.link.titles): the background process fetches a new link's destination <title> through
    # the webhooks' SSRF guard. Off: no outgoing request, links without a title keep none. The networks are
    # non-public addresses it may reach all the same (an intranet's pages), as CIDRs.
    title_fetch_enabled: bool = True
    title_fetch_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Hardening (docs/operations.md): seconds a client has to send a request's whole body (then 408), and requests
    # one HTTP worker serves at once (more are answered 503 with Retry-After at once; 0: no cap).
    body_read_timeout: float = Field(default=10.0, gt=0)
    max_concurrent_requests: int = Field(default=1000, ge=0)
    # Imports from a Bitly account (mask.imports.bitly): the API's address (a stand-in server in tests).
    import_bitly_api_url: str = "https://api-ssl.bitly.com"
    # Imports from a Shlink server the user names go through the webhooks' SSRF guard; these non-public networks
    # are allowed all the same (a Shlink on the intranet), as CIDRs.
    import_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("trusted_proxies", "title_fetch_allowed_networks", "import_allowed_networks", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies", "title_fetch_allowed_networks", "import_allowed_networks")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError with a clear message
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parts = urlsplit(value.strip())
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("use smtp://user:password@host:587 or smtps://user:password@host:465")
            return value.strip()
        return None

    @field_validator("public_ips", "dns_resolvers", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_ips")
    @classmethod
    def _check_public_ips(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_address(item)) for item in value]

    @field_validator("dns_resolvers")
    @classmethod
    def _check_resolvers(cls, value: list[str]) -> list[str]:
        for item in value:
            name, port = split_host(item)
            ipaddress.ip_address(name.strip("[]"))  # raises ValueError: an address, not a name
            if port is not None and not 0 < port < 65536:
                raise ValueError(f"{item}: the port must be 1–65535")
        return value

    @field_validator("cname_target")
    @classmethod
    def _check_cname_target(cls, value: str | None) -> str | None:
        return value.strip().lower().rstrip(".") or None if value is not None else None

    @field_validator("root_url", "not_found_url", "expired_url")
    @classmethod
    def _check_fallback_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return parse_destination(value).href
        except UrlProblem as problem:
            raise ValueError(problem.message) from problem

    @field_validator("apple_app_site_association_file", "asset_links_file")
    @classmethod
    def _check_association_file(cls, value: str | None) -> str | None:
        if not value:
            return None
        Path(value).read_bytes()  # raises OSError: the path is wrong
        return value

    @field_validator("short_domain")
    @classmethod
    def _lower_domain(cls, value: str) -> str:
        return value.strip().lower()

    @model_validator(mode="after")
    def _check_short_domain_answers(self) -> Settings:
        short_name, _ = split_host(self.short_domain)
        for name in ("root_url", "not_found_url", "expired_url"):
            value = getattr(self, name)
            if value is not None and parse_destination(value).site == short_name:
                raise ValueError(f"MASK_{name.upper()} points at MASK_SHORT_DOMAIN itself: a redirect loop")
        try:
            _ = self.apple_app_site_association, self.asset_links
        except AssociationProblem as problem:
            raise ValueError(f"an app association file: {problem}") from problem
        except ValueError as error:
            raise ValueError(f"an app association file is not JSON: {error}") from error
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError(
                    "MASK_SECRET_KEY must be set to a random value of at least 32 characters in production "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
                )
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def verified_email_required(self) -> bool:
        return self.is_production if self.require_verified_email is None else self.require_verified_email

    @property
    def mail_sender(self) -> str:
        return self.mail_from or f"MASK <noreply@{self.short_domain.split(':', 1)[0]}>"

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies)

    @cached_property
    def apple_app_site_association(self) -> dict[str, Any] | None:
        """MASK_APPLE_APP_SITE_ASSOCIATION_FILE, read and checked once."""
        if not self.apple_app_site_association_file:
            return None
        return check_apple_app_site_association(json.loads(Path(self.apple_app_site_association_file).read_bytes()))

    @cached_property
    def asset_links(self) -> list[Any] | None:
        """MASK_ASSET_LINKS_FILE, read and checked once."""
        if not self.asset_links_file:
            return None
        return check_asset_links(json.loads(Path(self.asset_links_file).read_bytes()))

    @cached_property
    def title_fetch_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.title_fetch_allowed_networks)

    @cached_property
    def import_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.import_allowed_networks)

    @property
    def click_spill_path(self) -> Path | None:
        return Path(self.click_spill_dir) if self.click_spill_dir else None

    @property
    def click_journal_path(self) -> Path:
        """MASK_CLICK_JOURNAL_DIR, or `clicks/` beside the SQLite file (`var/clicks` otherwise)."""
        if self.click_journal_dir:
            return Path(self.click_journal_dir)
        if self.is_sqlite:
            path = self.database_url.split("///", 1)[-1]
            if path and path != ":memory:":
                return Path(path).parent / "clicks"
        return Path("var/clicks")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_sqlite_directory(self) -> None:
        """Create the directory of a file-based SQLite database (the default lives under ./var/)."""
        if not self.is_sqlite:
            return
        path = self.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def get_settings() -> Settings:
    return Settings()
