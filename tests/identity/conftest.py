"""The identity tests run against an application that has started as a server does (its
lifespan runs): on PostgreSQL it listens for identity changes and trusts the identities it
has read, so every invalidation test here also tests that trust (identity/changes.py)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from aerodrome.app import create_app
from tests.conftest import Backend, until_listening


@pytest.fixture
async def started_app(backend: Backend) -> AsyncIterator[FastAPI]:
    app = create_app(backend.settings)
    thresholds = gc.get_threshold()
    try:
        async with app.router.lifespan_context(app):
            changes = app.state.known_identities.changes
            await until_listening(changes, expected=True)
            yield app
    finally:
        # The lifespan tunes the collector for a server process; give the tests theirs back.
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.fixture
async def client(started_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=started_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
