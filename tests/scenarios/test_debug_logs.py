"""`log_level = "debug"` logs more — each API call, each order window, each decision — and never a
secret: checked against every built-in plugin's simulator over real HTTP, on the raw log events
(before redaction, so nothing is hidden by the redactor that should not have been passed at all)."""

import pytest
from structlog.testing import capture_logs

from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import sandbox
from channelsync.sim.server import serve
from channelsync.telemetry import log
from channelsync.testing.harness import Shop


@pytest.mark.parametrize("plugin", tuple(sandbox.DEFAULT_PORTS))
def test_debug_shows_calls_windows_and_decisions_without_secrets(plugin, tmp_path):
    cls = channel_types(make_manager())[plugin]
    sim = cls.simulator()
    with serve(sim) as server:
        settings = sim.credentials(server.base_url)
        shop = Shop(tmp_path, {"real": {"plugin": plugin, "settings": settings, "rate_per_second": 100.0}})
        sim.seed("DBG-1", 0, 1990, title="debug")
        shop.import_csv("product_code,sku_code,price,stock:main\nP,DBG-1,19.90,5\n")
        log.configure("json", "debug")
        try:
            with capture_logs() as logs:
                shop.resync_all()
                shop.runners["real"].cycle()
        finally:
            log.configure("json", "warning")
            shop.close()
    events = {e["event"] for e in logs}
    assert {"api_call", "api_response", "poll_window", "stock_push_queued", "price_decided"} <= events, events
    secrets = [str(v) for k, v in settings.items() if k in cls.settings_schema and cls.settings_schema[k].secret
               and v and len(str(v)) >= 4]
    assert secrets, "the simulator's credentials name no secret: the check below would prove nothing"
    leaked = [(e["event"], s) for e in logs for s in secrets if s in repr(e)]
    assert not leaked, leaked
