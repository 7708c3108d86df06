"""A platform's error codes -> channelsync's typed errors, as one declared table.

Every platform answers failures with its own codes; the core only understands
``channelsync.sdk.errors``. A plugin declares one ``ErrorTable`` and raises
``table.error(code, words)`` wherever its platform reports a failure, so the
decision (retry, back off, renew auth, give up) lives in one small table::

    ERRORS = ErrorTable("TOP", {
        "7": RateLimited,                       # App Call Limited
        "27": (AuthExpired, "Invalid Session"),  # words used when the platform sent none
        "isv.item-not-exist": NotFound,          # a sub-code prefix: the longest match wins
        "isv.": Rejected,
    }, wait_pattern=r"ban will last for (\\d+) more seconds")

Lookup order: the ``sub_code`` against every key (exact first, then the
longest key it starts with), then the ``code`` exactly, then ``default``.
The error keeps the platform's most specific code (the sub-code when there is
one) and its own words; secrets never reach a table, so none reach a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Union

from channelsync.sdk.errors import AuthExpired, ChannelError, NotFound, RateLimited, Rejected, Transient

#: a table value: the error class, or the class and the words used when the platform sent none
Entry = Union[type[ChannelError], tuple[type[ChannelError], str]]

__all__ = ["Entry", "ErrorTable", "AuthExpired", "NotFound", "RateLimited", "Rejected", "Transient"]


@dataclass(frozen=True)
class ErrorTable:
    """One platform's codes and what each means to the core.

    ``platform``: the name messages start with when the platform gave no words.
    ``codes``: code or sub-code (prefix) -> ``Entry``. Keys are compared as text.
    ``default``: the class of a code in no entry (``Rejected``: an unknown
    refusal is not retried blindly; list the transient ones).
    ``rate_limit_wait``: seconds to wait after ``RateLimited`` when the platform
    states none. ``wait_pattern``: a regular expression whose first group finds
    the stated wait in the platform's words ("ban will last for 37 more seconds").
    ``transient_maybe_applied``: whether a transient failure may have taken effect
    (True unless the platform documents that such failures change nothing).
    ``unapplied``: codes of retryable failures that certainly changed nothing — a
    decrease refused because a sale the core has not ingested came first: the core
    retries it later computed afresh instead of parking it or re-sending the same call.
    """

    platform: str
    codes: Mapping[str, Entry]
    default: type[ChannelError] = Rejected
    rate_limit_wait: float | None = 1.0
    wait_pattern: str | None = None
    transient_maybe_applied: bool = True
    unapplied: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key, entry in self.codes.items():
            cls = entry[0] if isinstance(entry, tuple) else entry
            if not (isinstance(cls, type) and issubclass(cls, ChannelError)):
                raise TypeError(f"{self.platform} error table: {key!r} maps to {entry!r}, not a ChannelError class")
        object.__setattr__(self, "codes", {str(k): v for k, v in self.codes.items()})
        object.__setattr__(self, "unapplied", tuple(str(c) for c in self.unapplied))
        if self.wait_pattern:
            re.compile(self.wait_pattern)  # a bad pattern fails at declaration, not at the first rate limit

    # --- lookup ---------------------------------------------------------------
    def entry(self, code: object, sub_code: object = None,
              default: type[ChannelError] | None = None) -> tuple[type[ChannelError], str | None]:
        """``(error class, default words)`` for a code / sub-code pair (``default``: the class
        when neither is in the table, instead of the table's ``default``)."""
        if sub_code not in (None, ""):
            sub = str(sub_code)
            if sub in self.codes:
                return _split(self.codes[sub])
            prefixes = [key for key in self.codes if sub.startswith(key) and not key.lstrip("-").isdigit()]
            if prefixes:
                return _split(self.codes[max(prefixes, key=len)])
        if code not in (None, "") and str(code) in self.codes:
            return _split(self.codes[str(code)])
        return default or self.default, None

    def classify(self, code: object, sub_code: object = None,
                 default: type[ChannelError] | None = None) -> type[ChannelError]:
        """The error class for a code / sub-code pair."""
        return self.entry(code, sub_code, default)[0]

    def wait(self, *texts: object) -> float | None:
        """The wait the platform stated in any of ``texts``, else ``rate_limit_wait``."""
        if self.wait_pattern:
            for text in texts:  # re caches the compiled pattern
                match = re.search(self.wait_pattern, str(text or ""), re.IGNORECASE)
                if match:
                    return float(match.group(1))
        return self.rate_limit_wait

    # --- building the error --------------------------------------------------------
    def error(self, code: object, message: str | None = None, *, sub_code: object = None,
              detail: str | None = None, retry_after: float | None = None,
              default: type[ChannelError] | None = None) -> ChannelError:
        """The typed error for one platform failure, keeping the platform's code and words.

        ``message``: the platform's words for ``code``; ``detail``: its words for
        the sub-code (TOP's ``sub_msg``), appended. ``retry_after`` overrides the
        wait a ``RateLimited`` carries (a ``Retry-After`` header, say, or a wait the
        clock decides: until the platform's quota resets). ``default``: the class of
        a code in no entry for this answer (the HTTP status's, when the platform
        answers codes the table cannot all list), instead of the table's ``default``.
        """
        cls, words = self.entry(code, sub_code, default)
        text = message or words or f"{self.platform} error"
        if code not in (None, "") and sub_code not in (None, ""):
            text += f" (code {code})"  # the error's own code is the sub-code: keep the number visible
        if detail and detail != text:
            text += f": {detail}"
        kept = str(sub_code) if sub_code not in (None, "") else (None if code in (None, "") else str(code))
        if issubclass(cls, RateLimited):
            wait = retry_after if retry_after is not None else self.wait(detail, message)
            return cls(text, retry_after=wait, code=kept)
        if issubclass(cls, Transient):
            unapplied = str(code) in self.unapplied or str(sub_code) in self.unapplied
            return cls(text, code=kept, maybe_applied=self.transient_maybe_applied and not unapplied)
        return cls(text, code=kept)

    def merged(self, codes: Mapping[str, Entry], **changes: object) -> ErrorTable:
        """A copy with more (or overriding) entries: a variant of one platform's table."""
        options = {"default": self.default, "rate_limit_wait": self.rate_limit_wait,
                   "wait_pattern": self.wait_pattern, "transient_maybe_applied": self.transient_maybe_applied,
                   "unapplied": self.unapplied}
        return ErrorTable(str(changes.pop("platform", self.platform)), {**self.codes, **codes},
                          **{**options, **changes})  # type: ignore[arg-type]


def _split(entry: Entry) -> tuple[type[ChannelError], str | None]:
    return (entry[0], entry[1]) if isinstance(entry, tuple) else (entry, None)
