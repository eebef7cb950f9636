"""The shapes of the app association files a short domain serves for deep links.

- `/.well-known/apple-app-site-association` (Apple universal links, shared web credentials, App Clips):
  a JSON object with `applinks`, `webcredentials`, `appclips` and/or `activitycontinuation`
  (developer.apple.com, "Supporting associated domains").
- `/.well-known/assetlinks.json` (Android App Links, Digital Asset Links): a JSON array of statements, each
  `{"relation": [...], "target": {"namespace": "android_app", "package_name", "sha256_cert_fingerprints"}}` or a
  `web` target with a `site` (developers.google.com/digital-asset-links).

The checks catch what would make the platforms ignore the file (a wrong type, a missing app id or fingerprint),
not every detail; each problem says where it is (`applinks.details[0].appIDs`).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BYTES = 64 * 1024  # what either platform fetches is small; Apple's limit is 128 KB uncompressed
APP_ID = re.compile(r"[A-Z0-9]{10}\.[A-Za-z0-9][A-Za-z0-9.\-*]*")  # TEAMID.bundle.id
FINGERPRINT = re.compile(r"[0-9A-F]{2}(:[0-9A-F]{2}){31}")  # SHA-256, colon-separated upper-case hex
PACKAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
APPLE_SECTIONS = ("applinks", "webcredentials", "appclips", "activitycontinuation")


class AssociationProblem(ValueError):
    """Why an association file is refused; `where` is the path inside it (empty: the whole file)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


def _size(value: object) -> None:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_BYTES:
        raise AssociationProblem("", f"The file is larger than {MAX_BYTES // 1024} KB.")


def _strings(value: object, where: str, *, pattern: re.Pattern[str] | None = None, what: str = "a string") -> None:
    if not isinstance(value, list) or not value:
        raise AssociationProblem(where, f"must be a non-empty list of {what}s.")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or (pattern is not None and not pattern.fullmatch(item)):
            raise AssociationProblem(f"{where}[{index}]", f"must be {what}.")


def check_apple_app_site_association(value: Any) -> dict[str, Any]:
    """The apple-app-site-association object, or AssociationProblem."""
    if not isinstance(value, dict):
        raise AssociationProblem("", "must be a JSON object (with `applinks`, `webcredentials`, …).")
    unknown = sorted(set(value) - set(APPLE_SECTIONS))
    if unknown:
        raise AssociationProblem(unknown[0], f"is not a section of the file; use {', '.join(APPLE_SECTIONS)}.")
    if not value:
        raise AssociationProblem("", f"needs at least one of {', '.join(APPLE_SECTIONS)}.")
    app_id = "an app id like `ABCDE12345.com.example.app` (team id, dot, bundle id)"
    for section, body in value.items():
        if not isinstance(body, dict):
            raise AssociationProblem(section, "must be a JSON object.")
        if section != "applinks":
            _strings(body.get("apps"), f"{section}.apps", pattern=APP_ID, what=app_id)
            continue
        if "apps" in body and body["apps"] != []:
            raise AssociationProblem("applinks.apps", "must be an empty list (or absent).")
        details = body.get("details")
        if not isinstance(details, list) or not details:
            raise AssociationProblem("applinks.details", "must be a non-empty list.")
        for index, detail in enumerate(details):
            where = f"applinks.details[{index}]"
            if not isinstance(detail, dict):
                raise AssociationProblem(where, "must be a JSON object.")
            if "appIDs" in detail:
                _strings(detail["appIDs"], f"{where}.appIDs", pattern=APP_ID, what=app_id)
            elif not isinstance(detail.get("appID"), str) or not APP_ID.fullmatch(detail["appID"]):
                raise AssociationProblem(f"{where}.appIDs", f"is required: a list of {app_id}s.")
            if "components" in detail:
                components = detail["components"]
                if not isinstance(components, list) or not all(isinstance(item, dict) for item in components):
                    raise AssociationProblem(f"{where}.components", "must be a list of JSON objects.")
            elif "paths" in detail:
                _strings(detail["paths"], f"{where}.paths", what="a path pattern")
            else:
                raise AssociationProblem(where, "needs `components` (or the older `paths`).")
    _size(value)
    return value


def check_asset_links(value: Any) -> list[Any]:
    """The assetlinks.json statement list, or AssociationProblem."""
    if not isinstance(value, list) or not value:
        raise AssociationProblem("", "must be a non-empty JSON array of statements.")
    for index, statement in enumerate(value):
        where = f"[{index}]"
        if not isinstance(statement, dict):
            raise AssociationProblem(where, "must be a JSON object with `relation` and `target`.")
        _strings(statement.get("relation"), f"{where}.relation", what="a relation like `delegate_permission/…`")
        target = statement.get("target")
        if not isinstance(target, dict):
            raise AssociationProblem(f"{where}.target", "must be a JSON object.")
        namespace = target.get("namespace")
        if namespace == "android_app":
            package = target.get("package_name")
            if not isinstance(package, str) or not PACKAGE_NAME.fullmatch(package):
                raise AssociationProblem(f"{where}.target.package_name", "must be a package name like `com.example`.")
            _strings(
                target.get("sha256_cert_fingerprints"),
                f"{where}.target.sha256_cert_fingerprints",
                pattern=FINGERPRINT,
                what="a SHA-256 fingerprint like `14:6D:…:E5` (32 upper-case hex pairs)",
            )
        elif namespace == "web":
            site = target.get("site")
            if not isinstance(site, str) or not site.startswith(("https://", "http://")):
                raise AssociationProblem(f"{where}.target.site", "must be a site like `https://example.com`.")
        else:
            raise AssociationProblem(f"{where}.target.namespace", "must be `android_app` or `web`.")
    _size(value)
    return value
