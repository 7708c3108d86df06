"""`channelsync sandbox --json` as a subprocess: every simulator driven through its printed URL and credentials."""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from channelsync.sync import paging

from channelsync.sim import sandbox
from channelsync.sync.http import make_client
from channelsync.sdk.plugins import channel_types, make_manager

PLUGINS = tuple(sandbox.DEFAULT_PORTS)


def read_json_object(stream) -> dict:
    text = ""
    for line in stream:
        text += line
        try:
            return json.loads(text)
        except ValueError:
            continue
    raise AssertionError(f"sandbox printed no JSON object: {text!r}")


@pytest.mark.slow
def test_sandbox_serves_every_simulator_with_its_credentials():
    ports = [a for p in PLUGINS for a in ("--port", f"{p}=0")]
    proc = subprocess.Popen([sys.executable, "-m", "channelsync", "--json", "sandbox", *ports],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        info = read_json_object(proc.stdout)
        assert set(info) == set(PLUGINS)
        types = channel_types(make_manager())
        for plugin, sim in info.items():
            assert sim["base_url"].startswith("http://127.0.0.1:")
            control = sim["control_url"]
            made = httpx.post(control + "skus", json={"sku_code": f"SBX-{plugin}", "quantity": 7, "price": 1290})
            assert made.status_code == 201, made.text
            settings = sim["credentials"]
            channel = types[plugin](plugin, settings, make_client(plugin, settings.get("base_url", sim["base_url"])))
            try:
                listings = {ls.sku_code: ls.quantity for ls in paging.items(channel.list_listings)}
                assert listings[f"SBX-{plugin}"] == 7
                order = httpx.post(control + "orders", json={"lines": [{"sku_code": f"SBX-{plugin}", "quantity": 2}]})
                assert order.status_code == 201, order.text
                order_id = order.json()["order_id"]
                now = paging_now()
                window = channel.capabilities.max_order_window
                found = {o.external_id for s, e in paging.windows(now - min(window, timedelta(hours=1)),
                                                                  now + timedelta(minutes=1), window)
                         for o in paging.items(lambda tok, s=s, e=e: channel.fetch_orders(s, e, tok))}
                assert order_id in found
                assert httpx.get(control + f"stock/SBX-{plugin}").json()["quantity"] == 5
            finally:
                channel.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, proc.stderr.read()


def paging_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
