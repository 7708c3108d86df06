"""What the daemon tests share: a two-channel shop, and for the process tests a config, token
file and catalog for ``channelsync run`` against one JD simulator, as an operator would write
them (secrets from env and file)."""

import os
import sys

import pytest

from channelsync.testing.harness import Shop


@pytest.fixture
def ab_shop(tmp_path):
    """Two fake channels polled every 0.2 s, both listing A (10 in stock) and B (3)."""
    shop = Shop(tmp_path, {"a": {"poll_interval": 0.2}, "b": {"poll_interval": 0.2}})
    for name in ("a", "b"):
        shop.platform(name).seed("A", 0, 1000)
        shop.platform(name).seed("B", 0, 1000)
    shop.import_csv("product_code,sku_code,price,stock:main\nP,A,10.00,10\nP,B,10.00,3\n")
    yield shop
    shop.close()


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
