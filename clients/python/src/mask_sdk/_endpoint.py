"""How a resource method is declared once and runs on both clients.

A resource method is written once, as a function of its arguments, and decorated with the operation it calls:

    class Links(Resource[R]):
        @endpoint("GET", "/v1/links/{link_id}", returns=Json(Link))
        def get(self, link_id: str) -> Args:
            return given(locals())

The decorator turns it into an `Endpoint` descriptor. Read from a resource of the sync client
(`Links[SyncRunner]`) it is a function returning a `Link`; from the async client (`Links[AsyncRunner]`), a
function returning an awaitable of one. Both hand the same `(endpoint, arguments)` to their runner, and the runners
share one core (`_core.py`) that builds the request, retries and parses the answer. `(method, path)` on every
endpoint is what `tests/sdk/test_coverage.py` compares with the OpenAPI document.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeAlias, TypeVar, cast, overload

import httpx
from pydantic import BaseModel, TypeAdapter

from mask_sdk.models import Page

if TYPE_CHECKING:
    from mask_sdk._client import AsyncRunner, SyncRunner
    from mask_sdk._pagination import AsyncPager, Pager

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

Args: TypeAlias = dict[str, Any]

# Arguments that shape how the SDK sends a request, not parts of the request itself.
OPTIONS = frozenset({"idempotency_key", "max_items"})


class NotGiven:
    """The default of an argument that is left out of the request (for PATCH, where `None` sends `null`)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def given(arguments: Mapping[str, Any]) -> Args:
    """A method's `locals()` as the arguments of its request: without `self` and without arguments left out."""
    return {name: value for name, value in arguments.items() if name != "self" and value is not NOT_GIVEN}


class Resource(Generic[R]):
    """A group of endpoints (`client.links`, …), bound to the sync or the async runner."""

    def __init__(self, runner: R) -> None:
        self._runner = runner


# What an answer becomes


class Returns(Generic[T]):
    """How a 2xx answer becomes the method's result. `schema` is what `test_coverage.py` compares."""

    schema: Any = None

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> T:
        raise NotImplementedError


