"""Who hears about what: subscription rules per destination (``QDP_SUBSCRIPTIONS_FILE``).

    # subscriptions.yaml: every rule sends matching notices to its Apprise URLs
    subscriptions:
      - name: 教育局的工作计划            # for people and logs
        urls: ["mailto://user:pass@mail.example.org?to=edu@example.org"]
        departments: [市教育局]           # canonical names or aliases (etl/departments.py)
        doc_types: [work_plan, action_plan]
        keywords: [工作要点, 行动计划]     # any of them in the title
      - name: 全部公告
        urls: ["ntfy://ntfy.example.org/qingdao-notices"]

A rule matches a notice when every field it sets matches (any value of a list); a field left out
matches everything. A destination hears about a notice when any of its rules matches, once, however
many rules match. ``QDP_ALERT_URLS`` stays the simple "everything" rule (narrowed only by
``QDP_ALERT_DOC_TYPES``). The file is validated when loaded: an unknown key, department, doc type
or an URL Apprise does not know is an error naming the rule, never a silently ignored rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..departments import DEPARTMENTS, canonical_department
from ..records import DOC_TYPES
from ..settings import Settings

RULE_KEYS = ("name", "urls", "departments", "doc_types", "keywords")


class SubscriptionError(ValueError):
    """The subscriptions file is not valid; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    departments: frozenset[str] = frozenset()  # canonical names; empty = any
    doc_types: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()

    def matches(self, *, department: str | None, doc_type: str, title: str | None) -> bool:
        if self.departments and canonical_department(department) not in self.departments:
            return False
        if self.doc_types and doc_type not in self.doc_types:
            return False
        return not self.keywords or any(k in (title or "") for k in self.keywords)


@dataclass(frozen=True, slots=True)
class Destination:
    url: str  # holds secrets: never logged or stored, see ``key`` and ``label``
    rules: tuple[Rule, ...]

    @property
    def key(self) -> str:
        return destination_key(self.url)

    @property
    def label(self) -> str:
        return destination_label(self.url)

    def wants(self, *, department: str | None, doc_type: str, title: str | None) -> bool:
        return any(r.matches(department=department, doc_type=doc_type, title=title) for r in self.rules)


def destination_key(url: str) -> str:
    return "sha256:" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


def destination_label(url: str) -> str:
    """The URL with passwords and tokens masked (Apprise's privacy rendering)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True) if plugin else "<invalid Apprise URL>"


def check_apprise_url(url: str, where: str) -> None:
    import apprise

    if not isinstance(url, str) or apprise.Apprise.instantiate(url) is None:
        raise SubscriptionError(f"{where}: not an Apprise URL: {destination_label(str(url))!r} "
                                "(see the README's table of URL schemes)")


_KNOWN_DEPARTMENTS = frozenset(d.name for d in DEPARTMENTS)


def _str_list(rule: dict[str, Any], key: str, where: str) -> list[str]:
    value = rule.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SubscriptionError(f"{where}: {key} must be a list of non-empty strings")
    return [v.strip() for v in value]


def parse_rules(data: Any, source: str = "subscriptions") -> list[tuple[Rule, list[str]]]:
    """Validate the parsed YAML; return (rule, urls) pairs."""
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"subscriptions"}:
        extra = sorted(set(data) - {"subscriptions"}) if isinstance(data, dict) else []
        raise SubscriptionError(f"{source}: the top level must be a mapping with one key, subscriptions"
                                + (f" (unknown: {', '.join(map(str, extra))})" if extra else ""))
    rules = data.get("subscriptions") or []
    if not isinstance(rules, list):
        raise SubscriptionError(f"{source}: subscriptions must be a list of rules")
    out = []
    for i, raw in enumerate(rules, start=1):
        where = f"{source}: rule {i}"
        if not isinstance(raw, dict):
            raise SubscriptionError(f"{where}: a rule is a mapping with keys {', '.join(RULE_KEYS)}")
        if isinstance(raw.get("name"), str):
            where = f"{source}: rule {i} ({raw['name']})"
        unknown = sorted(map(str, set(raw) - set(RULE_KEYS)))
        if unknown:
            raise SubscriptionError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(RULE_KEYS)}")
        urls = _str_list(raw, "urls", where)
        if not urls:
            raise SubscriptionError(f"{where}: urls is required (one or more Apprise URLs)")
        for url in urls:
            check_apprise_url(url, where)
        departments = set()
        for name in _str_list(raw, "departments", where):
            canonical = canonical_department(name)
            if canonical not in _KNOWN_DEPARTMENTS:
                raise SubscriptionError(f"{where}: unknown department {name!r} (etl/departments.py lists "
                                        "the names and aliases, e.g. 市教育局 or 青岛市教育局)")
            departments.add(canonical)
        doc_types = _str_list(raw, "doc_types", where)
        bad = sorted(set(doc_types) - set(DOC_TYPES))
        if bad:
            raise SubscriptionError(f"{where}: unknown doc type(s) {', '.join(bad)}; known: {', '.join(DOC_TYPES)}")
        rule = Rule(name=str(raw.get("name") or f"rule {i}"), departments=frozenset(departments),
                    doc_types=frozenset(doc_types), keywords=tuple(_str_list(raw, "keywords", where)))
        out.append((rule, urls))
    return out


def load_rules_file(path: Path) -> list[tuple[Rule, list[str]]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SubscriptionError(f"QDP_SUBSCRIPTIONS_FILE: cannot read {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SubscriptionError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(data, str(path))


def _merge(pairs: Iterable[tuple[Rule, list[str]]]) -> list[Destination]:
    by_url: dict[str, list[Rule]] = {}
    for rule, urls in pairs:
        for url in urls:
            by_url.setdefault(url, []).append(rule)
    return [Destination(url, tuple(rules)) for url, rules in by_url.items()]


def destinations(settings: Settings) -> list[Destination]:
    """Every subscriber destination with its rules: QDP_ALERT_URLS plus the rules file."""
    pairs: list[tuple[Rule, list[str]]] = []
    if settings.alert_urls:
        for url in settings.alert_urls:
            check_apprise_url(url, "QDP_ALERT_URLS")
        pairs.append((Rule("QDP_ALERT_URLS", doc_types=frozenset(settings.alert_doc_types)),
                      list(settings.alert_urls)))
    if settings.subscriptions_file:
        pairs.extend(load_rules_file(settings.subscriptions_file))
    return _merge(pairs)
