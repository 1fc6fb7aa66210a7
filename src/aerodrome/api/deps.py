"""Dependencies every route shares: the unit of work, the caller's identity, If-Match."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.session import Database
from aerodrome.errors import PreconditionFailed, Unauthorized
from aerodrome.identity import service as identity_service
from aerodrome.identity.changes import KnownIdentities
from aerodrome.identity.passwords import CredentialCache
from aerodrome.identity.principal import ANONYMOUS, Identity
from aerodrome.identity.signature import SignatureError, parse_signature_claim, verify_signature
from aerodrome.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.unit_of_work(write=request.method not in SAFE_METHODS) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit
# answers 5xx instead of a success for a write that did not happen.
DbSession = Annotated[AsyncSession, Depends(_unit_of_work, scope="function")]


async def resolve_identity(request: Request, session: DbSession) -> Identity:
    """Who is calling: Basic, bearer token or DCI signature; ANONYMOUS without credentials."""
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        login, password = _decode_basic(credentials)
        cache: CredentialCache = request.app.state.credential_cache
        known: KnownIdentities = request.app.state.known_identities
        return await identity_service.authenticate_basic(session, cache, known, login, password)
    if scheme == "bearer":
        return await identity_service.authenticate_token(session, credentials.strip())
    return await _signed_identity(request, session)


async def _signed_identity(request: Request, session: AsyncSession) -> Identity:
    settings: Settings = request.app.state.settings
    try:
        claim = parse_signature_claim(request.headers)
        if claim is None:
            raise Unauthorized("unsupported authorization scheme")
        identity, secret = await identity_service.load_agent(
            session, request.app.state.known_identities, claim.client_type, claim.client_id
        )
        verify_signature(
            claim,
            method=request.method,
            path=request.scope["raw_path"].decode("latin-1"),
            query_string=request.scope["query_string"].decode("latin-1"),
            headers=request.headers,
            body=await request.body(),
            secret=secret,
            max_skew=settings.hmac_max_clock_skew_delta,
        )
    except SignatureError as exc:
        raise Unauthorized(f"invalid signature: {exc}") from exc
    return identity


def _decode_basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed Basic credentials") from None
    login, sep, password = decoded.partition(":")
    if not sep or not login:
        raise Unauthorized("malformed Basic credentials")
    return login, password


async def _reader(
    request: Request, identity: Annotated[Identity, Depends(resolve_identity)]
) -> Identity:
    settings: Settings = request.app.state.settings
    if not identity.is_authenticated and not settings.public_reads:
        raise Unauthorized("authentication required")
    return identity


async def _caller(identity: Annotated[Identity, Depends(resolve_identity)]) -> Identity:
    if not identity.is_authenticated:
        raise Unauthorized("authentication required")
    return identity


# Who may read (anonymous only when `public_reads` is on) and who may write (always signed in).
Reader = Annotated[Identity, Depends(_reader)]
Caller = Annotated[Identity, Depends(_caller)]


def _optional_if_match(if_match: Annotated[str | None, Header()] = None) -> str | None:
    return if_match.strip().removeprefix("W/").strip('"') if if_match else None


def _if_match(if_match: Annotated[str | None, Depends(_optional_if_match)]) -> str:
    if not if_match:
        raise PreconditionFailed("'If-match' header must be provided")
    return if_match


IfMatch = Annotated[str, Depends(_if_match)]
# For the one write whose real client sends no etag and that cannot lose an update: deleting
# a file (contents never change), which dcictl's `file-delete` sends without If-Match.
OptionalIfMatch = Annotated[str | None, Depends(_optional_if_match)]
