"""TokenAuth: a token's life cycle, and a spent refresh token that says what to do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from channelsync.sdk import (
    Channel,
    Credential,
    Reauthorize,
    Rejected,
    TokenAuth,
    Transient,
)

T0 = datetime(2024, 11, 11, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Platform:
    """Issues tokens and retires a refresh token on use, as Taobao's TOP does."""

    def __init__(self) -> None:
        self.issued = 0
        self.valid_refresh = {"r0"}
        self.calls: list[str] = []

    def issue(self, force: bool) -> Credential:
        self.calls.append(f"issue(force={force})")
        if force:
            self.issued += 1
        return Credential(f"t{self.issued}", T0 + timedelta(hours=2))

    def refresh(self, refresh_token: str) -> Credential:
        self.calls.append(f"refresh({refresh_token})")
        if refresh_token not in self.valid_refresh:
            raise Rejected("refresh_token is invalid or was already used", code="invalid-refresh-token")
        self.valid_refresh.discard(refresh_token)
        self.issued += 1
        new = f"r{self.issued}"
        self.valid_refresh.add(new)
        return Credential(f"t{self.issued}", T0 + timedelta(hours=2), new)


class Shop(Channel):
    plugin = "shop"


def channel(settings=None, store=None):
    shop = Shop("tb-1", settings or {})
    saved = store if store is not None else []
    shop.credential_sink = lambda values: saved.append(dict(values))
    return shop, saved


def test_a_token_is_issued_once_cached_and_renewed_shortly_before_expiry():
    platform, clock = Platform(), Clock()
    shop, _ = channel()
    auth = TokenAuth(shop, issue=platform.issue, clock=clock, persist=False)
    assert auth.token() == auth.token() == "t0" and platform.calls == ["issue(force=False)"]
    clock.now = T0 + timedelta(hours=2) - timedelta(minutes=4)  # inside the 5-minute margin
    auth.token()
    assert platform.calls == ["issue(force=False)"] * 2


def test_a_refused_token_is_replaced_forcing_only_when_the_platform_hands_it_back():
    platform = Platform()
    shop, _ = channel()
    auth = TokenAuth(shop, issue=platform.issue, clock=Clock(), persist=False)
    auth.token()
    assert auth.renew().token == "t1"
    assert platform.calls == ["issue(force=False)", "issue(force=False)", "issue(force=True)"]


def test_a_renewed_pair_is_stored_before_the_token_is_used():
    platform = Platform()
    saved: list[dict] = []
    shop, _ = channel({"access_token": "t-old", "refresh_token": "r0"}, saved)

    def refresh(token):
        credential = platform.refresh(token)
        assert saved[-1] == {"renewal_started_at": T0.isoformat()}, "the marker is stored before the call"
        return credential

    auth = TokenAuth(shop, refresh=refresh, clock=Clock())
    assert auth.renew().token == "t1"
    assert saved[-1] == {"access_token": "t1", "renewal_started_at": "", "refresh_token": "r1",
                         "token_expires_at": (T0 + timedelta(hours=2)).isoformat()}
    assert shop.settings["refresh_token"] == "r1"


def test_a_refresh_token_spent_by_a_crash_says_re_authorise_and_never_loops():
    platform = Platform()
    platform.valid_refresh = {"r9"}  # the platform renewed, the answer was never stored: r0 is spent
    shop, _ = channel({"access_token": "t-old", "refresh_token": "r0",
                       "renewal_started_at": "2024-11-11T00:00:00+00:00"})
    auth = TokenAuth(shop, refresh=platform.refresh, clock=Clock(),
                     reauthorize="open 卖家中心 > 应用授权 and authorise channelsync again")
    with pytest.raises(Reauthorize) as info:
        auth.renew()
    message = str(info.value)
    assert "renewal started at 2024-11-11T00:00:00+00:00 whose answer was never stored" in message
    assert "authorise channelsync again" in message and "channels.tb-1.settings.refresh_token" in message
    assert "refresh_token is invalid or was already used" in message
    with pytest.raises(Reauthorize):
        auth.token()
    with pytest.raises(Reauthorize):
        auth.renew()
    assert platform.calls == ["refresh(r0)"], "a dead refresh token is tried once, not in a loop"
    assert not info.value.retryable


def test_a_refresh_refused_without_a_crash_is_explained_as_refused():
    platform = Platform()
    platform.valid_refresh = set()
    shop, _ = channel({"refresh_token": "r0"})
    with pytest.raises(Reauthorize, match="refused its refresh token"):
        TokenAuth(shop, refresh=platform.refresh, clock=Clock()).token()


def test_an_unreachable_platform_keeps_the_refresh_token_good():
    shop, _ = channel({"refresh_token": "r0"})

    def refresh(token):
        raise Transient("timeout")

    auth = TokenAuth(shop, refresh=refresh, clock=Clock())
    with pytest.raises(Transient):
        auth.token()
    with pytest.raises(Transient):
        auth.token()  # tried again: not declared dead


def test_a_credential_that_cannot_be_stored_is_not_used_until_it_is():
    platform = Platform()
    shop, _ = channel({"refresh_token": "r0"})
    failures = [OSError("database is locked")]

    def sink(values):
        if "access_token" in values and failures:
            raise failures.pop()

    shop.credential_sink = sink
    auth = TokenAuth(shop, refresh=platform.refresh, clock=Clock())
    with pytest.raises(Transient, match="cannot store the renewed credential"):
        auth.token()
    assert auth.token() == "t1" and platform.calls == ["refresh(r0)"]  # stored on the second try, not re-fetched
