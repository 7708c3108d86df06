"""The Prometheus alert rules and the Grafana dashboard: valid, their alerts fire as meant
(promtool's own unit tests), and every channelsync metric they name exists."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from channelsync.telemetry import metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "channelsync-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "channelsync-dashboard.json"
REQUIRED_ALERTS = {"ChannelsyncChannelFailing", "ChannelsyncQueueGrowing", "ChannelsyncParkedPushes",
                   "ChannelsyncTokenExpiringSoon", "ChannelsyncDriftFound", "ChannelsyncNoOrdersPolled"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def alert_exprs() -> dict[str, str]:
    # no YAML parser in the project: the file keeps each rule's expr on the line after its name
    found = re.findall(r"- alert: (\w+)\n\s+expr: (.+)", RULES.read_text(encoding="utf-8"))
    assert len(found) == RULES.read_text(encoding="utf-8").count("- alert:")
    return dict(found)


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def exported_names() -> set[str]:
    """Every sample name /metrics can serve (a counter adds _total, a histogram _bucket/_sum/_count)."""
    names = set()
    for family in metrics.REGISTRY.collect():
        names.add(family.name)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ())
        names.update(family.name + s for s in suffixes)
    return names


def test_the_rules_pass_promtool_check(tmp_path):
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_prometheus_config_loads_the_rules():
    config = RULES.parent / "prometheus.yml"
    result = subprocess.run([promtool(), "check", "config", str(config)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "SUCCESS: 12 rules found" in result.stdout, result.stdout + result.stderr


def test_the_alerts_fire_as_meant_in_promtool_unit_tests(tmp_path):
    """Failing channel, parked pushes, a token expiring within a day, no poll for 15 minutes."""
    tests = (ROOT / "tests" / "deploy" / "channelsync-alerts.test.yml").read_text().replace("RULES", str(RULES))
    (tmp_path / "t.yml").write_text(tests)
    result = subprocess.run([promtool(), "test", "rules", str(tmp_path / "t.yml")], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_queries_are_valid_promql(tmp_path):
    """promtool parses every panel's query, written as recording rules ($channel as .*)."""
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:q{i}", "expr": e.replace("$channel", ".*")} for i, e in enumerate(dashboard_exprs())]}]}
    (tmp_path / "d.yml").write_text(json.dumps(rules))  # JSON is YAML
    result = subprocess.run([promtool(), "check", "rules", str(tmp_path / "d.yml")], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_asked_for_alerts_exist():
    assert REQUIRED_ALERTS <= set(alert_exprs())


def test_every_metric_named_exists():
    names = exported_names()
    used = {m for e in [*alert_exprs().values(), *dashboard_exprs()]
            for m in re.findall(r"\b(?:channelsync|process)_[a-z_]+", e)}
    assert used and used <= names, f"named but never exported: {sorted(used - names)}"


def test_the_dashboard_is_importable_grafana_json():
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dash["uid"] and dash["title"] == "channelsync"
    assert {v["name"] for v in dash["templating"]["list"]} == {"datasource", "channel"}
    cells = set()
    for p in dash["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"panel {p['title']!r} overlaps another"
        cells |= mine
        if p["type"] != "row":
            assert p["targets"] and p["title"]
