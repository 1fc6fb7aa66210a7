"""The least a request can cost on this stack: FastAPI on uvicorn, no middleware, no database,
a constant JSON answer. `harness.floor_line` serves it as `aerodrome serve` is served (two
worker processes) and prints its figures next to the real ones."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import Response

app = FastAPI()
BODY = b'{"components": [], "_meta": {"count": 0}}'


@app.get("/floor")
async def floor() -> Response:
    return Response(BODY, media_type="application/json")
