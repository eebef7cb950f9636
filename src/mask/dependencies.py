"""FastAPI dependencies shared by every API router: the request's session and the request's context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mask.context import AppContext
from mask.db import session_scope


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


# The API edge may open the request's session before routing (the rate limiter looks the API key up in it);
# it leaves it in the ASGI scope state under this name, and the request's session dependency adopts it.
REQUEST_SESSION_STATE = "request_session"


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    opened: AsyncSession | None = request.scope.get("state", {}).pop(REQUEST_SESSION_STATE, None)
    async with session_scope(get_context(request).sessionmaker, session=opened) as session:
        yield session


ContextDep = Annotated[AppContext, Depends(get_context)]
# scope="function": the commit happens when the endpoint returns, before the response is sent, so a
# client never sees 201 for a change that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
