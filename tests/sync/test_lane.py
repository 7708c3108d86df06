"""sync/lane.py: building a channel's adapter and lane, and the lane's call policy."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from channelsync.config.settings import ChannelConfig, Config
from channelsync.sdk.channel import Capabilities, Channel
from channelsync.sdk.errors import (
    AuthExpired,
    RateLimited,
    Rejected,
    Transient,
    UserError,
)
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.sim import fake
from channelsync.sim.fake import FakeChannel, FakePlatform
from channelsync.sync import credentials, retry
from channelsync.sync.http import BudgetedTransport
from channelsync.sync.lane import Lane, build_adapter, open_lane
from channelsync.sync.ratelimit import CUT, TokenBucket


class Probe(Channel):
    """A channel that does nothing but count what the core does to it."""

    plugin = "probe"
    capabilities = Capabilities(rate_per_second=5.0, rate_burst=3)

    def __init__(self, name, settings, http=None):
        super().__init__(name, settings, http)
        self.refreshed = 0

    def refresh_auth(self) -> None:
        self.refreshed += 1


TYPES = {"probe": Probe}


@pytest.fixture
def no_waits(monkeypatch):
    """Retries back off for real (about a second); these tests only care that they retry."""
    monkeypatch.setattr(retry, "wait_for", lambda error, attempt: 0.0)


# --- build_adapter ------------------------------------------------------------------------------

def test_unknown_plugin_type_is_a_user_error_naming_the_setting():
    cfg = ChannelConfig(name="shop1", plugin="nosuch")
    with pytest.raises(UserError, match=r"channels\.shop1\.plugin") as exc:
        build_adapter(cfg, TYPES)
    assert "'nosuch'" in str(exc.value)


def test_adapter_gets_its_name_settings_and_no_client_without_base_url():
    adapter, _ = build_adapter(ChannelConfig(name="shop1", plugin="probe", settings={"k": "v"}), TYPES)
    assert isinstance(adapter, Probe)
    assert adapter.name == "shop1" and adapter.settings == {"k": "v"}
    assert adapter.http is None
    assert adapter.credential_sink is None  # no store: nothing keeps renewed credentials


def test_rate_budget_comes_from_capabilities_unless_configured():
    _, budget = build_adapter(ChannelConfig(name="shop1", plugin="probe"), TYPES)
    assert isinstance(budget, TokenBucket) and (budget.rate, budget.burst) == (5.0, 3)
    _, budget = build_adapter(ChannelConfig(name="shop1", plugin="probe", rate_per_second=0.5, burst=7), TYPES)
    assert (budget.rate, budget.burst) == (0.5, 7)
    _, budget = build_adapter(ChannelConfig(name="shop1", plugin="probe", rate_per_second=9.0), TYPES)
    assert (budget.rate, budget.burst) == (9.0, 3)


def test_adapter_client_talks_to_base_url_under_the_lanes_budget():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ok": True})

    cfg = ChannelConfig(name="shop1", plugin="probe", settings={"base_url": "http://platform.test/api/"})
    adapter, budget = build_adapter(cfg, TYPES, transport=httpx.MockTransport(handler))
    assert isinstance(adapter.http, httpx.Client)
    assert adapter.http.base_url == httpx.URL("http://platform.test/api/")
    transport = adapter.http._transport
    assert isinstance(transport, BudgetedTransport)
    assert transport.bucket is budget and transport.channel == "shop1"
    assert adapter.call("GET", "items").json() == {"ok": True}
    assert seen == ["http://platform.test/api/items"]
    adapter.close()


def test_renewed_credentials_are_restored_and_new_ones_kept(store):
    configured = {"token": "from-config", "other": "x"}
    cfg = ChannelConfig(name="shop1", plugin="probe", settings=configured)
    credentials.save(store, "shop1", configured, {"token": "renewed-1"})
    adapter, _ = build_adapter(cfg, TYPES, store=store)
    assert adapter.settings == {"token": "renewed-1", "other": "x"}
    assert cfg.settings["token"] == "from-config"  # the config itself is left alone

    adapter.save_credentials({"token": "renewed-2"})
    assert store.scalar("SELECT value FROM credentials WHERE channel = 'shop1' AND key = 'token'") == "renewed-2"
    again, _ = build_adapter(cfg, TYPES, store=store)
    assert again.settings["token"] == "renewed-2"


def test_credentials_of_another_channel_are_not_restored(store):
    credentials.save(store, "other", {"token": "t"}, {"token": "renewed"})
    adapter, _ = build_adapter(ChannelConfig(name="shop1", plugin="probe", settings={"token": "t"}), TYPES,
                               store=store)
    assert adapter.settings["token"] == "t"


# --- open_lane ------------------------------------------------------------------------------------

def fake_config(**channels: dict) -> Config:
    for name in channels:
        FakePlatform(name)  # made first: see test_a_fake_channel_whose_platform_is_not_made_yet_can_be_built
    return Config(path=None, db_path=Path("unused"), channels={
        name: ChannelConfig(name=name, plugin="fake", settings={"platform": name, **settings})
        for name, settings in channels.items()})


@pytest.fixture
def pm():
    return make_manager(extra=[fake], load_entry_points=False)


def test_open_lane_registers_the_channel(store, pm):
    config = fake_config(a={})
    lane = open_lane(config, "a", store, channel_types(pm), pm)
    assert store.query("SELECT name, plugin FROM channels") == [{"name": "a", "plugin": "fake"}]
    assert (lane.name, lane.cfg, lane.config, lane.store) == ("a", config.channels["a"], config, store)
    assert isinstance(lane.adapter, FakeChannel) and lane.hooks is pm.hook
    open_lane(config, "a", store, channel_types(pm), pm)  # again, e.g. after a restart
    assert store.scalar("SELECT COUNT(*) FROM channels") == 1
    lane.close()


def test_open_lane_updates_the_plugin_of_a_known_channel(store, pm):
    store.execute("INSERT INTO channels (name, plugin, order_cursor) VALUES ('a', 'old', '2026-01-01')")
    open_lane(fake_config(a={}), "a", store, channel_types(pm), pm)
    assert store.one("SELECT plugin, order_cursor FROM channels") == {"plugin": "fake", "order_cursor": "2026-01-01"}


def test_open_lane_passes_on_queued(store, pm):
    calls = []
    lane = open_lane(fake_config(a={}), "a", store, channel_types(pm), pm, on_queued=lambda: calls.append(1))
    lane.on_queued()
    assert calls == [1]


def test_lane_absolute_means_absolute_and_unreadable(store, pm):
    config = fake_config(inc={}, abs={"stock_mode": "absolute", "read_stock": False},
                         reads={"stock_mode": "absolute"})
    assert open_lane(config, "inc", store, channel_types(pm), pm).absolute is False
    assert open_lane(config, "abs", store, channel_types(pm), pm).absolute is True
    reads = open_lane(config, "reads", store, channel_types(pm), pm)
    assert reads.absolute is False and reads.policy.reads and reads.policy.mode == "absolute"


def test_a_compare_and_set_lane_is_not_absolute(store):
    class CompareAndSet(Probe):
        capabilities = Capabilities(stock_mode="compare_and_set")

    lane = probe_lane(store)
    lane.adapter = CompareAndSet("p", {})
    assert lane.absolute is False


# --- Lane.call ------------------------------------------------------------------------------------

class PauseRecorder:
    def __init__(self) -> None:
        self.paused: list[float] = []

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)

    def limited(self, retry_after: float | None = None) -> None:
        """What the core tells the budget on a rate-limited answer (it pauses and slows)."""
        self.paused.append(retry_after)


def probe_lane(store, budget=None) -> Lane:
    cfg = ChannelConfig(name="p", plugin="probe")
    adapter, bucket = build_adapter(cfg, TYPES)
    return Lane("p", cfg, Config(path=None, db_path=Path("unused")), store, adapter, budget or bucket,
                make_manager(load_entry_points=False).hook)


def flaky(*errors: Exception, result="done"):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


def test_call_retries_a_transient_error(store, no_waits):
    fn, calls = flaky(Transient("busy"), Transient("busy"))
    assert probe_lane(store).call(fn) == "done"
    assert len(calls) == 3


def test_call_does_not_retry_a_permanent_error(store, no_waits):
    fn, calls = flaky(Rejected("bad value"))
    with pytest.raises(Rejected):
        probe_lane(store).call(fn)
    assert len(calls) == 1


def test_call_gives_up_after_a_few_attempts(store, no_waits):
    fn, calls = flaky(*[Transient("down")] * 10)
    with pytest.raises(Transient):
        probe_lane(store).call(fn)
    assert len(calls) == 4


def test_call_refreshes_auth_once_on_auth_expired(store, no_waits):
    lane = probe_lane(store)
    fn, calls = flaky(AuthExpired("expired"))
    assert lane.call(fn) == "done"
    assert lane.adapter.refreshed == 1 and len(calls) == 2

    fn, calls = flaky(AuthExpired("expired"), AuthExpired("still expired"))
    with pytest.raises(AuthExpired):
        lane.call(fn)
    assert lane.adapter.refreshed == 2 and len(calls) == 2  # one refresh per call, then it gives up


def test_call_pauses_the_lanes_budget_when_rate_limited(store, no_waits):
    budget = PauseRecorder()
    fn, calls = flaky(RateLimited(retry_after=0.01))
    assert probe_lane(store, budget=budget).call(fn) == "done"
    assert budget.paused == [0.01] and len(calls) == 2


def test_call_against_the_fake_platform_refreshes_expired_tokens(store, pm):
    config = fake_config(a={})
    platform = FakePlatform.named("a")
    platform.seed("X", 3, 100)
    lane = open_lane(config, "a", store, channel_types(pm), pm)
    platform.expire_tokens()
    page = lane.call(lambda: lane.adapter.list_listings(None))
    assert [item.sku_code for item in page.items] == ["X"]
    assert platform.tokens_valid is True


def test_call_against_the_fake_platform_retries_its_5xx(store, pm, no_waits):
    config = fake_config(a={})
    platform = FakePlatform.named("a")
    platform.seed("X", 3, 100)
    lane = open_lane(config, "a", store, channel_types(pm), pm)
    platform.inject("error_5xx", count=2)
    assert [item.sku_code for item in lane.call(lambda: lane.adapter.list_listings(None)).items] == ["X"]


@pytest.mark.timeout(5)  # the bug this guards against was a deadlock
def test_a_fake_channel_whose_platform_is_not_made_yet_can_be_built():
    adapter, _ = build_adapter(ChannelConfig(name="fresh", plugin="fake", settings={"platform": "fresh"}),
                               {"fake": FakeChannel})
    assert adapter.platform is FakePlatform.named("fresh")


def test_the_rate_a_platform_allowed_is_kept_and_a_reopened_lane_starts_from_it(store, pm):
    config = fake_config(a={})
    lane = open_lane(config, "a", store, channel_types(pm), pm)
    declared = lane.budget.rate
    lane.keep_budget()
    assert store.one("SELECT learnt_rate FROM channels WHERE name = 'a'")["learnt_rate"] is None  # nothing learnt
    lane.budget.limited(0)
    lane.keep_budget()
    reopened = open_lane(config, "a", store, channel_types(pm), pm)
    assert (reopened.budget.rate, reopened.budget.burst, reopened.budget.ceiling) == (declared * CUT, 1, declared)
    store.execute("UPDATE channels SET learnt_refused_at = '2000-01-01T00:00:00.000000+00:00'")
    long_after = open_lane(config, "a", store, channel_types(pm), pm)
    assert long_after.budget.rate == declared, "a limit learnt long ago is forgotten"
