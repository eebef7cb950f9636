"""Import jobs: what `POST /v1/imports` takes and what `GET /v1/imports/{id}` answers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime

Source = Literal["mask-csv", "bitly-csv", "dub-csv", "shlink-csv", "yourls-csv", "kutt-csv", "csv", "bitly", "shlink"]
FILE_SOURCES = ("mask-csv", "bitly-csv", "dub-csv", "shlink-csv", "yourls-csv", "kutt-csv", "csv")
ACCOUNT_SOURCES = ("bitly", "shlink")


class ImportOptions(RequestSchema):
    source: Source = Field(
        description="The file's format (`mask-csv`, `bitly-csv`, `dub-csv`, `shlink-csv`, `yourls-csv`, "
        "`kutt-csv`, or `csv` with a `mapping`), or an account to read (`bitly` with `token`; `shlink` with "
        "`server_url` and its API key as `token`)."
    )
    dry_run: bool = Field(default=False, description="Check every row and report; write no link.")
    on_conflict: Literal["skip", "rename", "overwrite"] = Field(
        default="skip",
        description="A slug already taken: `skip` the row, `rename` (a generated slug), or `overwrite` the "
        "workspace's own link there (another workspace's link is never touched: the row is refused).",
    )
    domains: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        examples=[{"bit.ly": "go.yourbrand.com"}],
        description="Their short domain → one of this workspace's domains. A row on a domain not mapped (and "
        "not the workspace's) goes to `domain`.",
    )
    domain: str | None = Field(
        default=None, max_length=253, description="Where rows on other domains go; the default short domain if absent."
    )
    keep_slugs: bool = Field(default=True, description="Keep each link's slug (back-half); else generate new ones.")
    keep_created_at: bool = Field(default=True, description="Keep each link's creation time from the source.")
    tags: list[str] = Field(default_factory=list, max_length=5, description="Tags added to every imported link.")
    mapping: dict[str, str] | None = Field(
        default=None,
        examples=[{"url": "Destination", "slug": "Code", "title": "Name"}],
        description="MASK field → the file's column header (required for `csv`; overrides a source's guess). "
        "Fields: url, slug, domain, short_url, title, notes, tags, external_id, created_at, clicks, archived, "
        "disabled, expires_at, expired_url, utm_source, utm_medium, utm_campaign, utm_term, utm_content.",
    )
    file_content: str | None = Field(
        default=None,
        description="The file's text, for a JSON body (a file source); or upload it as `file` with multipart.",
    )
    token: str | None = Field(
        default=None, max_length=500, description="The account's API token (`bitly`); never shown again."
    )
    server_url: str | None = Field(
        default=None, max_length=2048, description="`shlink`: the server's address (`https://s.example.com`)."
    )
    group_guid: str | None = Field(
        default=None, max_length=64, description="`bitly`: one group only (every group of the account if absent)."
    )
    import_clicks: bool = Field(
        default=True, description="`bitly`: also read each link's click total (one request per link)."
    )


class ImportCounts(Schema):
    created: int
    updated: int
    skipped: int
    failed: int


class ImportProgress(Schema):
    done: int = Field(description="Rows (or source links) handled so far.")
    total: int | None = Field(description="Rows in the file; null while an account's total is unknown.")


class ImportJob(Schema):
    id: str = Field(examples=["imp_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    source: str
    status: Literal["queued", "running", "completed", "failed"]
    dry_run: bool
    filename: str | None
    progress: ImportProgress
    counts: ImportCounts
    error: str | None = Field(description="Why the whole job failed (a row's problem is in the report instead).")
    report_url: str = Field(description="A CSV of every row skipped, refused, renamed or overwritten, and why.")
    created_at: UTCDatetime
    started_at: UTCDatetime | None
    finished_at: UTCDatetime | None


class ImportPage(Schema):
    data: list[ImportJob]
