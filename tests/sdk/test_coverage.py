"""The SDK covers the API as its OpenAPI document describes it, and fails here the day it no longer does.

Every operation of `/v1/openapi.json` has an SDK method (each method declares its `(METHOD, path)`), every method
takes exactly the operation's parameters, and the SDK's models have the fields of the document's schemas (names,
required-ness, and the JSON type of each value), recursively. An endpoint added to the API, a field renamed or
made optional, a new `group_by`: this test fails until the SDK follows.
"""

from __future__ import annotations

import asyncio
import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mask_sdk import Mask
from mask_sdk._endpoint import OPTIONS, Binary, ChosenBy, Endpoint, ListEndpoint, NoContent, Text, endpoints_of
from mask_sdk.models import ErrorBody
from pydantic import BaseModel

from mask.bootstrap import create_app
from mask.config import Settings

HTTP_METHODS = ("get", "put", "post", "patch", "delete")

SdkEndpoint = Endpoint[Any, Any] | ListEndpoint[Any, Any]


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document exactly as the API serves it."""
    database = tmp_path_factory.mktemp("openapi") / "unused.db"
    app = create_app(Settings(env="test", database_url=f"sqlite+aiosqlite:///{database}", rate_limit_enabled=False))

    async def fetch() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as client:
            response = await client.get("/v1/openapi.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    return asyncio.run(fetch())


def sdk_endpoints() -> list[tuple[str, SdkEndpoint]]:
    client = Mask(api_key="mk_live_coverage", base_url="http://sdk.invalid")
    try:
        return [
            (f"{resource}.{name}", endpoint)
            for resource, value in vars(client).items()
            if not resource.startswith("_")
            for name, endpoint in endpoints_of(value)
        ]
    finally:
        client.close()


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


# Comparing a JSON schema with a Python annotation


class Schemas:
    def __init__(self, openapi: dict[str, Any]) -> None:
        self.components: dict[str, Any] = openapi["components"]["schemas"]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = {**self.components[schema["$ref"].rsplit("/", 1)[1]], **_without(schema, "$ref")}
        return schema

    def variants(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The non-null alternatives of a schema (one, unless it is a union)."""
        schema = self.resolve(schema)
        options = schema.get("anyOf") or schema.get("oneOf")
        if options is None:
            return [] if schema.get("type") == "null" else [schema]
        return [variant for option in options for variant in self.variants(option)]

    def title(self, schema: dict[str, Any]) -> str:
        return str(self.resolve(schema).get("title", "?"))

    def compare(self, schema: dict[str, Any], annotation: Any, where: str, *, request: bool) -> list[str]:
        """The differences between a schema and an annotation (`[]` when they agree)."""
        variants = self.variants(schema)
        members = [member for member in _members(annotation) if member is not type(None)]
        if len(variants) > 1:
            problems = []
            for variant in variants:
                scores = [self.compare(variant, member, where, request=request) for member in members]
                if not any(not score for score in scores):
                    closest = min(scores, key=len) if scores else ["no SDK type at all"]
                    problems.append(f"{where}: {self.title(variant)} matches no SDK type; closest: {closest}")
            return problems
        if not variants:
            return []
        variant = variants[0]
        if len(members) != 1:
            return [f"{where}: one type expected for {self.title(variant)}, the SDK has {members}"]
        member = members[0]
        kind = variant.get("type")
        if kind == "object" and "properties" in variant:
            if not (isinstance(member, type) and issubclass(member, BaseModel)):
                return [f"{where}: {self.title(variant)} is an object, the SDK has {member}"]
            return self.compare_model(variant, member, where, request=request)
        if kind == "array":
            if typing.get_origin(member) not in (list, tuple, typing.get_origin(typing.Sequence[Any])):
                return [f"{where}: an array, the SDK has {member}"]
            return self.compare(variant["items"], typing.get_args(member)[0], f"{where}[]", request=request)
        return _compare_scalar(variant, member, where)

    def compare_model(self, schema: dict[str, Any], model: type[BaseModel], where: str, *, request: bool) -> list[str]:
        where = f"{where}<{model.__name__}>"
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = model.model_fields
        problems = [f"{where}: the SDK lacks `{name}`" for name in sorted(set(properties) - set(fields))]
        problems += [f"{where}: the API has no `{name}`" for name in sorted(set(fields) - set(properties))]
        for name in sorted(set(properties) & set(fields)):
            field = fields[name]
            sdk_required = field.is_required()
            if request and not sdk_required and name in required:
                # A discriminator with its one value as default is always sent: required in effect.
                sdk_required = typing.get_origin(field.annotation) is typing.Literal and field.default is not None
            if sdk_required != (name in required):
                api = "required" if name in required else "optional"
                problems.append(f"{where}.{name}: {api} in the API, not in the SDK")
            problems += self.compare(properties[name], field.annotation, f"{where}.{name}", request=request)
        return problems


