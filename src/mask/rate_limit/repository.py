from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mask.models.auth import ApiKey
from mask.models.rate_limit import PlanLimit
from mask.models.workspace import Workspace


class KeyWithPlanLimit(NamedTuple):
    key: ApiKey
    workspace: Workspace
    plan_limit: PlanLimit | None


class PlanLimitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find_key_with_plan_limit(self, token_hash: str) -> KeyWithPlanLimit | None:
        """The key, its workspace and the workspace's plan limit, in one round trip."""
        statement = (
            select(ApiKey, Workspace, PlanLimit)
            .join(Workspace, Workspace.id == ApiKey.workspace_id)
            .outerjoin(PlanLimit, PlanLimit.plan == Workspace.plan)
            .where(ApiKey.token_hash == token_hash)
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else KeyWithPlanLimit(*row)

    async def get(self, plan: str) -> PlanLimit | None:
        return await self.session.get(PlanLimit, plan)

    async def list(self) -> list[PlanLimit]:
        result = await self.session.execute(select(PlanLimit).order_by(PlanLimit.requests))
        return list(result.scalars())

    def add(self, plan_limit: PlanLimit) -> None:
        self.session.add(plan_limit)
