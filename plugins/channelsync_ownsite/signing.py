"""WooCommerce REST authentication: OAuth 1.0a one-legged over HTTP, Basic over HTTPS.

WooCommerce decides by the scheme of the request: over HTTPS it reads the
consumer key and secret from HTTP Basic (or the ``consumer_key`` /
``consumer_secret`` query parameters); over plain HTTP it only accepts an
OAuth 1.0a signature in the query string, because a secret sent in clear
could be sniffed. The client and the simulator both use these functions, so
what one signs the other verifies the same way.

OAuth base string, as WooCommerce builds it::

    METHOD & pct(URL without query) & pct(k1=v1&k2=v2...)

with every key and value percent-encoded (RFC 3986) before joining and the
pairs sorted by key; the HMAC key is the consumer secret plus ``&`` (there is
no token secret); the signature is the base64 of the HMAC-SHA256 (default) or
HMAC-SHA1 digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Iterable
from urllib.parse import quote

#: signature methods WooCommerce accepts -> hashlib name
METHODS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}
DEFAULT_METHOD = "HMAC-SHA256"

#: WooCommerce refuses a timestamp further than this from its clock, and a nonce
#: seen within it.
SKEW_SECONDS = 15 * 60

#: the query parameters of a signed request; WooCommerce names each one missing
OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method")


def pct(text: str) -> str:
    """RFC 3986 percent-encoding (PHP ``rawurlencode``): only ``A-Z a-z 0-9 - . _ ~`` stay."""
    return quote(str(text), safe="~")


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The OAuth 1.0a signature base string; ``url`` without query, ``params`` without
    ``oauth_signature``."""
    pairs = sorted((str(k), str(v)) for k, v in params)
    normalised = "&".join(f"{pct(k)}={pct(v)}" for k, v in pairs)
    return f"{method.upper()}&{pct(url)}&{pct(normalised)}"


def signature(method: str, url: str, params: Iterable[tuple[str, str]], consumer_secret: str,
              signature_method: str = DEFAULT_METHOD) -> str:
    """Base64 HMAC of the base string, keyed by ``consumer_secret + "&"``."""
    digest = METHODS[signature_method]
    key = (consumer_secret + "&").encode("utf-8")
    mac = hmac.new(key, base_string(method, url, params).encode("utf-8"), digest).digest()
    return base64.b64encode(mac).decode("ascii")


def oauth_params(method: str, url: str, params: dict[str, str], consumer_key: str, consumer_secret: str, *,
                 timestamp: int, nonce: str | None = None, signature_method: str = DEFAULT_METHOD) -> dict[str, str]:
    """``params`` plus the OAuth parameters and their signature, ready for the query string."""
    signed = {**params, "oauth_consumer_key": consumer_key, "oauth_timestamp": str(int(timestamp)),
              "oauth_nonce": nonce or new_nonce(), "oauth_signature_method": signature_method}
    signed["oauth_signature"] = signature(method, url, signed.items(), consumer_secret, signature_method)
    return signed


def new_nonce() -> str:
    """32 random alphanumerics, as WooCommerce's own clients send."""
    return secrets.token_hex(16)


def basic_header(consumer_key: str, consumer_secret: str) -> str:
    """``Authorization`` header value for HTTP Basic over HTTPS."""
    token = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode("utf-8")).decode("ascii")
    return f"Basic {token}"


def parse_basic(header: str) -> tuple[str, str] | None:
    """(key, secret) from a Basic ``Authorization`` header, or None."""
    if not header.startswith("Basic "):
        return None
    try:
        key, _, secret = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return key, secret
