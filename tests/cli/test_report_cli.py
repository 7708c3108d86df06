"""`channelsync report` as an operator runs it: table, --json, --csv, and an HTML page that a
real headless browser renders (a screenshot is kept under the test's tmp dir)."""

import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

from channelsync.config import load
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import fake
from channelsync.store import Store

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/engine")
from test_report import seed

CONFIG = """
[store]
path = "cs.db"
[channels.tb]
plugin = "fake"
display_name = "天猫旗舰店"
[channels.tb.settings]
platform = "tb"
token = { env = "FAKE_TOKEN" }
[channels.jd]
plugin = "fake"
display_name = "京东自营"
[channels.jd.settings]
platform = "jd"
token = { env = "FAKE_TOKEN" }
"""




PERIOD = ["--from", "2026-11-09", "--to", "2026-11-10"]


@pytest.fixture
def run(tmp_path, monkeypatch, invoke_cli):
    monkeypatch.setenv("FAKE_TOKEN", "fake-token-value-1234")
    (tmp_path / "channelsync.toml").write_text(CONFIG, encoding="utf-8")
    pm = make_manager(extra=[fake])
    config = load(tmp_path / "channelsync.toml", channel_types(pm))
    store = Store(config.db_path)
    seed(store, config)
    store.close()

    def invoke(*args, expect=0):
        result = invoke_cli(pm, ["--config", str(tmp_path / "channelsync.toml"), *args])
        assert result.exit_code == expect, (args, result.output, result.exception)
        return result.output

    return invoke


def test_table_names_channels_as_configured_with_money_in_yuan(run):
    out = run("report", *PERIOD)
    assert "天猫旗舰店" in out and "京东自营" in out
    row = next(line for line in out.splitlines() if line.startswith("天猫旗舰店"))
    assert "194.70" in row and "134.70" in row and "60.0%" in row and "25.0%" in row
    header = next(line for line in out.splitlines() if line.startswith("channel"))
    assert "orders" in header and "margin" in header
    assert "TEA-01" in out and "1 sold line(s) have no SKU cost" in out


def test_json_has_yuan_strings_and_the_previous_period(run):
    data = json.loads(run("--json", "report", *PERIOD))
    assert data["total"]["total"]["sales"] == "209.70"
    assert data["total"]["previous"]["sales"] == "64.90"
    assert data["currency"] == "CNY"


def test_csv_rows_per_day_channel_and_period(run, tmp_path):
    rows = list(csv.DictReader(io.StringIO(run("report", *PERIOD, "--csv", "-"))))
    day = next(r for r in rows if r["period"] == "2026-11-09" and r["channel"] == "tb")
    assert (day["orders"], day["sales"]) == ("2", "104.80")
    prev = next(r for r in rows if r["period"] == "2026-11-07..2026-11-08" and r["channel"] == "all")
    assert prev["sales"] == "64.90"
    run("report", *PERIOD, "--csv", str(tmp_path / "r.csv"))
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8


def test_bad_dates_and_zones_are_one_line_errors(run):
    assert "expected a date like 2026-11-11" in run("report", "--from", "11/09", expect=2)
    assert "unknown time zone 'Mars/Base'" in run("report", "--tz", "Mars/Base", expect=2)
    assert "starts (2026-11-12) after it ends" in run("report", "--from", "2026-11-12", "--to", "2026-11-10",
                                                     expect=2)
    assert "unknown channel 'tm'" in run("report", "--channel", "tm", expect=2)


def test_html_is_self_contained(run, tmp_path):
    page = tmp_path / "report.html"
    run("report", *PERIOD, "--html", str(page))
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 4 and "天猫旗舰店" in html and "¥" in html
    for remote in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert remote not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def _browser():
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.mark.slow
def test_html_renders_in_a_headless_browser(run, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    run("report", *PERIOD, "--html", str(page))
    shot = tmp_path / "report.png"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                         check=False, capture_output=True, text=True, timeout=90)
    assert "天猫旗舰店" in dom.stdout and dom.stdout.count("<svg") == 4, dom.stderr[-2000:]
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1100,2300",
                    page.as_uri()], check=False, capture_output=True, timeout=90)
    assert shot.exists() and shot.stat().st_size > 20_000  # a blank page compresses far smaller
    print(f"screenshot kept at {shot}")
