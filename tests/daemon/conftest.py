"""What the process tests share: a config, token file and catalog for ``channelsync run``
against one JD simulator, as an operator would write them (secrets from env and file)."""

import os
import sys

import pytest


@pytest.fixture
def jd_daemon_files():
    """``write(tmp_path, sim, server, http_port=0, poll_interval=0.3) -> (cli argv, env)``."""

    def write(tmp_path, sim, server, http_port=0, poll_interval=0.3):
        creds = sim.credentials(server.base_url)
        (tmp_path / "cs.toml").write_text(f"""
[store]
path = "cs.db"
[daemon]
http_port = {http_port}
log_format = "json"
[channels.jd-pop]
plugin = "jd"
poll_interval = {poll_interval}
initial_lookback = 600
[channels.jd-pop.settings]
base_url = "{server.base_url}"
oauth_url = "{server.base_url}"
app_key = "{creds['app_key']}"
app_secret = {{ env = "JD_SECRET" }}
access_token = {{ file = "jd_token" }}
""")
        (tmp_path / "jd_token").write_text(creds["access_token"] + "\n")
        (tmp_path / "catalog.csv").write_text("product_code,sku_code,price,stock:main\nP,P-1,19.90,8\n")
        env = {**os.environ, "JD_SECRET": creds["app_secret"]}
        return [sys.executable, "-m", "channelsync", "--config", str(tmp_path / "cs.toml")], env

    return write
