"""Unknown query parameters are refused (422) on every API route, as unknown body fields are.

One dependency on the whole FastAPI app (`create_api`), not a rule per endpoint: it compares the request's query
parameter names with those the matched route declares, its own and its dependencies', a Pydantic model of query
parameters (`Annotated[AnalyticsParams, Query()]`) counting for its fields. A typo (`?sort=clicks&ordr=asc`)
is then a clear error instead of a silently ignored wish.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from mask.kit.errors import FieldError, ValidationFailed

_declared: dict[int, frozenset[str]] = {}


def _names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        annotation: Any = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, info in annotation.model_fields.items():
                names.add(info.alias or name)
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _names(sub)
    return names


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names a route accepts (computed once per route)."""
    names = _declared.get(id(route))
    if names is None:
        names = _declared[id(route)] = frozenset(_names(route.dependant))
    return names


async def refuse_unknown_query_parameters(request: Request) -> None:
    """App-wide dependency: 422 naming every query parameter the matched route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    allowed = declared_query_parameters(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in allowed]
    if unknown:
        raise ValidationFailed(
            [
                FieldError(name[:100], "unknown_parameter", "This query parameter is not part of the API.")
                for name in unknown
            ]
        )