class Json(Returns[M]):
    """The JSON body as `model`."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.schema = model

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> M:
        return self.model.model_validate_json(response.content)


class Part(Returns[T], Generic[M, T]):
    """The JSON body as `model`, then one part of it (`TagList` → its list of tags)."""

    def __init__(self, model: type[M], pick: Callable[[M], T]) -> None:
        self.model = model
        self.pick = pick
        self.schema = model

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> T:
        return self.pick(self.model.model_validate_json(response.content))


class ChosenBy(Returns[T]):
    """The JSON body as the model chosen by a query argument (`group_by`), `fallback` for the others.

    Written `ChosenBy[ClickAnalytics](...)`: `T` names the union of the models, for the type checker.
    """

    def __init__(self, argument: str, choices: Mapping[str, Any], *, default: str, fallback: type[BaseModel]) -> None:
        self.argument = argument
        self.choices = dict(choices)
        self.default = default
        self.fallback = fallback
        self.schema = (*dict.fromkeys([*self.choices.values(), fallback]),)

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> T:
        model = self.choices.get(str(args.get(self.argument) or self.default), self.fallback)
        return cast(T, TypeAdapter(model).validate_json(response.content))


class Text(Returns[str]):
    """The body as text (CSV exports)."""

    schema = str

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> str:
        return response.text


class Binary(Returns[bytes]):
    """The body as bytes (images: QR codes)."""

    schema = bytes

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> bytes:
        return response.content


class NoContent(Returns[None]):
    """`204 No Content`."""

    def parse(self, response: httpx.Response, args: Mapping[str, Any]) -> None:
        return None


# Endpoints


@dataclass(frozen=True)
class Operation:
    """One operation of the API and how its arguments travel: path placeholders into the path, the rest into the
    JSON body when there is one (`body`), else into the query string (with `query`, fixed parameters)."""

    method: str
    path: str
    returns: Returns[Any]
    body: type[BaseModel] | None = None
    query: Mapping[str, str] | None = None  # fixed query parameters (`format=csv`)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)


Builder: TypeAlias = Callable[Concatenate[Any, P], Args]


class Endpoint(Generic[P, T]):
    """A resource method that sends one request and returns its parsed answer."""

    def __init__(self, operation: Operation, build: Builder[P], doc: str | None = None) -> None:
        self.operation = operation
        self.build = build
        self.name = build.__name__
        self.__doc__ = doc or build.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self.qualname = f"{owner.__qualname__}.{name}"

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Endpoint[P, T]: ...

    @overload
    def __get__(self, instance: Resource[SyncRunner], owner: type[Any]) -> Callable[P, T]: ...

    @overload
    def __get__(self, instance: Resource[AsyncRunner], owner: type[Any]) -> Callable[P, Awaitable[T]]: ...

    def __get__(self, instance: Resource[Any] | None, owner: type[Any]) -> Any:
        if instance is None:
            return self
        runner = instance._runner
        operation, build = self.operation, self.build

        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return runner.call(operation, build(instance, *args, **kwargs))

        _describe(method, self)
        return method


class ListEndpoint(Generic[P, T]):
    """A resource method that returns a pager over every item of a cursor-paginated list."""

    def __init__(self, operation: Operation, build: Builder[P], doc: str | None = None) -> None:
        self.operation = operation
        self.build = build
        self.name = build.__name__
        self.__doc__ = doc or build.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name
        self.qualname = f"{owner.__qualname__}.{name}"

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> ListEndpoint[P, T]: ...

    @overload
    def __get__(self, instance: Resource[SyncRunner], owner: type[Any]) -> Callable[P, Pager[T]]: ...

    @overload
    def __get__(self, instance: Resource[AsyncRunner], owner: type[Any]) -> Callable[P, AsyncPager[T]]: ...

    def __get__(self, instance: Resource[Any] | None, owner: type[Any]) -> Any:
        if instance is None:
            return self
        runner = instance._runner
        operation, build = self.operation, self.build

        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return runner.paginate(operation, build(instance, *args, **kwargs))

        _describe(method, self)
        return method


def _describe(method: Callable[..., Any], declared: Endpoint[Any, Any] | ListEndpoint[Any, Any]) -> None:
    method.__name__ = declared.name
    method.__qualname__ = getattr(declared, "qualname", declared.name)
    method.__doc__ = declared.__doc__


def endpoint(
    method: str,
    path: str,
    *,
    returns: Returns[T],
    body: type[BaseModel] | None = None,
    query: Mapping[str, str] | None = None,
    doc: str | None = None,
) -> Callable[[Builder[P]], Endpoint[P, T]]:
    """Declare a resource method that calls `method path` (`doc` when the builder is shared)."""
    operation = Operation(method, path, returns, body, query)

    def declare(build: Builder[P]) -> Endpoint[P, T]:
        return Endpoint(operation, build, doc)

    return declare


def paginated(path: str, *, item: type[M]) -> Callable[[Builder[P]], ListEndpoint[P, M]]:
    """Declare a resource method that iterates over every item of `GET path`, page after page."""
    operation = Operation("GET", path, Json(Page[item]))  # type: ignore[valid-type]

    def declare(build: Builder[P]) -> ListEndpoint[P, M]:
        return ListEndpoint(operation, build)

    return declare


def endpoints_of(resource: object) -> list[tuple[str, Endpoint[Any, Any] | ListEndpoint[Any, Any]]]:
    """Every endpoint of a resource and of its sub-resources, as (dotted name, endpoint)."""
    found: list[tuple[str, Endpoint[Any, Any] | ListEndpoint[Any, Any]]] = []
    for cls in reversed(type(resource).__mro__):
        for name, attribute in vars(cls).items():
            if isinstance(attribute, Endpoint | ListEndpoint):
                found.append((name, attribute))
    for name, attribute in vars(resource).items():
        if isinstance(attribute, Resource):
            found.extend((f"{name}.{inner}", endpoint) for inner, endpoint in endpoints_of(attribute))
    return found
