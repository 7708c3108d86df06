"""The sandbox serves every installed simulator, several instances of one platform, seeded and rate-limited."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from channelsync.sdk import Channel, UserError
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sim.simulator import Request, Response, Simulator

CATALOG = """product_code,product_title,sku_code,price,stock:main,stock:north
TEA,Green tea,TEA-01,39.90,10,2
TEA,Green tea,TEA-02,59.90,4,
CUP,Cup,CUP-01,9.90,,
"""


class EchoSim(Simulator):
    plugin = "echo"

    def handle(self, req: Request) -> Response:
        return Response(200, {"skus": len(self.skus)})

    def credentials(self, base_url: str) -> dict:
        return {"base_url": base_url, "token": "echo"}


class EchoChannel(Channel):
    """An outside plugin's channel type: not in any list the sandbox keeps."""

    plugin = "echo"

    @classmethod
    def simulator(cls, **options):
        return EchoSim(**options)


@pytest.fixture
def types():
    return {**channel_types(make_manager()), "echo": EchoChannel, "nosim": type("NoSim", (Channel,), {})}


def test_every_installed_channel_type_with_a_simulator_is_served_and_no_other(types):
    names = sandbox.available(types)
    assert names[:4] == ["taobao", "jd", "wechat", "ownsite"] and "echo" in names and "nosim" not in names


def test_two_shops_of_one_platform_free_ports_and_rate_limits(types):
    plan = sandbox.instances(types, [sandbox.Instance("tb-a", "taobao"), sandbox.Instance("tb-b", "taobao"),
                                     sandbox.Instance("taobao", "taobao")],
                             rate_limits={"tb-b": 1.5}, rate_limit=3.0)
    assert [(i.name, i.port, i.rate_limit) for i in plan] == [("tb-a", 0, 3.0), ("tb-b", 0, 1.5),
                                                              ("taobao", 8101, 3.0)]
    free = sandbox.instances(types, free_ports=True)
    assert {i.port for i in free} == {0}
    running = sandbox.start(types, serve=plan[:2])
    try:
        assert running["tb-a"].base_url != running["tb-b"].base_url
        assert running["tb-b"].simulator.rate_limit == 1.5 and running["tb-a"].simulator.rate_limit == 3.0
        assert running["tb-a"].simulator is not running["tb-b"].simulator
        assert sandbox.describe(running)["tb-b"]["plugin"] == "taobao"
    finally:
        sandbox.stop(running)


@pytest.mark.parametrize("wanted,kwargs,message", [
    ([sandbox.Instance("x", "nosim")], {}, "no installed channel type 'nosim' ships a simulator"),
    ([sandbox.Instance("a", "jd"), sandbox.Instance("a", "jd")], {}, "instance names must differ"),
    (None, {"ports": {"tb-z": 9}}, "no instance named 'tb-z'"),
])
def test_a_bad_plan_is_refused_with_what_is_wrong(types, wanted, kwargs, message):
    with pytest.raises(UserError, match=message):
        sandbox.instances(types, wanted, **kwargs)


def test_a_taken_port_is_a_clear_error_and_nothing_stays_up(types):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        plan = [sandbox.Instance("jd", "jd", 0), sandbox.Instance("wechat", "wechat", port)]
        with pytest.raises(UserError) as info:
            sandbox.start(types, serve=plan)
    assert f"wechat: port {port} on 127.0.0.1 is already in use" in str(info.value)
    assert "--port wechat=PORT" in str(info.value)


def test_seeding_from_a_catalog_csv_puts_one_product_on_one_item(types):
    rows = sandbox.read_seed(io.StringIO(CATALOG))
    assert [(r["sku_code"], r["quantity"], r["price"]) for r in rows] == [("TEA-01", 12, 3990), ("TEA-02", 4, 5990),
                                                                         ("CUP-01", 0, 990)]
    running = sandbox.start(types, serve=[sandbox.Instance("echo", "echo", 0)])
    try:
        sandbox.seed(running, rows)
        sim = running["echo"].simulator
        assert sim.find("TEA-01").item_id == sim.find("TEA-02").item_id != sim.find("CUP-01").item_id
        assert sim.stock("TEA-01") == 12
    finally:
        sandbox.stop(running)


@pytest.mark.parametrize("text,message", [("sku_code,price\nA,1\n", "missing column 'product_code'"),
                                          ("product_code,sku_code,price\nP,A,1.234\n", "row 2, column price"),
                                          ("product_code,sku_code,price,stock:m\nP,A,1,x\n", "row 2, column stock:m")])
def test_a_bad_seed_file_names_row_and_column(text, message):
    with pytest.raises(UserError, match=message):
        sandbox.read_seed(io.StringIO(text), "seed.csv")


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "channelsync", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_the_cli_says_which_port_is_taken_without_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("sandbox", "--instance", "w=wechat", "--port", f"w={port}")
    assert result.returncode == 2, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args,message", [(["--rate-limit", "fast"], "--rate-limit 'fast'"),
                                          (["--instance", "oops"], "expected NAME=PLUGIN"),
                                          (["--port", "taobao=http"], "PORT must be a number")])
def test_the_cli_refuses_bad_options_with_a_usage_message(args, message):
    result = run_cli("sandbox", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_cli_serves_two_seeded_shops_of_one_platform_on_free_ports_with_a_rate_limit(tmp_path):
    (tmp_path / "catalog.csv").write_text(CATALOG)
    proc = subprocess.Popen([sys.executable, "-m", "channelsync", "--json", "sandbox", "--instance", "tb-a=taobao",
                             "--instance", "tb-b=taobao", "--free-ports", "--rate-limit", "tb-b=2",
                             "--seed", str(tmp_path / "catalog.csv")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        text = ""
        for line in proc.stdout:
            text += line
            try:
                info = json.loads(text)
                break
            except ValueError:
                continue
        assert set(info) == {"tb-a", "tb-b"} and info["tb-a"]["base_url"] != info["tb-b"]["base_url"]
        assert info["tb-b"]["rate_limit"] == 2 and info["tb-a"]["rate_limit"] is None
        for shop in info.values():
            assert httpx.get(shop["control_url"] + "stock/TEA-01").json()["quantity"] == 12
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
