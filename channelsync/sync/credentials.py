"""Credentials a platform renewed, kept across restarts (never logged, never shown).

At rest: ``replaces`` is an HMAC-SHA256 of the configured value it supersedes,
keyed with a random key made for this database, so a leaked database cannot
confirm a guessed secret (an unsalted hash could be checked against a list of
guesses). ``value`` is encrypted with Fernet when ``store.key = { file = … }``
is configured; without a key it is stored as the platform sent it, and the
database file (0600) is its only protection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any, Mapping

import structlog
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from channelsync.store import Store, ts, utcnow

log = structlog.get_logger("channelsync.sync.credentials")

_HMAC = "hmac-sha256:"
_FERNET = "fernet:"


def _db_key(store: Store, create: bool) -> bytes | None:
    """This database's random fingerprint key (made on first use, inside the caller's write)."""
    row = store.scalar("SELECT value FROM store_keys WHERE name = 'credentials'")
    if row is None and create:
        row = secrets.token_hex(32)
        store.execute("INSERT INTO store_keys (name, value) VALUES ('credentials', ?)", (row,))
    return None if row is None else bytes.fromhex(row)


def fingerprint(value: Any, db_key: bytes) -> str:
    return _HMAC + hmac.new(db_key, str(value).encode(), hashlib.sha256).hexdigest()


def _fernet(key: bytes, db_key: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=db_key, info=b"channelsync credentials").derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def _matches(row: Mapping[str, Any], configured: Any, db_key: bytes | None) -> bool:
    replaces = row["replaces"]
    if replaces.startswith(_HMAC):
        return db_key is not None and hmac.compare_digest(replaces, fingerprint(configured, db_key))
    return False  # an unsalted hash from an older release: ignored, the configured value is used


def overlay(store: Store, channel: str, configured: Mapping[str, Any], key: bytes | None = None) -> dict[str, Any]:
    """The configured settings with every renewed value whose configured original is unchanged."""
    settings = dict(configured)
    db_key = _db_key(store, create=False)
    for row in store.query("SELECT key, value, replaces FROM credentials WHERE channel = ?", (channel,)):
        if not _matches(row, configured.get(row["key"]), db_key):
            continue
        value = row["value"]
        if value.startswith(_FERNET):
            if key is None:
                log.warning("credential_unreadable", channel=channel, setting=row["key"],
                            reason="stored encrypted but store.key is not configured; using the configured value")
                continue
            try:
                value = _fernet(key, db_key).decrypt(value[len(_FERNET):].encode()).decode()
            except InvalidToken:
                log.warning("credential_unreadable", channel=channel, setting=row["key"],
                            reason="store.key does not decrypt it (was the key changed?); using the configured value")
                continue
        settings[row["key"]] = value
    return settings


def save(store: Store, channel: str, configured: Mapping[str, Any], values: Mapping[str, str],
         key: bytes | None = None) -> None:
    with store.here() as here:  # the adapter renews from whichever of the channel's threads calls
        _save(here, channel, configured, values, key)


def _save(store: Store, channel: str, configured: Mapping[str, Any], values: Mapping[str, str],
          key: bytes | None) -> None:
    with store.write():
        db_key = _db_key(store, create=True)
        for name, value in values.items():
            stored = str(value)
            if key is not None:
                stored = _FERNET + _fernet(key, db_key).encrypt(stored.encode()).decode()
            store.execute(
                "INSERT INTO credentials (channel, key, value, replaces, updated_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value, replaces = excluded.replaces, "
                "updated_at = excluded.updated_at",
                (channel, name, stored, fingerprint(configured.get(name), db_key), ts(utcnow())))