def _without(schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in schema.items() if name != key}


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a union (`X | Y`, `Optional`, `Annotated[...]` unwrapped), or the annotation itself."""
    if isinstance(annotation, tuple):
        return [member for item in annotation for member in _members(item)]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [member for item in typing.get_args(annotation) for member in _members(item)]
    return [annotation]


SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _compare_scalar(schema: dict[str, Any], annotation: Any, where: str) -> list[str]:
    kind = schema.get("type")
    if annotation is Any:
        return []
    if kind == "object":  # free-form object (`payload`)
        ok = annotation is dict or typing.get_origin(annotation) in (dict, Mapping)
        return [] if ok else [f"{where}: a free-form object, the SDK has {annotation}"]
    if typing.get_origin(annotation) is typing.Literal:
        values = typing.get_args(annotation)
        enum = schema.get("enum", schema.get("const") and [schema["const"]])
        if enum is not None and set(values) != set(enum):
            return [f"{where}: values {sorted(enum)} in the API, {sorted(values)} in the SDK"]
        scalar = {"string": str, "integer": int}.get(str(kind))
        same = scalar is not None and all(type(value) is scalar for value in values)
        return [] if same else [f"{where}: {kind}"]
    if kind == "string" and schema.get("format") == "date-time":
        return [] if annotation is datetime else [f"{where}: a date-time, the SDK has {annotation}"]
    if kind == "string" and annotation is datetime:
        # MASK's response schemas show timestamps as plain strings (their serializer hides the format); they are
        # ISO 8601 in UTC with `Z`, which the SDK parses.
        return []
    expected = SCALARS.get(str(kind))
    if expected is None:
        return [f"{where}: the API's type {schema} is not one this test knows"]
    if annotation not in expected:
        return [f"{where}: {kind} in the API, {annotation} in the SDK"]
    return []


def success(operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    status = next(code for code in operation["responses"] if code.startswith("2"))
    return status, operation["responses"][status]


def sdk_parameters(endpoint: SdkEndpoint) -> dict[str, inspect.Parameter]:
    signature = inspect.signature(endpoint.build)
    return {name: parameter for name, parameter in list(signature.parameters.items())[1:] if name not in OPTIONS}


# The tests


def test_every_operation_of_the_openapi_document_has_an_sdk_method(openapi: dict[str, Any]) -> None:
    api = {(method, path) for method, path, _ in operations(openapi)}
    sdk = {(endpoint.operation.method, endpoint.operation.path) for _, endpoint in sdk_endpoints()}
    assert sorted(api - sdk) == [], "operations of the API without an SDK method"
    assert sorted(sdk - api) == [], "SDK methods for operations the API does not have"


def test_each_method_takes_exactly_the_parameters_of_its_operation(openapi: dict[str, Any]) -> None:
    schemas = Schemas(openapi)
    problems = []
    for name, endpoint in sdk_endpoints():
        operation = openapi["paths"][endpoint.operation.path][endpoint.operation.method.lower()]
        api = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
        implied = set(endpoint.operation.query or {}) | ({"cursor"} if isinstance(endpoint, ListEndpoint) else set())
        body = endpoint.operation.body
        expected = (set(api) - implied) | (set(body.model_fields) if body is not None else set())
        sdk = sdk_parameters(endpoint)
        if set(sdk) != expected:
            problems.append(f"{name}: missing {sorted(expected - set(sdk))}, unknown {sorted(set(sdk) - expected)}")
        for parameter in set(api) & set(sdk):
            where = f"{name}({parameter})"
            required = bool(api[parameter].get("required"))
            if required != (sdk[parameter].default is inspect.Parameter.empty):
                problems.append(f"{where}: required in the API: {required}")
            annotation = typing.get_type_hints(endpoint.build)[parameter]
            problems += _compare_enum(schemas, api[parameter]["schema"], annotation, where)
        for field, info in (body.model_fields if body is not None else {}).items():
            if field in sdk and info.is_required() != (sdk[field].default is inspect.Parameter.empty):
                problems.append(f"{name}({field}): required in the body: {info.is_required()}")
        if (body is None) != ("requestBody" not in operation):
            problems.append(f"{name}: the API {'takes' if body is None else 'takes no'} a JSON body")
    assert not problems, "\n".join(problems)


def _compare_enum(schemas: Schemas, schema: dict[str, Any], annotation: Any, where: str) -> list[str]:
    """A parameter with a closed set of values in the API: the SDK's `Literal` offers exactly those."""
    enum = [value for variant in schemas.variants(schema) for value in variant.get("enum", [])]
    literals = [
        value
        for member in _members(annotation)
        if typing.get_origin(member) is typing.Literal
        for value in typing.get_args(member)
    ]
    if enum and set(literals) != set(enum):
        return [f"{where}: values {sorted(enum)} in the API, {sorted(literals)} in the SDK"]
    return []


