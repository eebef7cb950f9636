"""A link's "Targeting & A/B tests" page, `/app/<workspace>/links/<id>/targeting` (issue 21 in the dashboard).

Four plain forms, each saved through link_service.update (what `PATCH /v1/links/{id}` runs, with its validation,
one commit per request): who gets through (password, start, expiry, click limit, redirect status), targeting rules
in order, an A/B test, and the social preview. Rows are added, removed and moved by submit buttons (`op`), which
redraw the form without saving; the page's script does the same in place, and shows the weights' sum live.
Errors from the service are put next to their field in people's words, and listed at the top.

Times are shown and typed in the person's time zone (the `mask_tz` cookie, which the page's script sets from the
browser; otherwise UTC) and stored in UTC.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.countries import COUNTRIES
from mask.dashboard.web import Page, Rerender, view
from mask.kit.errors import FieldError, MaskError, ValidationFailed
from mask.kit.time import as_utc
from mask.link import rules as link_rules
from mask.link import service as link_service
from mask.link.metadata import fetch_metadata
from mask.link.schemas import Link, LinkUpdate
from mask.workspace.permissions import Permission

ZONE_COOKIE = "mask_tz"
MAX_CONDITIONS = 10
VARIANT_NAMES = "ABCDE"
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")  # what a datetime-local input sends

DEVICES = {"mobile": "Mobile", "tablet": "Tablet", "desktop": "Desktop"}
OSES = {
    "ios": "iOS",
    "android": "Android",
    "windows": "Windows",
    "macos": "macOS",
    "linux": "Linux",
    "chromeos": "ChromeOS",
}
BROWSERS = {
    "chrome": "Chrome",
    "safari": "Safari",
    "firefox": "Firefox",
    "edge": "Edge",
    "opera": "Opera",
    "samsung": "Samsung Internet",
}
# Condition types in the order of the type menu, with their label; the inputs each one shows (their `kind`).
CONDITION_LABELS = {
    "device": "Device",
    "os": "Operating system",
    "browser": "Browser",
    "country": "Country",
    "city": "City",
    "language": "Language",
    "query_param": "Query parameter",
    "ip": "IP address",
    "after": "After a time",
    "before": "Before a time",
}
INPUTS = {
    "device": ("device",),
    "os": ("os",),
    "browser": ("browser",),
    "country": ("country",),
    "city": ("city",),
    "language": ("language",),
    "query_param": ("qname", "qvalue"),
    "ip": ("ip",),
    "after": ("time",),
    "before": ("time",),
}
KINDS = ("device", "os", "browser", "country", "city", "language", "qname", "qvalue", "ip", "time")
REDIRECT_STATUSES = [
    ("302", "302 Found (default)", "Temporary: every visit comes back to MASK, so every click is counted."),
    ("307", "307 Temporary Redirect", "Like 302, and a form's POST stays a POST."),
    ("301", "301 Moved Permanently", "Permanent: browsers and crawlers may remember it and skip MASK next time."),
    ("308", "308 Permanent Redirect", "Like 301, and a POST stays a POST."),
]
NOTICES = {
    "access-saved": "Saved: who gets through and how.",
    "rules-saved": "Targeting rules saved. They apply to the next click.",
    "test-saved": "A/B test saved.",
    "test-ended": "The A/B test has ended: every visitor goes to the link's destination.",
    "preview-saved": "Social preview saved.",
    "promoted": "The variant is now the link's destination for everyone, and the A/B test has ended.",
}
# The service's error codes in people's words (the API's own message is used for the rest).
WORDING = {
    "invalid_language": "Type a language code such as es, pt-BR or en-GB.",
    "invalid_country": "Choose a country.",
    "invalid_cidr": "Type an IP address such as 203.0.113.7, or a range such as 203.0.113.0/24.",
    "invalid_time": "Choose a date and a time.",
    "invalid_city": "Type the city's English name.",
    "city_unavailable": "This server has no city database, so it cannot tell cities apart: use a country instead.",
    "unknown_condition": "Choose what the condition checks.",
    "too_many_rules": f"A link has at most {link_rules.MAX_RULES} rules.",
    "variant_count": "An A/B test has 2 to 5 variants.",
    "no_test": "An end date needs an A/B test: add variants first, or leave the date empty.",
    "schedule_overlap": "The link must start before it expires.",
    "expiry_in_past": "The expiry must be in the future.",
    "blank": "This cannot be blank.",
    "control_characters": "This cannot contain tabs, line breaks or other control characters.",
    "https_required": "The image must be an https:// address.",
    "url_required": "Type the address visitors go to.",
    "redirect_loop": "This is one of this server's own short links: it would send visitors round in a loop.",
}


@cache
def zones() -> list[str]:
    """The IANA time zones this Python knows, UTC first."""
    return ["UTC", *sorted(name for name in zoneinfo.available_timezones() if "/" in name and name != "UTC")]


def _zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name or name not in zones():
        return None
    return zoneinfo.ZoneInfo(name)


def chosen_zone(page: Page, posted: str | None = None) -> tuple[str, bool]:
    """(the time zone to show times in, whether it is only UTC by default: the page's script may guess better)."""
    for name in (posted, page.request.query_params.get("tz"), page.request.cookies.get(ZONE_COOKIE)):
        if _zone(name) is not None:
            assert name is not None
            return name, False
    return "UTC", True


def to_local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    found = _zone(zone)
    assert found is not None
    return as_utc(moment).astimezone(found).strftime(LOCAL_FORMAT)


def from_local(text: str, zone: str) -> datetime | None:
    """A `datetime-local` value typed in `zone`, in UTC; None when it is not one."""
    found = _zone(zone)
    if not LOCAL_TIME.match(text.strip()):
        return None
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if naive.tzinfo is not None or found is None:
        return None
    return naive.replace(tzinfo=found).astimezone(UTC)


# --- What a condition and a rule say, in a sentence ------------------------------------------------------------


# What each condition type says in a rule's sentence; `{kind}` is the shown value of that input (the page's script
# fills the same phrases in as the inputs change).
PHRASES = {
    "device": "device is {device}",
    "os": "operating system is {os}",
    "browser": "browser is {browser}",
    "country": "country is {country}",
    "city": "city is {city}",
    "language": "browser language is {language}",
    "query_param": "the address has ?{qname}={qvalue}",
    "ip": "IP address is in {ip}",
    "after": "it is after {time}",
    "before": "it is before {time}",
}
BARE_PARAMETER = "the address has the parameter {qname}"


def shown(kind: str, value: str) -> str:
    """An input's value as a sentence says it."""
    if not value:
        return "…"
    names = {"os": OSES, "browser": BROWSERS, "country": COUNTRIES}.get(kind)
    if names is not None:
        return names.get(value.upper() if kind == "country" else value, value)
    return value.replace("T", " ") if kind == "time" else value


def describe_condition(kind: str, values: dict[str, str]) -> str:
    phrase = PHRASES.get(kind)
    if phrase is None:
        return "…"
    if kind == "query_param" and not values.get("qvalue"):
        phrase = BARE_PARAMETER
    return re.sub(r"\{(\w+)\}", lambda found: shown(found.group(1), values.get(found.group(1), "")), phrase)


@dataclass
class ConditionRow:
    type: str = "device"
    values: dict[str, str] = field(default_factory=dict)

    def sentence(self) -> str:
        return describe_condition(self.type, self.values)


@dataclass
class RuleRow:
    url: str = ""
    conditions: list[ConditionRow] = field(default_factory=lambda: [ConditionRow()])

    def sentence(self) -> str:
        said = " and ".join(condition.sentence() for condition in self.conditions) or "…"
        return f"If {said} → {self.url or '…'}"


def rows_of(link: Link, zone: str) -> list[RuleRow]:
    """The link's stored rules as editor rows (times in `zone`)."""
    rows = []
    for rule in link.rules:
        conditions = []
        for condition in rule.conditions:
            values: dict[str, str] = {}
            if condition.type == "query_param":
                values = {"qname": condition.name or "", "qvalue": condition.value or ""}
            elif condition.type in ("before", "after"):
                moment = datetime.fromisoformat(condition.value or "")
                values = {"time": to_local(moment, zone)}
            elif condition.type in INPUTS:
                values = {INPUTS[condition.type][0]: condition.value or ""}
            conditions.append(ConditionRow(condition.type, values))
        rows.append(RuleRow(rule.url, conditions))
    return rows


def condition_body(row: ConditionRow, zone: str) -> dict[str, Any]:
    if row.type == "query_param":
        return {"type": row.type, "name": row.values.get("qname", ""), "value": row.values.get("qvalue") or None}
    value = row.values.get(INPUTS[row.type][0], "") if row.type in INPUTS else ""
    if row.type in ("before", "after"):
        moment = from_local(value, zone)
        value = moment.isoformat() if moment is not None else value
    return {"type": row.type, "value": value}


# --- Reading the forms ------------------------------------------------------------------------------------------

RULE_URL = re.compile(r"^rules-(\d+)-url$")
CONDITION_TYPE = re.compile(r"^rules-(\d+)-c-(\d+)-type$")
VARIANT_URL = re.compile(r"^variants-(\d+)-url$")


def _indexes(pattern: re.Pattern[str], names: list[str]) -> list[tuple[int, ...]]:
    found = {tuple(int(group) for group in match.groups()) for name in names if (match := pattern.match(name))}
    return sorted(found)


async def posted_rules(page: Page) -> list[RuleRow]:
    form = await page.form()
    names = list(form.keys())
    rows: dict[int, RuleRow] = {}
    for (index,) in _indexes(RULE_URL, names)[: link_rules.MAX_RULES + 1]:
        rows[index] = RuleRow(url=(await page.field(f"rules-{index}-url")).strip(), conditions=[])
    for index, number in _indexes(CONDITION_TYPE, names):
        rule = rows.get(index)
        if rule is None or len(rule.conditions) >= MAX_CONDITIONS + 1:
            continue
        prefix = f"rules-{index}-c-{number}-"
        kind = (await page.field(prefix + "type")).strip()
        values = {name: (await page.field(prefix + name)).strip() for name in INPUTS.get(kind, ())}
        rule.conditions.append(ConditionRow(kind, values))
    return [rows[index] for index in sorted(rows)]


def apply_rule_op(rows: list[RuleRow], op: str) -> tuple[list[RuleRow], str | None]:
    """Rows after an editing button (`add-rule`, `remove-rule-2`, `up-rule-1`, `add-cond-0`, `remove-cond-0-1`, …)
    and the id of the field to focus next."""
    parts = op.split("-")
    numbers = [int(part) for part in parts[2:] if part.isdigit()]
    action = "-".join(parts[:2])
    if action == "add-rule" and len(rows) < link_rules.MAX_RULES:
        rows.append(RuleRow())
        return rows, f"rules-{len(rows) - 1}-url"
    if not numbers or not 0 <= numbers[0] < len(rows):
        return rows, None
    index = numbers[0]
    if action == "remove-rule":
        del rows[index]
        return rows, "add-rule"
    if action in ("up-rule", "down-rule"):
        other = index - 1 if action == "up-rule" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
            return rows, f"{action}-{other}"
        return rows, None
    conditions = rows[index].conditions
    if action == "add-cond" and len(conditions) < MAX_CONDITIONS:
        conditions.append(ConditionRow())
        return rows, f"rules-{index}-c-{len(conditions) - 1}-type"
    if action == "remove-cond" and len(numbers) == 2 and 0 <= numbers[1] < len(conditions):
        del conditions[numbers[1]]
        return rows, f"add-cond-{index}"
    return rows, None


@dataclass
class VariantRow:
    url: str = ""
    weight: str = ""


async def posted_variants(page: Page) -> list[VariantRow]:
    names = list((await page.form()).keys())
    return [
        VariantRow(
            url=(await page.field(f"variants-{index}-url")).strip(),
            weight=(await page.field(f"variants-{index}-weight")).strip(),
        )
        for (index,) in _indexes(VARIANT_URL, names)[: link_rules.MAX_VARIANTS + 1]
    ]


def variant_rows(link: Link) -> list[VariantRow]:
    rows = [VariantRow(variant.url, str(variant.weight)) for variant in link.variants]
    while len(rows) < link_rules.MIN_VARIANTS:
        rows.append(VariantRow())
    return rows


# --- Errors in people's words, by form field --------------------------------------------------------------------


def _param_of(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _field_of(param: str, rules: list[RuleRow]) -> str:
    """The form field an error's `param` is about (`rules[0].conditions[1].value` → `rules-0-c-1-country`)."""
    found = re.match(r"^rules\[(\d+)\](?:\.(url|conditions))?(?:\[(\d+)\]\.(type|value|name))?", param)
    if found:
        index, part, number, attribute = found.groups()
        if part == "url":
            return f"rules-{index}-url"
        if number is None:
            return f"rules-{index}-conditions" if part else "rules"
        prefix = f"rules-{index}-c-{number}-"
        if attribute == "type":
            return prefix + "type"
        if attribute == "name":
            return prefix + "qname"
        conditions = rules[int(index)].conditions if int(index) < len(rules) else []
        kind = conditions[int(number)].type if int(number) < len(conditions) else ""
        if kind == "query_param":
            return prefix + "qvalue"
        return prefix + INPUTS.get(kind, ("type",))[0]
    found = re.match(r"^variants\[(\d+)\]\.(url|weight)", param)
    if found:
        return f"variants-{found.group(1)}-{found.group(2)}"
    if param.startswith("preview."):
        return "preview_" + param.split(".", 1)[1]
    if param == "preview":
        return "preview_title"
    return param.split(".", 1)[0].split("[", 1)[0] or "__all__"


def _worded(code: str, message: str, param: str) -> str:
    if code in WORDING:
        return WORDING[code]
    if code == "invalid_value" and param.endswith(".value"):
        return "Choose one of the options."
    if code == "required" and param.endswith(".conditions"):
        return "Add a condition, or remove this rule."
    if code == "required" and param.endswith(".name"):
        return "Type the parameter's name, for example utm_source."
    if code == "required" and param.endswith(".value"):
        return "Fill this in."
    return message.replace("`", "")


NUMBER_WORDS = {
    "max_clicks": "A whole number, 1 or more; leave it empty for no limit.",
    "weight": "A whole number of percent, 1 to 100.",
}


def _pydantic_words(item: dict[str, Any], name: str) -> str:
    kind = str(item.get("type", ""))
    context = item.get("ctx") or {}
    if kind == "string_too_long":
        return f"At most {context.get('max_length')} characters."
    if kind == "too_long":
        return f"At most {context.get('max_length')} of these."
    if kind in ("int_parsing", "int_type", "greater_than_equal", "less_than_equal"):
        return NUMBER_WORDS.get(name.split("-")[-1], "A whole number in the range shown.")
    if kind.startswith("datetime"):
        return "Choose a date and a time."
    return str(item.get("msg", "This is not valid.")).removeprefix("Value error, ")


def errors_of(
    error: MaskError | ValidationError, rules: list[RuleRow] | None = None, words: dict[str, str] | None = None
) -> dict[str, str]:
    """Form errors by field id, in people's words, from the service (or Pydantic, for the schema's limits)."""
    found: dict[str, str] = {}
    if isinstance(error, ValidationError):
        for detail in error.errors():
            param = _param_of(tuple(detail.get("loc", ())))
            name = _field_of(param, rules or [])
            found.setdefault(name, _pydantic_words(dict(detail), name))
        return found
    items: list[FieldError] = (
        error.errors
        if isinstance(error, ValidationFailed)
        else [FieldError(error.param or "", error.code, error.message)]
    )
    for item in items:
        name = _field_of(item.param, rules or []) if item.param else "__all__"
        found.setdefault(name, (words or {}).get(item.code) or _worded(item.code, item.message, item.param))
    return found


LABELS = {
    "password": "Password",
    "starts_at": "Active from",
    "expires_at": "Expires",
    "max_clicks": "Click limit",
    "redirect_status": "Redirect status",
    "rules": "Rules",
    "variants": "A/B test weights",
    "test_ends_at": "Test ends",
    "preview_title": "Preview title",
    "preview_description": "Preview description",
    "preview_image_url": "Preview image",
}


def label_of(name: str) -> str:
    """What the error summary calls a field (`rules-0-c-1-country` → "Rule 1, condition 2")."""
    if name in LABELS:
        return LABELS[name]
    found = re.match(r"^rules-(\d+)-(url|conditions|c-(\d+))", name)
    if found:
        rule = f"Rule {int(found.group(1)) + 1}"
        if found.group(2) == "url":
            return f"{rule}, destination"
        if found.group(3) is not None:
            return f"{rule}, condition {int(found.group(3)) + 1}"
        return rule
    found = re.match(r"^variants-(\d+)-(url|weight)$", name)
    if found:
        index = int(found.group(1))
        letter = VARIANT_NAMES[index] if index < len(VARIANT_NAMES) else str(index + 1)
        return f"Variant {letter}, {'address' if found.group(2) == 'url' else 'weight'}"
    return "This form"


# --- The page ---------------------------------------------------------------------------------------------------


@dataclass
class Forms:
    """What the page's four forms show: the link's saved values, or what was just posted."""

    zone: str
    zone_guessed: bool
    access: dict[str, str]
    rules: list[RuleRow]
    variants: list[VariantRow]
    test_ends_at: str
    preview: dict[str, str]

    @classmethod
    def of(cls, link: Link, zone: str, guessed: bool) -> Forms:
        return cls(
            zone=zone,
            zone_guessed=guessed,
            access={
                "starts_at": to_local(link.starts_at, zone),
                "expires_at": to_local(link.expires_at, zone),
                "max_clicks": "" if link.max_clicks is None else str(link.max_clicks),
                "redirect_status": str(link.redirect_status),
            },
            rules=rows_of(link, zone),
            variants=variant_rows(link),
            test_ends_at=to_local(link.test_ends_at, zone),
            preview={
                "preview_title": link.preview.title if link.preview else "",
                "preview_description": (link.preview.description or "") if link.preview else "",
                "preview_image_url": (link.preview.image_url or "") if link.preview else "",
            },
        )


async def _link(page: Page) -> Link:
    found = await link_service.get(
        page.db, workspace_id=page.ws.workspace.id, link_id=page.request.path_params["link_id"]
    )
    return link_service.to_schema(found)


def _render(
    page: Page,
    link: Link,
    forms: Forms,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    section: str | None = None,
    focus: str | None = None,
    notice: str | None = None,
) -> Response:
    errors = errors or {}
    done = page.request.query_params.get("done", "")
    return page.render(
        "link_targeting/page.html",
        status=status,
        link=link,
        forms=forms,
        errors=errors,
        summary=[(name, label_of(name), message) for name, message in errors.items()],
        section=section,
        focus=focus,
        notice=notice or NOTICES.get(done),
        can_edit=page.ws.can(Permission.links_write),
        zones=zones(),
        condition_labels=CONDITION_LABELS,
        inputs=INPUTS,
        devices=DEVICES,
        oses=OSES,
        browsers=BROWSERS,
        countries=COUNTRIES,
        statuses=REDIRECT_STATUSES,
        variant_names=VARIANT_NAMES,
        max_rules=link_rules.MAX_RULES,
        max_conditions=MAX_CONDITIONS,
        max_variants=link_rules.MAX_VARIANTS,
        weight_sum=sum(int(row.weight) for row in forms.variants if row.weight.isdigit()),
        city_ready=bool(page.settings.geoip_mmdb_path),
        base_url=f"{page.base}/links/{link.id}/targeting",
        phrases=PHRASES,
        saved_rules=rows_of(link, forms.zone),
        blank_rule=RuleRow(),
        blank_condition=ConditionRow(),
        blank_variant=VariantRow(),
    )


@view(workspace=True, permission=Permission.links_read)
async def targeting_page(page: Page) -> Response:
    link = await _link(page)
    zone, guessed = chosen_zone(page)
    return _render(page, link, Forms.of(link, zone, guessed))


def _remember_zone(page: Page, response: Response, zone: str) -> Response:
    if zone != page.request.cookies.get(ZONE_COOKIE):
        # Read by the page's script too (not HttpOnly): it holds a time zone name, nothing secret.
        response.set_cookie(
            ZONE_COOKIE, zone, max_age=365 * 86400, path="/app", samesite="lax", secure=page.settings.is_production
        )
    return response


async def _save(
    page: Page,
    link: Link,
    forms: Forms,
    body: dict[str, Any],
    *,
    section: str,
    done: str,
    local_errors: dict[str, str] | None = None,
    words: dict[str, str] | None = None,
) -> Response:
    """Apply `body` like `PATCH /v1/links/{id}`; on a problem, the page again (422) with the errors in place."""
    errors = dict(local_errors or {})
    if not errors:
        try:
            data = LinkUpdate.model_validate(body)
            await link_service.update(
                page.db, settings=page.settings, workspace_id=page.ws.workspace.id, link_id=link.id, data=data
            )
        except (MaskError, ValidationError) as error:
            if isinstance(error, link_service.LinkNotFound):
                raise
            errors = errors_of(error, forms.rules, words)
    if errors:
        raise Rerender(_render(page, link, forms, status=422, errors=errors, section=section))
    response = page.redirect(f"{page.base}/links/{link.id}/targeting?done={done}#{section}")
    return _remember_zone(page, response, forms.zone)


async def _posted_zone(page: Page) -> tuple[str, bool]:
    return chosen_zone(page, await page.field("tz"))


@view(workspace=True, permission=Permission.links_write)
async def save_access(page: Page) -> Response:
    link = await _link(page)
    zone, guessed = await _posted_zone(page)
    forms = Forms.of(link, zone, guessed)
    saved = dict(forms.access)
    forms.access = {name: (await page.field(name)).strip() for name in saved}
    body: dict[str, Any] = {}
    local: dict[str, str] = {}
    password = await page.field("password")
    if password:
        body["password"] = password
    elif await page.field("remove_password"):
        body["password"] = None
    for name in ("starts_at", "expires_at"):
        typed = forms.access[name]
        if typed == saved[name]:
            continue  # untouched (an expiry already past is not refused again)
        moment = from_local(typed, zone) if typed else None
        if typed and moment is None:
            local[name] = "Choose a date and a time."
        body[name] = moment.isoformat() if moment else None
    limit = forms.access["max_clicks"]
    if limit and not limit.isdigit():
        local["max_clicks"] = NUMBER_WORDS["max_clicks"]
    body["max_clicks"] = int(limit) if limit.isdigit() else None
    status = forms.access["redirect_status"] or "302"
    body["redirect_status"] = int(status) if status in ("301", "302", "307", "308") else status
    return await _save(page, link, forms, body, section="access", done="access-saved", local_errors=local)


@view(workspace=True, permission=Permission.links_write)
async def save_rules(page: Page) -> Response:
    link = await _link(page)
    zone, guessed = await _posted_zone(page)
    forms = Forms.of(link, zone, guessed)
    forms.rules = await posted_rules(page)
    op = await page.field("op")
    if op and op != "save":
        forms.rules, focus = apply_rule_op(forms.rules, op)
        return _render(page, link, forms, section="rules", focus=focus)
    body = {
        "rules": [
            {"url": row.url, "conditions": [condition_body(c, zone) for c in row.conditions]} for row in forms.rules
        ]
    }
    return await _save(page, link, forms, body, section="rules", done="rules-saved")


@view(workspace=True, permission=Permission.links_write)
async def save_variants(page: Page) -> Response:
    link = await _link(page)
    zone, guessed = await _posted_zone(page)
    forms = Forms.of(link, zone, guessed)
    forms.variants = await posted_variants(page)
    forms.test_ends_at = (await page.field("test_ends_at")).strip()
    op = await page.field("op")
    if op == "add-variant":
        if len(forms.variants) < link_rules.MAX_VARIANTS:
            forms.variants.append(VariantRow())
        return _render(page, link, forms, section="test", focus=f"variants-{len(forms.variants) - 1}-url")
    if op.startswith("remove-variant-") and op.rsplit("-", 1)[1].isdigit():
        index = int(op.rsplit("-", 1)[1])
        if 0 <= index < len(forms.variants):
            del forms.variants[index]
        return _render(page, link, forms, section="test", focus="add-variant")
    if op == "end-test":
        return await _save(
            page, link, forms, {"variants": None, "test_ends_at": None}, section="test", done="test-ended"
        )
    local: dict[str, str] = {}
    rows = [row for row in forms.variants if row.url or row.weight]
    for index, row in enumerate(forms.variants):
        if (row.url or row.weight) and not row.weight.isdigit():
            local[f"variants-{index}-weight"] = NUMBER_WORDS["weight"]
    if rows and len(rows) != len(forms.variants):
        local["variants"] = "Fill in or remove the empty variant."
    ends = forms.test_ends_at
    moment = from_local(ends, zone) if ends else None
    if ends and moment is None:
        local["test_ends_at"] = "Choose a date and a time."
    body: dict[str, Any] = {
        "variants": [{"url": row.url, "weight": int(row.weight) if row.weight.isdigit() else 0} for row in rows]
        or None,
        "test_ends_at": moment.isoformat() if moment else None,
    }
    total = sum(int(row.weight) for row in rows if row.weight.isdigit())
    words = {"weights_not_100": f"The weights add up to {total} %: they must add up to exactly 100 %."}
    return await _save(page, link, forms, body, section="test", done="test-saved", local_errors=local, words=words)


@view(workspace=True, permission=Permission.links_write)
async def promote(page: Page) -> Response:
    """Make a variant the link's destination (the API's promote); without the confirmation field, ask first."""
    link = await _link(page)
    raw = page.request.path_params["n"]
    index = int(raw) if raw.isdigit() and len(raw) < 3 else -1
    if not 0 <= index < len(link.variants):
        raise link_service.VariantNotFound("The A/B test has no such variant (it may have ended).", param="n")
    if await page.field("confirmed") != "1":
        return page.render(
            "link_targeting/promote.html",
            link=link,
            index=index,
            variant=link.variants[index],
            name=VARIANT_NAMES[index],
            base_url=f"{page.base}/links/{link.id}/targeting",
        )
    await link_service.promote_variant(page.db, workspace_id=page.ws.workspace.id, link_id=link.id, index=index)
    return page.redirect(f"{page.base}/links/{link.id}/targeting?done=promoted#test")


def page_client_of(page: Page) -> Callable[[], httpx.AsyncClient] | None:
    factory: Callable[[], httpx.AsyncClient] | None = getattr(page.request.app.state, "page_client", None)
    return factory


@view(workspace=True, permission=Permission.links_write)
async def save_preview(page: Page) -> Response:
    link = await _link(page)
    zone, guessed = await _posted_zone(page)
    forms = Forms.of(link, zone, guessed)
    forms.preview = {name: (await page.field(name)).strip() for name in forms.preview}
    op = await page.field("op")
    if op == "fetch":
        factory = page_client_of(page)
        try:
            if factory is None:
                raise MaskError("This server does not fetch pages.")
            checked = await link_service.check_page_url(page.db, settings=page.settings, url=link.url)
            async with factory() as client:
                found = await fetch_metadata(client, checked)
        except MaskError as error:
            said = error.errors[0].message if isinstance(error, ValidationFailed) and error.errors else error.message
            message = f"The page could not be read: {said.replace('`', '')}"
            return _render(page, link, forms, status=422, errors={"preview_title": message}, section="preview")
        forms.preview = {
            "preview_title": found.title or forms.preview["preview_title"],
            "preview_description": found.description or forms.preview["preview_description"],
            "preview_image_url": found.image_url or forms.preview["preview_image_url"],
        }
        notice = "Filled in from the page. Check it, then save."
        return _render(page, link, forms, section="preview", focus="preview_title", notice=notice)
    if op == "remove" or not any(forms.preview.values()):
        return await _save(page, link, forms, {"preview": None}, section="preview", done="preview-saved")
    body = {
        "preview": {
            "title": forms.preview["preview_title"],
            "description": forms.preview["preview_description"] or None,
            "image_url": forms.preview["preview_image_url"] or None,
        }
    }
    return await _save(page, link, forms, body, section="preview", done="preview-saved")
