"""Members of a test workspace, each with an API key they made (as Settings → API Keys makes one)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher

from mask.account import passwords
from mask.account import service as account_service
from mask.app import MaskApp
from mask.auth import service as auth_service
from mask.db import session_scope
from mask.workspace import service as workspace_service


@dataclass
class Someone:
    user_id: str
    email: str
    role: str
    token: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real Argon2id with small cost parameters: these tests make many users."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield


async def join(app: MaskApp, workspace_id: str, email: str, role: str, scopes: list[str] | None = None) -> Someone:
    """A user with `role` in the workspace, and a key they made (every scope their role may give, or `scopes`)."""
    async with session_scope(app.context.sessionmaker) as session:
        workspace = await workspace_service.get_by_slug_or_id(session, ref=workspace_id)
        user = await account_service.create_user(
            session, email=email, password="correct horse battery staple", workspace=workspace, role=role
        )
        created = await auth_service.create(
            session, workspace=workspace, name=f"{role} key", scopes=scopes, created_by=user.id, role=role
        )
    return Someone(user_id=user.id, email=email, role=role, token=created.token, key_id=created.key.id)
