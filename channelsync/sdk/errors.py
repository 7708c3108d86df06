"""The error taxonomy.

Adapters raise these; only the core decides what to retry, how long to wait
and when to give up (see ``channelsync.sync.retry``). A plugin never retries or sleeps.
"""

from __future__ import annotations


class ChannelsyncError(Exception):
    """Base of every error channelsync raises on purpose."""


class UserError(ChannelsyncError):
    """Bad input from a person: config, CSV, unknown SKU. Exit code 2."""


class ChannelError(ChannelsyncError):
    """A platform call failed. ``code`` and ``message`` are the platform's own words.

    ``maybe_applied``: the call may have taken effect before it failed (a
    timeout, a 5xx). The core then re-sends an increment with the same
    idempotency key instead of computing a new one.
    """

    retryable = False
    maybe_applied = False

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = None if code is None else str(code)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


class Transient(ChannelError):
    """5xx, timeout, connection reset, "system busy": try again later."""

    retryable = True
    maybe_applied = True

    def __init__(self, message: str = "", *, code: str | None = None, maybe_applied: bool = True) -> None:
        super().__init__(message, code=code)
        self.maybe_applied = maybe_applied


class RateLimited(Transient):
    """The platform refused for rate or quota. ``retry_after`` in seconds, if it said."""

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code, maybe_applied=False)
        self.retry_after = retry_after


class AuthExpired(ChannelError):
    """Token or session expired: the core calls ``Channel.refresh_auth()`` and retries once."""

    retryable = True


class Reauthorize(ChannelError):
    """The channel's authorisation is gone for good (a refresh token spent or revoked):
    a person must re-authorise the app. The message says exactly what to do; the core
    keeps the channel's pushes waiting instead of parking them, and retries no login."""


class UnexpectedPayload(Transient):
    """The platform answered something the plugin could not translate (a field missing,
    of the wrong type): raised by the core for a translation error in any adapter call."""

    def __init__(self, message: str = "unexpected payload", *, code: str | None = "payload") -> None:
        super().__init__(message, code=code, maybe_applied=True)


def unexpected_payload(error: Exception, where: str = "") -> UnexpectedPayload:
    """The clear error for a ``KeyError``/``TypeError``/``ValueError``/... met while translating."""
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return UnexpectedPayload(f"unexpected payload{' from ' + where if where else ''} ({detail})")


#: what a translation that met an unexpected payload raises
TRANSLATION_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError)


class NotFound(ChannelError):
    """The item, SKU or order does not exist on the platform. Permanent."""


class Rejected(ChannelError):
    """The platform refused the request for good (bad value, no permission, bad signature)."""


class StockConflict(Rejected):
    """A compare-and-set stock update found another quantity than ``expected``: nothing
    changed. The core reads the platform's quantity, reconciles, and sends a new update."""
