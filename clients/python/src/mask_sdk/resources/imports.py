"""`client.imports`: links brought in from other shorteners (`/v1/imports`). Scopes `links:write`, `links:read`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypeVar

from mask_sdk._endpoint import Args, Json, Resource, Text, endpoint, given
from mask_sdk.models import ImportJob, ImportOptions, ImportPage

R = TypeVar("R")
Source = Literal["mask-csv", "bitly-csv", "dub-csv", "shlink-csv", "yourls-csv", "kutt-csv", "csv", "bitly", "shlink"]


class Imports(Resource[R]):
    @endpoint("POST", "/v1/imports", returns=Json(ImportJob), body=ImportOptions)
    def create(
        self,
        *,
        source: Source,
        file_content: str | None = None,
        dry_run: bool | None = None,
        on_conflict: Literal["skip", "rename", "overwrite"] | None = None,
        domains: Mapping[str, str] | None = None,
        domain: str | None = None,
        keep_slugs: bool | None = None,
        keep_created_at: bool | None = None,
        tags: Sequence[str] | None = None,
        mapping: Mapping[str, str] | None = None,
        token: str | None = None,
        server_url: str | None = None,
        group_guid: str | None = None,
        import_clicks: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Args:
        """Start an import: a file's text (`file_content`, with `source` its format) or a Bitly account
        (`source="bitly"`, `token`). It runs in the background; follow it with `get`."""
        return given(locals())

    @endpoint("GET", "/v1/imports", returns=Json(ImportPage))
    def list(self) -> Args:
        """The workspace's 50 latest imports, newest first."""
        return given(locals())

    @endpoint("GET", "/v1/imports/{import_id}", returns=Json(ImportJob))
    def get(self, import_id: str) -> Args:
        """An import's status, progress and counts."""
        return given(locals())

    @endpoint("GET", "/v1/imports/{import_id}/report", returns=Text())
    def report(self, import_id: str, *, after: int | None = None) -> Args:
        """The CSV of every row skipped, refused, renamed or overwritten, and why."""
        return given(locals())