def test_response_models_have_the_fields_of_the_response_schemas(openapi: dict[str, Any]) -> None:
    schemas = Schemas(openapi)
    problems = []
    for name, endpoint in sdk_endpoints():
        operation = openapi["paths"][endpoint.operation.path][endpoint.operation.method.lower()]
        status, response = success(operation)
        returns = endpoint.operation.returns
        content = response.get("content", {})
        if isinstance(returns, NoContent):
            if status != "204" or content:
                problems.append(f"{name}: the SDK expects no content, the API answers {status} with {list(content)}")
            continue
        if isinstance(returns, Binary):
            if not any(kind.startswith("image/") for kind in content):
                problems.append(f"{name}: the SDK expects an image, the API answers {list(content)}")
            continue
        if isinstance(returns, Text):
            if "text/csv" not in content:
                problems.append(f"{name}: the SDK expects CSV, the API answers {list(content)}")
            continue
        if "application/json" not in content:
            problems.append(f"{name}: the API answers {status} without JSON")
            continue
        problems += schemas.compare(content["application/json"]["schema"], returns.schema, name, request=False)
    assert not problems, "\n".join(problems)


def test_request_models_have_the_fields_of_the_request_schemas(openapi: dict[str, Any]) -> None:
    schemas = Schemas(openapi)
    problems = []
    for name, endpoint in sdk_endpoints():
        body = endpoint.operation.body
        if body is None:
            continue
        operation = openapi["paths"][endpoint.operation.path][endpoint.operation.method.lower()]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        problems += schemas.compare(schema, body, name, request=True)
    assert not problems, "\n".join(problems)


def test_the_error_model_has_the_fields_of_the_error_schema(openapi: dict[str, Any]) -> None:
    schemas = Schemas(openapi)
    assert schemas.compare({"$ref": "#/components/schemas/ErrorBody"}, ErrorBody, "error", request=False) == []


def test_analytics_parse_each_group_by_of_the_api_into_its_own_model(openapi: dict[str, Any]) -> None:
    """`clicks()` picks its model by `group_by`: every value the API accepts has one (else the fallback)."""
    schemas = Schemas(openapi)
    for name, endpoint in sdk_endpoints():
        returns = endpoint.operation.returns
        if not isinstance(returns, ChosenBy):
            continue
        operation = openapi["paths"][endpoint.operation.path]["get"]
        parameter = next(p for p in operation["parameters"] if p["name"] == returns.argument)
        values = {value for variant in schemas.variants(parameter["schema"]) for value in variant.get("enum", [])}
        assert set(returns.choices) <= values, f"{name}: choices the API does not accept"
        assert returns.default == parameter["schema"].get("default"), f"{name}: the API's default differs"


def test_every_post_takes_an_idempotency_key() -> None:
    for name, endpoint in sdk_endpoints():
        if endpoint.operation.method == "POST":
            assert "idempotency_key" in inspect.signature(endpoint.build).parameters, name


def test_the_comparison_notices_a_difference(openapi: dict[str, Any]) -> None:
    """The checks above can fail: a model with a field renamed, one optional, one of another type."""

    class Renamed(BaseModel):
        id: str
        domain_name: str  # `domain` in the API
        verified: bool | None = None  # required in the API
        workspace_id: int  # a string in the API
        created_at: datetime

    problems = Schemas(openapi).compare({"$ref": "#/components/schemas/Domain"}, Renamed, "domain", request=False)
    assert any("lacks `domain`" in problem for problem in problems)
    assert any("no `domain_name`" in problem for problem in problems)
    assert any("verified: required in the API" in problem for problem in problems)
    assert any("workspace_id: string in the API" in problem for problem in problems)


def test_the_sdk_package_ships_its_type_information() -> None:
    import mask_sdk

    assert (Path(mask_sdk.__file__).parent / "py.typed").exists()
