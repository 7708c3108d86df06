"""An access token's life, once for every plugin: issue, cache, renew early, refresh,
persist, expire, and a clear "re-authorise" when a refresh token is gone.

A plugin gives the two platform calls it has and asks for a token::

    self.auth = TokenAuth(self, issue=self._login, refresh=self._refresh)
    ...
    params["access_token"] = self.auth.token()     # cached, renewed shortly before expiry

    def refresh_auth(self):                         # the core calls it after AuthExpired
        self.auth.renew()

``issue(force)`` gets a token from the app's own secrets (WeChat's
``stable_token``; ``force`` asks for a new one rather than the current one).
``refresh(refresh_token)`` trades a refresh token for a new pair (Taobao, JD,
Pinduoduo). Either answers a ``Credential``.

A renewed credential is stored (``Channel.save_credentials``) before it is
used for anything. A refresh token the platform retires on use would
otherwise be lost by a crash between the answer and the store: so a marker
is stored before each refresh call and cleared with the new pair; a refresh
refused while that marker is set is explained as exactly that. A refused
refresh raises ``Reauthorize`` saying what to do, and the same error again on
every later use without calling the platform, so nothing loops on a dead token.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Protocol

from channelsync.sdk.errors import ChannelError, Reauthorize, Transient


class Channel(Protocol):
    """What TokenAuth needs of its channel (a ``channelsync.sdk.Channel``)."""

    name: str
    settings: dict[str, Any]

    def save_credentials(self, values: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class Credential:
    """An access token and, where the platform has them, its expiry and refresh token."""

    token: str
    expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


#: the ``settings`` keys a persisted credential is stored under (``TokenAuth(keys=...)`` renames them)
KEYS = {"token": "access_token", "expires_at": "token_expires_at", "refresh_token": "refresh_token",
        "renewing": "renewal_started_at"}


class TokenAuth:
    """The token of one channel. Thread-safe: one renewal at a time.

    ``margin``: renew this long before ``expires_at``. ``persist``: store renewed
    credentials (off for platforms whose token call is itself idempotent).
    ``reauthorize``: what a person does when the refresh token is gone, in the
    platform's words (shown in the error, in ``status`` and the logs).
    """

    def __init__(self, channel: Channel, *, issue: Callable[[bool], Credential] | None = None,
                 refresh: Callable[[str], Credential] | None = None, margin: timedelta = timedelta(minutes=5),
                 persist: bool = True, keys: dict[str, str] | None = None,
                 reauthorize: str = "authorise the app again in the platform's seller centre",
                 clock: Callable[[], datetime] | None = None) -> None:
        if issue is None and refresh is None:
            raise TypeError("TokenAuth needs an issue() or a refresh() call")
        self.channel = channel
        self._issue = issue
        self._refresh = refresh
        self.margin = margin
        self.persist = persist
        self.keys = {**KEYS, **(keys or {})}
        self.reauthorize = reauthorize
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.RLock()
        self._refused: str | None = None
        self._dead: Reauthorize | None = None
        self._unsaved: Credential | None = None
        settings = channel.settings
        token = settings.get(self.keys["token"])
        self.current: Credential | None = Credential(
            str(token), _time(settings.get(self.keys["expires_at"])),
            settings.get(self.keys["refresh_token"]) or None) if token else None
        self.refresh_token: str | None = settings.get(self.keys["refresh_token"]) or None

    # --- what a plugin calls ------------------------------------------------------------------
    def token(self) -> str:
        """A usable access token: the cached one, or a renewed one shortly before expiry."""
        with self._lock:
            if self._dead is not None:
                raise self._dead
            if self._unsaved is not None:
                self._store(self._unsaved)  # a store failed earlier: nothing is used before it succeeds
            current = self.current
            if current is None or self._expiring(current):
                current = self._renew()
            return current.token

    def renew(self) -> Credential:
        """After the platform refused the current token (``AuthExpired``): a different one."""
        with self._lock:
            if self._dead is not None:
                raise self._dead
            if self.current is not None:
                self._refused = self.current.token
            self.current = None
            return self._renew()

    def refused(self, token: str) -> None:
        """The platform refused ``token``: the next ``token()`` renews instead of sending it again."""
        with self._lock:
            self._refused = token
            if self.current is not None and self.current.token == token:
                self.current = None

    @property
    def expires_at(self) -> datetime | None:
        return self.current.expires_at if self.current is not None else None

    # --- the life cycle ---------------------------------------------------------------------------
    def _expiring(self, credential: Credential) -> bool:
        return credential.expires_at is not None and self.clock() >= credential.expires_at - self.margin

    def _renew(self) -> Credential:
        if self._refresh is not None and self.refresh_token:
            credential = self._by_refresh(self.refresh_token)
        else:
            assert self._issue is not None, "no refresh token and no issue() call"
            credential = self._issue(False)
            if self._refused is not None and credential.token == self._refused:
                credential = self._issue(True)  # the platform handed back the very token it refused
        self._store(credential)
        self._refused = None
        return credential

    def _by_refresh(self, refresh_token: str) -> Credential:
        renewing = self.channel.settings.get(self.keys["renewing"])
        if self.persist:
            self._save({self.keys["renewing"]: self.clock().isoformat()})
        try:
            return self._refresh(refresh_token)  # type: ignore[misc]
        except ChannelError as error:
            if error.retryable:
                raise  # the platform was unreachable or busy: the refresh token is still good
            self._dead = Reauthorize(self._explain(error, renewing), code=error.code or "reauthorize")
            raise self._dead from error

    def _explain(self, error: ChannelError, renewing: str | None) -> str:
        name = self.channel.name
        if renewing:
            why = (f"its refresh token was spent by a renewal started at {renewing} whose answer was never "
                   "stored (the process stopped in between)")
        else:
            why = "the platform refused its refresh token (expired, revoked or already used)"
        return (f"channel {name}: {why}; the platform said: {error}. To fix: {self.reauthorize}, put the new "
                f"refresh token in channels.{name}.settings.{self.keys['refresh_token']} and restart channelsync")

    def _store(self, credential: Credential) -> None:
        """Keep ``credential``, stored first: a crash after this line loses nothing."""
        self._unsaved = credential
        if self.persist:
            values = {self.keys["token"]: credential.token, self.keys["renewing"]: ""}
            if credential.expires_at is not None:
                values[self.keys["expires_at"]] = credential.expires_at.isoformat()
            if credential.refresh_token:
                values[self.keys["refresh_token"]] = credential.refresh_token
            self._save(values)
        self._unsaved = None
        self.current = credential
        if credential.refresh_token:
            self.refresh_token = credential.refresh_token

    def _save(self, values: dict[str, str]) -> None:
        try:
            self.channel.save_credentials(values)
        except ChannelError:
            raise
        except Exception as exc:  # the store is busy or full: say so, and use nothing unstored
            raise Transient(f"channel {self.channel.name}: cannot store the renewed credential "
                            f"({type(exc).__name__}); it is kept in memory and stored before first use",
                            code="credential-store", maybe_applied=False) from exc


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
