"""TokenAuth for a platform whose token only a person can renew (no refresh token configured):
one clear "re-authorise" error naming the setting, never an AssertionError, never a second call."""

import pytest

from channelsync.sdk import Channel, Credential, Reauthorize, TokenAuth


class Shop(Channel):
    plugin = "shop"


def test_a_refused_token_without_a_refresh_token_says_what_to_do_and_which_setting():
    calls = []

    def refresh(token: str) -> Credential:
        calls.append(token)
        return Credential("never")

    shop = Shop("tb-1", {"session": "s-1"})
    auth = TokenAuth(shop, refresh=refresh, keys={"token": "session"}, reauthorize="authorise the app again")
    assert auth.token() == "s-1"  # the configured session is used as it is
    with pytest.raises(Reauthorize) as info:
        auth.renew()
    assert info.value.code == "no-refresh-token"
    assert "authorise the app again" in info.value.message and "channels.tb-1.settings.session" in info.value.message
    with pytest.raises(Reauthorize):
        auth.token()  # stays dead: nothing loops on a token the platform refused
    assert calls == [] and "s-1" not in info.value.message


def test_a_missing_token_without_a_refresh_token_is_the_same_clear_error():
    auth = TokenAuth(Shop("jd-1", {}), refresh=lambda token: Credential("x"))
    with pytest.raises(Reauthorize, match="channels.jd-1.settings.access_token"):
        auth.token()


def test_a_credential_from_expires_in():
    from datetime import datetime, timedelta, timezone

    now = datetime(2024, 11, 11, tzinfo=timezone.utc)
    assert Credential.lasting("t", 3600, "r", now=now) == Credential("t", now + timedelta(hours=1), "r")
    assert Credential.lasting(42, "", None, now=now) == Credential("42")
