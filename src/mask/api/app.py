"""The REST API under /v1: FastAPI routers, one error shape, request ids, idempotency."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import text
from starlette.types import ASGIApp

from mask.analytics.endpoints import router as analytics_router
from mask.analytics.endpoints import targets as click_deletion_router
from mask.api.docs import install_docs
from mask.api.edge import ApiEdgeMiddleware, EdgeGuard
from mask.api.openapi import document_body_errors
from mask.api.query import refuse_unknown_query_parameters
from mask.audit_log.endpoints import router as audit_router
from mask.auth.endpoints import router as key_router
from mask.auth.scopes import ALL_SCOPES
from mask.bio_page.endpoints import router as bio_page_router
from mask.bulk.endpoints import router as bulk_router
from mask.context import AppContext
from mask.dependencies import SessionDep
from mask.domain.endpoints import router as domain_router
from mask.idempotency.middleware import IdempotencyMiddleware
from mask.imports.endpoints import router as import_router
from mask.kit.http import install_error_handlers
from mask.link.endpoints import router as link_router
from mask.qr.endpoints import router as qr_router
from mask.rate_limit.limiter import Limiter
from mask.rate_limit.openapi import document_rate_limits
from mask.shared_dashboard.endpoints import router as shared_dashboard_router
from mask.tag.endpoints import router as tag_router
from mask.webhook.endpoints import router as webhook_router
from mask.workspace_admin.endpoints import router as workspace_admin_router

API_DESCRIPTION = """
MASK's REST API. Authenticate with a workspace API key: `Authorization: Bearer mk_live_…`.
Each endpoint names the scope it needs; a key without it gets `403` with `required_scope`.
Every error has one shape: `{"error": {"type", "code", "message", "param", "request_id"}}` (422 adds `errors`).
POST requests accept an `Idempotency-Key` header: a retry with the same key and body returns the first answer.
Rate limits (Hobby 60, Pro 600, Enterprise 6,000 requests/minute per workspace): every /v1 response carries
`X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time, seconds); over the limit,
`429` with `Retry-After` (seconds) and code `rate_limit_exceeded`.
Unknown query parameters are `422` too (`unknown_parameter`). Timestamps are UTC ISO 8601 with `Z`.
Lists are newest first by default, with opaque cursors (`next_cursor` → `?cursor=`).
"""

v1 = APIRouter(prefix="/v1")
v1.include_router(bulk_router)  # before the links router: `/links/bulk` is no link id
v1.include_router(link_router)
v1.include_router(qr_router)
v1.include_router(analytics_router)
v1.include_router(click_deletion_router)  # DELETE /links/{id}/clicks, /bio-pages/{id}/clicks
v1.include_router(domain_router)
v1.include_router(tag_router)
v1.include_router(webhook_router)
v1.include_router(bio_page_router)
v1.include_router(audit_router)
v1.include_router(key_router)
v1.include_router(workspace_admin_router)
v1.include_router(import_router)
v1.include_router(shared_dashboard_router)


def create_api(context: AppContext, *, rate_limiter: Limiter | None = None) -> FastAPI:
    """The FastAPI application; serve it through `api_stack`, which adds the outer middleware."""
    api = FastAPI(
        title="MASK API",
        version="1.0.0",
        description=API_DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # served by mask.api.docs, with its assets
        redoc_url=None,
        dependencies=[Depends(refuse_unknown_query_parameters)],  # unknown query parameters are 422 everywhere
    )
    api.state.context = context
    api.include_router(v1)

    @api.get("/health", include_in_schema=False)
    async def health(session: SessionDep) -> dict[str, Any]:
        await session.execute(text("SELECT 1"))
        # The limiter's Redis failures are counted here.
        figures = {name: status() for name, status in context.health.items()}  # e.g. clicks: the journal's losses
        return {
            "status": "ok",
            **({"rate_limit": rate_limiter.status()} if rate_limiter is not None else {}),
            **figures,
        }

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["HTTPBearer"] = {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "mk_live_…",
                "description": "Workspace API key. Scopes: " + ", ".join(f"`{s}`" for s in ALL_SCOPES),
            }
            api.openapi_schema = document_rate_limits(document_body_errors(schema))
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    install_docs(api)
    install_error_handlers(api)
    return api


def api_stack(api: FastAPI, context: AppContext, *, guard: EdgeGuard | None) -> ASGIApp:
    """The API as served: edge (request id, rate limit `guard`, HTTPS, body limits) → idempotency → FastAPI."""
    app: ASGIApp = IdempotencyMiddleware(api, context)
    return ApiEdgeMiddleware(app, context.settings, guard=guard, sessionmaker=context.sessionmaker)
