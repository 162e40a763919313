"""Alerts and dashboard panels look only at the platform's own series: every selector of a
platform metric is scoped to its scrape jobs (PodMonitor `<namespace>/engage-processes`,
local `engage`), so another application's `up` or `events_failed_total` raises nothing here.
promtool proves the same on data in alerts.test.yml (the "billing" case)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

OBS = Path(__file__).resolve().parents[3] / "deploy" / "observability"
# A metric name, then its label matchers if any (names inside by()/without() are no metrics).
SELECTOR = re.compile(r"(?<![\w:\"$])([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?(?=\s*(\[|\)|\s|$|>|<|=|/|\*|\+|-|or\b|and\b))")
NOT_METRICS = {"sum", "max", "min", "avg", "rate", "increase", "deriv", "histogram_quantile", "by",
               "or", "and", "le", "service", "topic", "channel", "instance", "type", "route",
               "method", "status", "namespace", "deployment", "unless", "count", "vector", "bool"}


def selectors(expr: str) -> list[tuple[str, str]]:
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "[]", expr)
    found = []
    for match in SELECTOR.finditer(expr):
        name, labels = match.group(1), match.group(2) or ""
        if name in NOT_METRICS or re.fullmatch(r"[\d.e+-]+", name):
            continue
        found.append((name, labels))
    return found


def scoped(name: str, labels: str, job: str) -> bool:
    if name.startswith("kube_"):  # kube-state-metrics: the platform's namespaces
        return 'namespace=~"engage.*"' in labels
    return f'job=~"{job}"' in labels


def test_selector_extraction():
    assert selectors('sum by (service) (rate(a_total{job=~"x", s="1"}[5m])) / sum(b)') == \
        [("a_total", '{job=~"x", s="1"}'), ("b", "")]


def test_every_alert_selector_is_scoped_to_the_platforms_jobs():
    rules = [rule for group in yaml.safe_load((OBS / "alerts.yml").read_text())["groups"]
             for rule in group["rules"]]
    for rule in rules:
        found = selectors(rule["expr"])
        assert found, rule["alert"]
        for name, labels in found:
            assert scoped(name, labels, ".*engage.*"), f"{rule['alert']}: {name}{labels} is not scoped"


def test_every_dashboard_query_is_scoped_to_the_job_variable():
    dashboard = json.loads((OBS / "dashboards" / "platform-overview.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["job"]["current"]["value"] == ".*engage.*"
    assert 'job=~"$job"' in variables["service"]["query"]["query"]
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            for name, labels in selectors(target["expr"]):
                assert scoped(name, labels, "$job"), f"{panel['title']}: {name}{labels} is not scoped"
