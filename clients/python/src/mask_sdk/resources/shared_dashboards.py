"""`client.shared_dashboards`: public, read-only analytics pages (`/share/<token>`) of one link, tag, domain or
bio page (`/v1/shared-dashboards`). Scopes `analytics:read` (list, get) and `links:write` (the rest)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from mask_sdk._endpoint import NOT_GIVEN, Args, Json, NoContent, NotGiven, Resource, endpoint, given, paginated
from mask_sdk.models import (
    Page,
    SharedDashboard,
    SharedDashboardCreate,
    SharedDashboardUpdate,
    SharedDashboardWithUrl,
)

R = TypeVar("R")


class SharedDashboards(Resource[R]):
    @endpoint("POST", "/v1/shared-dashboards", returns=Json(SharedDashboardWithUrl), body=SharedDashboardCreate)
    def create(
        self,
        *,
        link_id: str | None = None,
        tag: str | None = None,
        domain: str | None = None,
        bio_page_id: str | None = None,
        title: str | None = None,
        password: str | None = None,
        expires_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> Args:
        """Share the analytics of exactly one of `link_id`, `tag` (id or name), `domain` (id or name),
        `bio_page_id`. The page's `url` is in this answer only (a retry with the same `idempotency_key` is a
        `ConflictError`, never the URL again)."""
        return given(locals())

    @paginated("/v1/shared-dashboards", item=SharedDashboard)
    def list(self, *, limit: int | None = None, max_items: int | None = None) -> Args:
        """Every shared dashboard, newest first (without URLs)."""
        return given(locals())

    @endpoint("GET", "/v1/shared-dashboards", returns=Json(Page[SharedDashboard]))
    def list_page(self, *, limit: int | None = None, cursor: str | None = None) -> Args:
        """One page of shared dashboards."""
        return given(locals())

    @endpoint("GET", "/v1/shared-dashboards/{dashboard_id}", returns=Json(SharedDashboard))
    def get(self, dashboard_id: str) -> Args:
        """One shared dashboard of the workspace."""
        return given(locals())

    @endpoint(
        "PATCH", "/v1/shared-dashboards/{dashboard_id}", returns=Json(SharedDashboard), body=SharedDashboardUpdate
    )
    def update(
        self,
        dashboard_id: str,
        *,
        title: str | NotGiven | None = NOT_GIVEN,
        password: str | NotGiven | None = NOT_GIVEN,
        expires_at: datetime | NotGiven | None = NOT_GIVEN,
    ) -> Args:
        """Change the fields given: `password=None` removes the password (a new one logs visitors out),
        `expires_at=None` makes the page never expire."""
        return given(locals())

    @endpoint("POST", "/v1/shared-dashboards/{dashboard_id}/rotate", returns=Json(SharedDashboardWithUrl))
    def rotate(self, dashboard_id: str, *, idempotency_key: str | None = None) -> Args:
        """A new URL, in this answer only; the old one answers 404 at once."""
        return given(locals())

    @endpoint("DELETE", "/v1/shared-dashboards/{dashboard_id}", returns=NoContent())
    def revoke(self, dashboard_id: str) -> Args:
        """Revoke the page: its URL answers 404 at once."""
        return given(locals())
