"""Renewed credentials survive a restart, until the operator changes the configured value."""

import hashlib
from dataclasses import replace

from channelsync.sync import credentials
from channelsync.sync.lane import build_adapter
from channelsync.sdk.plugins import channel_types, make_manager
from channelsync.config.settings import ChannelConfig
from channelsync.store import Store
from channelsync.sim.server import serve


def test_renewed_token_is_restored_after_restart_and_yields_to_config(tmp_path):
    types = channel_types(make_manager())
    sim = types["taobao"].simulator()
    sim.seed("K-1", 3, 100)
    with serve(sim) as server:
        creds = sim.credentials(server.base_url)
        cfg = ChannelConfig(name="tb", plugin="taobao", settings=creds, secret_keys=frozenset({"session"}))
        store = Store(tmp_path / "c.db")
        channel, _ = build_adapter(cfg, types, store=store)
        sim.expire_tokens()
        channel.refresh_auth()  # a new session and refresh token; the old ones are dead now
        new_session = channel.settings["session"]
        assert new_session != creds["session"]
        channel.close()

        restarted, _ = build_adapter(cfg, types, store=store)  # config unchanged
        assert restarted.settings["session"] == new_session
        assert restarted.list_listings(None).items
        restarted.close()

        edited = replace(cfg, settings={**creds, "session": "re-authorised-by-hand"})
        fresh, _ = build_adapter(edited, types, store=store)
        assert fresh.settings["session"] == "re-authorised-by-hand"
        fresh.close()
        stored = store.scalar("SELECT value FROM credentials WHERE channel = 'tb' AND key = 'session'")
        assert stored == new_session and store.scalar("SELECT replaces FROM credentials") != new_session
        replaces = store.scalar("SELECT replaces FROM credentials WHERE key = 'session'")
        db_key = bytes.fromhex(store.scalar("SELECT value FROM store_keys WHERE name = 'credentials'"))
        assert replaces == credentials.fingerprint(creds["session"], db_key)
        # an HMAC with this database's random key: a leaked file cannot confirm a guessed secret
        assert hashlib.sha256(creds["session"].encode()).hexdigest() not in replaces
        store.close()


def test_a_token_renewed_from_another_thread_is_stored(tmp_path):
    """The daemon pushes from a thread of its own on the worker's adapter: a renewal there
    is stored through a connection of that thread (sqlite refuses another thread's)."""
    import threading

    types = channel_types(make_manager())
    sim = types["taobao"].simulator()
    sim.seed("K-1", 3, 100)
    with serve(sim) as server:
        creds = sim.credentials(server.base_url)
        cfg = ChannelConfig(name="tb", plugin="taobao", settings=creds, secret_keys=frozenset({"session"}))
        store = Store(tmp_path / "c.db")
        channel, _ = build_adapter(cfg, types, store=store)
        sim.expire_tokens()
        errors: list[BaseException] = []

        def renew():
            try:
                channel.refresh_auth()
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        pusher = threading.Thread(target=renew)
        pusher.start()
        pusher.join()
        assert errors == []
        stored = store.scalar("SELECT value FROM credentials WHERE channel = 'tb' AND key = 'session'")
        assert stored == channel.settings["session"] != creds["session"]
        channel.close()
        store.close()
