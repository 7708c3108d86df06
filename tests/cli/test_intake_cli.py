"""`check` verifies the intake configuration; `status` shows per channel intake on/off, the last
verified message and rejections by reason; secrets never appear."""

import json

from click.testing import CliRunner

from channelsync.daemon.intake_ledger import IntakeLedger
from channelsync.sdk.plugins import make_manager
from channelsync.store import Store, utcnow

CONFIG = """
[store]
path = "cs.db"

[intake]
host = "0.0.0.0"
port = 9470
public_url = "https://shop.example.com/cs/"

[channels.web]
plugin = "ownsite"
[channels.web.settings]
base_url = "http://127.0.0.1:1"
consumer_key = "ck"
consumer_secret = { env = "CS_SECRET" }
[channels.web.intake]
enabled = true
secret = { env = "WOO_HOOK_SECRET" }

[channels.wx]
plugin = "wechat"
[channels.wx.settings]
base_url = "http://127.0.0.1:1"
appid = "wxapp"
secret = { env = "CS_SECRET" }
[channels.wx.intake]
enabled = %s
token = { env = "WOO_HOOK_SECRET" }
encoding_aes_key = { env = "AES_KEY" }
"""
ENV = {"CS_SECRET": "cs-secret-value", "WOO_HOOK_SECRET": "hook-secret-value", "AES_KEY": "too-short"}


class _Main:
    name = "channelsync"

    def main(self, args=None, **extra):
        from channelsync import cli as cli_mod

        cli_mod.main(list(args), pm=make_manager())


def run(tmp_path, *args, enabled="false"):
    (tmp_path / "cs.toml").write_text(CONFIG % enabled)
    return CliRunner().invoke(_Main(), ["--config", str(tmp_path / "cs.toml"), *args], env=ENV)


def test_check_names_where_platforms_post_and_refuses_a_bad_receiver_setting(tmp_path):
    ok = run(tmp_path, "check", "--offline")
    assert ok.exit_code == 0, ok.output
    assert "web: intake at https://shop.example.com/cs/intake/web" in ok.output
    data = json.loads(run(tmp_path, "--json", "check", "--offline").stdout)
    assert data["intake"] == {"web": "https://shop.example.com/cs/intake/web"}
    bad = run(tmp_path, "check", "--offline", enabled="true")
    assert bad.exit_code == 2
    assert "channels.wx.intake.encoding_aes_key: expected the 43-character EncodingAESKey" in bad.output
    assert "too-short" not in bad.output and "hook-secret-value" not in bad.output


def test_status_shows_intake_per_channel(tmp_path):
    run(tmp_path, "check", "--offline")
    store = Store(tmp_path / "cs.db")
    ledger = IntakeLedger()
    ledger.accepted("web", utcnow())
    ledger.rejected("web", "signature", "no header", utcnow())
    ledger.rejected("web", "signature", "no header", utcnow())
    ledger.rejected(None, "unknown_channel", "/intake/x", utcnow())
    ledger.flush(store)
    store.close()
    human = run(tmp_path, "status")
    assert human.exit_code == 4, human.output  # 4: needs attention, no daemon runs here
    table = human.output.split("\nintake ", 1)[1].splitlines()  # the intake table, below the channels'
    lines = {line.split()[0]: line.split() for line in table[2:] if line.strip()}
    assert table[0].split() == ["messages", "last", "verified", "accepted", "rejected"]
    assert lines["web"][1:2] == ["on"] and "ago" in lines["web"] and lines["web"][-3:] == ["1", "2", "signature"]
    assert lines["wx"][1:] == ["off", "never", "0", "-"]
    assert "intake for no known channel: 1 rejected" in human.output
    data = json.loads(run(tmp_path, "--json", "status").stdout)
    web = next(c for c in data["channels"] if c["channel"] == "web")
    assert web["intake"]["enabled"] and web["intake"]["rejected"] == {"signature": 2}
    assert data["intake_unknown_channel"] == {"unknown_channel": 1}


def test_channels_lists_intake_on_or_off(tmp_path):
    out = run(tmp_path, "--json", "channels")
    assert out.exit_code == 0, out.output
    assert {c["name"]: c["intake"] for c in json.loads(out.stdout)} == {"web": True, "wx": False}
    assert "hook-secret-value" not in out.output
