"""Secrets at rest: shop app secrets, Douyin tokens and robot webhook credentials are stored
encrypted (Fernet: AES-128-CBC with HMAC-SHA256, from `cryptography`) with a key that is not in
the database.

The key is installed once per process by a composition root (`create_app`, the CLI) from the
settings; `Encrypted` columns encrypt on write and decrypt on read with it. No key installed,
or a value the key cannot open, is an error: nothing is ever written in clear by mistake, and a
wrong key never passes silently.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "fernet:"  # marks a stored value as encrypted (legacy clear values have no prefix)


class SecretsKeyError(RuntimeError):
    """No data key installed, a malformed one, or stored secrets the key cannot open."""


_fernet: Fernet | None = None


def install(key: str) -> None:
    """Use `key` (a urlsafe-base64 Fernet key, as `new_key()` makes) for every Encrypted column."""
    global _fernet
    try:
        _fernet = Fernet(key.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SecretsKeyError("the data key is not a Fernet key (32 urlsafe-base64 bytes)") from exc


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _box() -> Fernet:
    if _fernet is None:
        raise SecretsKeyError("no data key installed: secrets cannot be read or written")
    return _fernet


def seal(value: str) -> str:
    return PREFIX + _box().encrypt(value.encode("utf-8")).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(value: str) -> str:
    if not is_sealed(value):
        return value  # a row written before 0008 and not migrated (the migration seals them all)
    try:
        return _box().decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SecretsKeyError("stored secrets do not open with this data key (SHIPGATE_DATA_KEY)") from exc


class Encrypted(TypeDecorator):
    """A string column stored encrypted; empty strings and NULL stay as they are."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return seal(value) if value else value

    def process_result_value(self, value, dialect):
        return unseal(value) if value else value
