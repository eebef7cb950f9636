"""Who may call: `Authenticator(scope)` resolves the bearer key and checks its scope.

Endpoints declare what they need in their signature, e.g. `auth: LinksWrite`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mask import audit
from mask.auth import service as auth_service
from mask.auth.scopes import Scope
from mask.auth.service import AuthSubject, ResolvedKey
from mask.context import AppContext
from mask.dependencies import SessionDep
from mask.kit.errors import InsufficientScope
from mask.kit.net import client_ip, network_prefix

_bearer = HTTPBearer(auto_error=False, bearerFormat="mk_live_…", description="A workspace API key.")


class Authenticator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(
        self,
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> AuthSubject:
        if credentials is None:
            raise auth_service.no_credentials(header_sent="authorization" in request.headers)
        token = credentials.credentials.strip()
        context: AppContext = request.app.state.context
        ip = client_ip(request.scope, context.settings.trusted_proxy_networks)
        resolved = getattr(request.state, ResolvedKey.STATE, None)
        if isinstance(resolved, ResolvedKey) and resolved.token == token:  # the rate limiter's lookup
            subject = resolved.subject_or_raise()
            await auth_service.record_use(session, subject=subject, ip=ip)
        else:
            subject = await auth_service.authenticate(session, token=token, ip=ip)
        auth_service.check_workspace(subject)
        request.state.auth_subject = subject
        # Who is acting, for the audit log and `created_by` (they travel with the request's session).
        audit.set_actor(
            session,
            audit.Actor(
                kind="api_key",
                id=subject.key.id,
                label=subject.key.name,
                ip_prefix=network_prefix(ip),
                user_id=subject.key.created_by,
            ),
        )
        if not subject.has_scope(self.scope):
            raise InsufficientScope(self.scope.value)
        return subject


LinksRead = Annotated[AuthSubject, Depends(Authenticator(Scope.links_read))]
LinksWrite = Annotated[AuthSubject, Depends(Authenticator(Scope.links_write))]
TagsWrite = Annotated[AuthSubject, Depends(Authenticator(Scope.tags_write))]
DomainsRead = Annotated[AuthSubject, Depends(Authenticator(Scope.domains_read))]
DomainsWrite = Annotated[AuthSubject, Depends(Authenticator(Scope.domains_write))]
AnalyticsRead = Annotated[AuthSubject, Depends(Authenticator(Scope.analytics_read))]
BioPagesRead = Annotated[AuthSubject, Depends(Authenticator(Scope.bio_pages_read))]
BioPagesWrite = Annotated[AuthSubject, Depends(Authenticator(Scope.bio_pages_write))]
WebhooksRead = Annotated[AuthSubject, Depends(Authenticator(Scope.webhooks_read))]
WebhooksWrite = Annotated[AuthSubject, Depends(Authenticator(Scope.webhooks_write))]
AuditRead = Annotated[AuthSubject, Depends(Authenticator(Scope.audit_read))]
