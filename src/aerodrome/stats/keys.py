"""OAuth 1.0a client keys of stats submitters, and verifying their signed requests.

A submission is signed with HMAC-SHA1 over the client's key and secret (two-legged OAuth,
no token). oauthlib checks the signature and the timestamp window; the nonce is recorded
here, in the same transaction as the data point, and a nonce already recorded for the same
key and timestamp is a replay, refused.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849.errors import OAuth1Error
from oauthlib.oauth1.rfc5849.utils import parse_authorization_header
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.resources import Row
from aerodrome.db.types import utcnow
from aerodrome.errors import InvalidInput, NotFound, Unauthorized
from aerodrome.stats.models import ClientKey, OAuthNonce

client_keys = ClientKey.__table__
nonces = OAuthNonce.__table__
# oauthlib accepts only letters and digits in a client key.
KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 30
DUMMY_KEY = "dummyclientkeyforconstanttime0"


def _random(length: int) -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(length))


async def add_key(session: AsyncSession, *, name: str, contact: str = "") -> Row:
    """A new client key and secret for submitter `name`; the secret is shown once here."""
    if not name.strip() or len(name) > 255 or len(contact) > 255:
        raise InvalidInput("a client needs a name (at most 255 characters)")
    values = {
        "key": _random(KEY_LENGTH),
        "secret": _random(KEY_LENGTH),
        "name": name.strip(),
        "contact": contact.strip(),
        "created_at": utcnow(),
    }
    await session.execute(insert(client_keys).values(values))
    return values


async def list_keys(session: AsyncSession) -> list[Row]:
    """Every client key (without secrets), oldest first."""
    stmt = select(
        client_keys.c.key, client_keys.c.name, client_keys.c.contact, client_keys.c.created_at
    ).order_by(client_keys.c.created_at)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def delete_key(session: AsyncSession, key: str) -> None:
    """Revoke a client key; its later submissions are refused."""
    result = await session.execute(delete(client_keys).where(client_keys.c.key == key))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"client key {key} not found")


async def clean_nonces(session: AsyncSession, *, window_seconds: int) -> int:
    """Remove the nonces whose timestamp can no longer be accepted; how many went."""
    expired = utcnow() - timedelta(seconds=2 * window_seconds)
    result = await session.execute(delete(nonces).where(nonces.c.used_at < expired))
    return int(result.rowcount)  # type: ignore[attr-defined]


class _Validator(RequestValidator):
    """oauthlib's questions, answered from the one client key loaded beforehand (oauthlib
    is synchronous; the database is not)."""

    def __init__(self, key: str, secret: str | None, window_seconds: int) -> None:
        super().__init__()
        self._key, self._secret, self._window = key, secret, window_seconds

    @property
    def enforce_ssl(self) -> bool:
        return False  # TLS is the reverse proxy's business

    @property
    def timestamp_lifetime(self) -> int:
        return self._window

    @property
    def nonce_length(self) -> tuple[int, int]:
        return 8, 64

    @property
    def client_key_length(self) -> tuple[int, int]:
        return 8, 64

    @property
    def dummy_client(self) -> str:
        return DUMMY_KEY

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self._secret is not None and client_key == self._key

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self._secret if self._secret is not None and client_key == self._key else "x"

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True  # the nonce is recorded in the database once the signature is good


async def verify_signed_request(
    session: AsyncSession,
    *,
    uri: str,
    method: str,
    body: str,
    headers: Mapping[str, str],
    window_seconds: int,
) -> str:
    """The client key of a correctly signed, fresh, never seen request; Unauthorized else."""
    header = headers.get("authorization", "")
    if not header.lower().startswith("oauth "):
        raise Unauthorized("an OAuth 1.0a signature (Authorization: OAuth ...) is required")
    try:
        params = dict(parse_authorization_header(header))
    except (ValueError, OAuth1Error):
        raise Unauthorized("malformed OAuth Authorization header") from None
    key = params.get("oauth_consumer_key", "")
    stmt = select(client_keys.c.secret).where(client_keys.c.key == key)
    secret = (await session.execute(stmt)).scalar_one_or_none()
    endpoint = SignatureOnlyEndpoint(_Validator(key, secret, window_seconds))
    valid, _ = endpoint.validate_request(uri, method, body, dict(headers))
    if not valid:
        raise Unauthorized("invalid OAuth request: unknown key, bad signature or stale timestamp")
    await _record_nonce(session, key, params.get("oauth_nonce", ""), params["oauth_timestamp"])
    return key


async def _record_nonce(session: AsyncSession, key: str, nonce: str, timestamp: str) -> None:
    dialect = (await session.connection()).dialect.name
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert_into(nonces)
        .values(client_key=key, nonce=nonce, timestamp=int(timestamp), used_at=utcnow())
        .on_conflict_do_nothing()
    )
    if not (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        raise Unauthorized("OAuth nonce already used: a replayed request is refused")
