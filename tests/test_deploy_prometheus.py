"""deploy/prometheus: the alert rules name only metrics the service exports, and the scrape sends the token."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import bot.web.ops  # noqa: F401 (declares the gauges computed at scrape time)
from bot.metrics import REGISTRY

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "prometheus"


def exported() -> set[str]:
    """Every sample name the service can print (a histogram's _bucket, _count, _sum; a counter's _total)."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}.get(
            family.type, ("",)
        )
        names |= {family.name + suffix for suffix in suffixes}
    return names


def test_every_alert_names_exported_metrics_and_says_how_to_fix() -> None:
    rules = [
        rule
        for group in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"]
        for rule in group["rules"]
    ]
    assert {r["alert"] for r in rules} >= {
        "HotlineFirstPageSlow", "HotlineOutboxStuck", "HotlineDeadRows", "HotlineNobodyOnCall", "HotlineNotReady",
    }  # fmt: skip
    names = exported()
    for rule in rules:
        used = set(re.findall(r"\bhotline_[a-z_]+", rule["expr"]))
        assert used, rule["alert"]
        assert used <= names, (rule["alert"], used - names)
        assert rule["annotations"]["summary"] and rule["annotations"]["fix"]


def test_the_scrape_example_sends_the_bearer_token() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    job = config["scrape_configs"][0]
    assert job["authorization"]["type"] == "Bearer" and "credentials_file" in job["authorization"]
