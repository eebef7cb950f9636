"""Targeting rules and A/B variants as the API accepts them: validated field by field (every problem named), their
destinations checked like `url` (loops, blocklist), stored as plain JSON that mask.redirect.rules compiles.

Dub-style shortcuts (`ios_url`, `android_url`, `geo: {"US": url}`) become ordinary rules, after the others.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mask.config import Settings
from mask.domain import service as domain_service
from mask.kit.errors import FieldError
from mask.kit.time import as_utc
from mask.link.schemas import LinkFields
from mask.models.link import Link

# The vocabulary, kept in step with mask.redirect.rules (tests/link/test_rules.py compares them).
CONDITION_TYPES = ("device", "os", "browser", "language", "country", "city", "query_param", "ip", "before", "after")
DEVICES = ("mobile", "desktop", "tablet")
OSES = ("ios", "android", "windows", "macos", "linux", "chromeos")
BROWSERS = ("chrome", "safari", "firefox", "edge", "opera", "samsung")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
MAX_RULES = 25
MIN_VARIANTS, MAX_VARIANTS = 2, 5
RULE_FIELDS = ("rules", "ios_url", "android_url", "geo")


def _one_of(param: str, value: str | None, allowed: tuple[str, ...], errors: list[FieldError]) -> str | None:
    normalised = (value or "").strip().lower()
    if normalised not in allowed:
        errors.append(FieldError(param, "invalid_value", f"`{param}` is one of {', '.join(allowed)}."))
        return None
    return normalised


def _condition(
    param: str, raw: dict[str, Any], errors: list[FieldError], *, settings: Settings
) -> dict[str, Any] | None:
    kind = raw.get("type")
    value = raw.get("value")
    before = len(errors)
    if kind not in CONDITION_TYPES:
        errors.append(
            FieldError(
                f"{param}.type", "unknown_condition", f"Unknown condition type; one of {', '.join(CONDITION_TYPES)}."
            )
        )
        return None
    if kind != "query_param" and raw.get("name") is not None:
        errors.append(FieldError(f"{param}.name", "unexpected", "Only a `query_param` condition has a `name`."))
    if kind != "query_param" and value is None:
        errors.append(FieldError(f"{param}.value", "required", f"A `{kind}` condition needs a `value`."))
        return None
    if kind == "device":
        value = _one_of(f"{param}.value", value, DEVICES, errors)
    elif kind == "os":
        value = _one_of(f"{param}.value", value, OSES, errors)
    elif kind == "browser":
        value = _one_of(f"{param}.value", value, BROWSERS, errors)
    elif kind == "language":
        if not isinstance(value, str) or not LANGUAGE.match(value.strip()):
            errors.append(FieldError(f"{param}.value", "invalid_language", "A language tag such as `es` or `es-AR`."))
        else:
            value = value.strip().lower()
    elif kind == "country":
        if not isinstance(value, str) or not COUNTRY.match(value.strip()):
            errors.append(FieldError(f"{param}.value", "invalid_country", "A two-letter country code such as `US`."))
        else:
            value = value.strip().upper()
    elif kind == "city":
        if not settings.geoip_mmdb_path:
            errors.append(
                FieldError(
                    f"{param}.type",
                    "city_unavailable",
                    "City conditions need a city database on the server (MASK_GEOIP_MMDB_PATH); use `country`.",
                )
            )
        elif not isinstance(value, str) or not value.strip() or len(value) > 100:
            errors.append(FieldError(f"{param}.value", "invalid_city", "A city's English name, 1–100 characters."))
        else:
            value = value.strip()
    elif kind == "query_param":
        name = raw.get("name")
        if not isinstance(name, str) or not name or len(name) > 100:
            errors.append(FieldError(f"{param}.name", "required", "A `query_param` condition needs a `name`."))
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            errors.append(FieldError(f"{param}.value", "invalid_value", "At most 500 characters."))
        if len(errors) == before:
            return {"type": kind, "name": name, "value": value}
        return None
    elif kind == "ip":
        try:
            value = str(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            errors.append(
                FieldError(f"{param}.value", "invalid_cidr", "An IPv4 or IPv6 address or CIDR, e.g. `203.0.113.0/24`.")
            )
    elif kind in ("before", "after"):
        try:
            value = as_utc(datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))).isoformat()
        except ValueError:
            errors.append(
                FieldError(f"{param}.value", "invalid_time", "An ISO 8601 time such as `2027-01-01T00:00:00Z`.")
            )
    if len(errors) != before:
        return None
    return {"type": kind, "value": value}


async def _destination(
    session: AsyncSession, settings: Settings, param: str, raw: str | None, errors: list[FieldError]
) -> str | None:
    if raw is None:
        errors.append(FieldError(param, "required", f"`{param}` is required."))
        return None
    return await domain_service.check_destination(session, settings=settings, param=param, raw=raw, errors=errors)


def _shortcut_of(rule: dict[str, Any]) -> tuple[str, str] | None:
    """(type, value) when a stored rule is exactly what a shortcut makes (one os or country condition)."""
    conditions = rule.get("conditions") or []
    if len(conditions) == 1 and conditions[0].get("type") in ("os", "country"):
        return conditions[0]["type"], conditions[0]["value"]
    return None


async def rule_changes(
    session: AsyncSession,
    *,
    settings: Settings,
    data: LinkFields,
    sent: set[str],
    link: Link | None,
    errors: list[FieldError],
) -> dict[str, Any]:
    """The `rules` column to store for the rule fields in `sent` (nothing when none was sent)."""
    if not sent & set(RULE_FIELDS):
        return {}
    rules: list[dict[str, Any]] = []
    if "rules" in sent:
        for index, rule in enumerate(data.rules or []):
            param = f"rules[{index}]"
            url = await _destination(session, settings, f"{param}.url", rule.url, errors)
            if not rule.conditions:
                errors.append(FieldError(f"{param}.conditions", "required", "A rule needs at least one condition."))
            conditions = [
                _condition(f"{param}.conditions[{number}]", condition.model_dump(), errors, settings=settings)
                for number, condition in enumerate(rule.conditions)
            ]
            if url is not None and all(condition is not None for condition in conditions):
                rules.append({"url": url, "conditions": conditions})
    elif link is not None and link.rules:
        rules = list(link.rules)
    shortcuts: list[tuple[str, str, str | None, str]] = []  # (type, value, url, param)
    for name, value in (("ios_url", "ios"), ("android_url", "android")):
        if name in sent:
            shortcuts.append(("os", value, getattr(data, name), name))
    if "geo" in sent:
        if data.geo is None:
            rules = [rule for rule in rules if (_shortcut_of(rule) or ("",))[0] != "country"]
        else:
            for country, url in data.geo.items():
                if not COUNTRY.match(country):
                    errors.append(FieldError(f"geo.{country}", "invalid_country", "Keys are two-letter country codes."))
                    continue
                shortcuts.append(("country", country.upper(), url, f"geo.{country}"))
    for kind, value, raw_url, param in shortcuts:
        rules = [rule for rule in rules if _shortcut_of(rule) != (kind, value)]
        if raw_url is None:
            continue
        url = await domain_service.check_destination(
            session, settings=settings, param=param, raw=raw_url, errors=errors
        )
        if url is not None:
            rules.append({"url": url, "conditions": [{"type": kind, "value": value}]})
    if len(rules) > MAX_RULES:
        errors.append(FieldError("rules", "too_many_rules", f"At most {MAX_RULES} rules, shortcuts included."))
    return {"rules": rules or None}


async def variant_changes(
    session: AsyncSession,
    *,
    settings: Settings,
    data: LinkFields,
    sent: set[str],
    link: Link | None,
    errors: list[FieldError],
) -> dict[str, Any]:
    """The `variants` and `test_ends_at` columns to store for the A/B fields in `sent`."""
    found: dict[str, Any] = {}
    if "variants" in sent:
        variants = data.variants
        if variants is None or not variants:
            found["variants"] = None
        elif not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
            errors.append(FieldError("variants", "variant_count", f"{MIN_VARIANTS} to {MAX_VARIANTS} variants."))
        else:
            stored = []
            for index, variant in enumerate(variants):
                url = await _destination(session, settings, f"variants[{index}].url", variant.url, errors)
                stored.append({"url": url, "weight": variant.weight})
            if sum(variant.weight for variant in variants) != 100:
                errors.append(FieldError("variants", "weights_not_100", "The variants' weights must sum to 100."))
            found["variants"] = stored
    if "test_ends_at" in sent:
        found["test_ends_at"] = None if data.test_ends_at is None else as_utc(data.test_ends_at)
    has_variants = found["variants"] if "variants" in found else (link.variants if link is not None else None)
    if found.get("test_ends_at") is not None and not has_variants:
        errors.append(FieldError("test_ends_at", "no_test", "`test_ends_at` goes with `variants`."))
    return found
