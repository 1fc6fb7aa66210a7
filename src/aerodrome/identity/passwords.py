"""Password hashing (Argon2id, deliberately slow) and the cache that keeps it off hot paths."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Verify off the event loop: one check costs tens of milliseconds of CPU by design."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def generate_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class _Verified:
    user_id: uuid.UUID
    password_hash: str
    expires_at: float


class CredentialCache:
    """Remembers Basic credentials that verified, so a request costs a lookup, not a hash.

    Keys are HMACs of the credential under a per-process random key, so the cache holds no
    password. A hit is honoured only while the user's stored hash is still the one that was
    verified: changing a password invalidates it at once, in every process.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()
        self._verifying: dict[bytes, asyncio.Lock] = {}

    def _digest(self, login: str, password: str) -> bytes:
        material = f"{login}\x00{password}".encode()
        return hmac.new(self._key, material, hashlib.sha256).digest()

    def lookup(self, login: str, password: str) -> _Verified | None:
        digest = self._digest(login, password)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.expires_at < time.monotonic():
            del self._entries[digest]
            return None
        return entry

    @asynccontextmanager
    async def single_flight(self, login: str, password: str) -> AsyncIterator[None]:
        """Hold while verifying a credential, so that others wait for its result."""
        digest = self._digest(login, password)
        lock = self._verifying.setdefault(digest, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked():
                self._verifying.pop(digest, None)

    def remember(self, login: str, password: str, user_id: uuid.UUID, password_hash: str) -> None:
        if self._ttl <= 0:
            return
        digest = self._digest(login, password)
        self._entries[digest] = _Verified(user_id, password_hash, time.monotonic() + self._ttl)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
