"""Sealed days: a range read answers the same bytes before and after its days are sealed, and
a point added to a sealed day, also while it is being sealed, is never lost."""

from __future__ import annotations

import asyncio
import base64
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx
import pytest
from sqlalchemy import insert, select

from aerodrome.stats import bins, service, tasks
from aerodrome.stats.models import DataPoint, DayChunk
from tests.conftest import ADMIN, Backend, LiveServer

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ONE_DAY = timedelta(days=1)
POINTS = "/api/v1/stats/projects/p/tests/t/points"


async def _post(client: httpx.AsyncClient, when: datetime | None, data: object) -> None:
    query = {"date_entered": when.isoformat()} if when else {}
    response = await client.post(POINTS, params=query, json=data, headers=ADMIN)
    assert response.status_code == 201, response.text


async def _read(client: httpx.AsyncClient, start: datetime, end: datetime) -> bytes:
    query = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    native = await client.get(POINTS, params=query, headers=ADMIN)
    assert native.status_code == 200, native.text
    return native.content


async def _seal_all(backend: Backend) -> int:
    sealed = 0
    while True:
        async with backend.database.unit_of_work() as session:
            if not await service.seal_next_day(session):
                return sealed
        sealed += 1


async def _days(backend: Backend) -> dict[date, int | None]:
    """Each listed day and its sealed count (None: not sealed)."""
    async with backend.database.unit_of_work(write=False) as session:
        rows = await session.execute(select(DayChunk.day, DayChunk.count))
        return {day: count for day, count in rows}


async def test_reads_are_the_same_before_and_after_sealing(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    # Every 5 hours over four days, two points sharing a time, one at midnight exactly.
    times = [T0 + timedelta(hours=1 + 5 * i) for i in range(19)]
    for number, when in enumerate([*times, T0 + timedelta(hours=6), T0 + timedelta(days=2)]):
        await _post(client, when, {"n": number})
    windows = [
        (T0, T0 + timedelta(days=4)),
        (T0 + timedelta(hours=3), T0 + timedelta(days=2, hours=7)),
        (T0 + timedelta(days=1), T0 + timedelta(days=2)),
        (T0 - timedelta(days=1), T0 + timedelta(days=10)),
        (T0 + timedelta(minutes=30), T0 + timedelta(minutes=70)),
    ]
    before = [await _read(client, *window) for window in windows]
    assert before[0].count(b'"n":') == 21
    assert await _seal_all(backend) == 4
    days = await _days(backend)
    assert days == {T0.date() + timedelta(days=d): c for d, c in enumerate((6, 5, 6, 4))}
    assert [await _read(client, *window) for window in windows] == before
    # Sealed days go out compressed once, when sealed: as one deflate stream to a client
    # that takes it (httpx inflates it above), inflated for one that does not, and inflated
    # then gzipped for one that takes gzip only.
    query = {"start_date": T0.isoformat(), "end_date": (T0 + timedelta(days=4)).isoformat()}
    for accepted, encoding in (("deflate", "deflate"), ("identity", None), ("gzip", "gzip")):
        response = await client.get(
            POINTS, params=query, headers={**ADMIN, "Accept-Encoding": accepted}
        )
        assert response.headers.get("content-encoding") == encoding
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.content == before[0]
    # A point of today is listed but not sealed: late points for it are still to come.
    await _post(client, None, {"n": "now"})
    assert await _seal_all(backend) == 0
    assert (await _days(backend))[datetime.now(UTC).date()] is None


async def test_a_point_added_to_a_sealed_day_unseals_it(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    for hour in (1, 12, 23, 25, 36, 50):
        await _post(client, T0 + timedelta(hours=hour), {"h": hour})
    assert await _seal_all(backend) == 3
    await _post(client, T0 + timedelta(hours=30), {"h": 30})
    day = T0.date()
    assert await _days(backend) == {day: 3, day + ONE_DAY: None, day + ONE_DAY * 2: 1}
    window = (T0, T0 + timedelta(days=3))
    unsealed = await _read(client, *window)
    assert await _seal_all(backend) == 1
    assert await _read(client, *window) == unsealed
    hours = [point["data"]["h"] for point in httpx.Response(200, content=unsealed).json()["points"]]
    assert hours == [1, 12, 23, 25, 30, 36, 50]


async def test_concurrent_points_and_sealing_lose_nothing(
    backend: Backend, live_server: LiveServer
) -> None:
    """Eight clients add points to one old day through a real server while sealers seal it over
    and over: every point is in the day's final body and in the read."""
    clients, each = 8, 20
    posting = True

    async def submitter(number: int) -> None:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
            for i in range(each):
                await _post(http, T0 + timedelta(minutes=number * each + i), {"i": i})

    async def sealer() -> int:
        sealed = 0
        while posting:
            sealed += await _seal_all(backend)
            await asyncio.sleep(pause)
        return sealed

    # SQLite writers take turns (BEGIN IMMEDIATE), so there is no race to provoke there, and one
    # sealer interleaves with the posts; its busy wait is not a queue: three sealers retaking the
    # lock at once starved the server's writers past their timeout on a loaded CI machine (503).
    sqlite = backend.name == "sqlite"
    pause = 0.02 if sqlite else 0.001
    sealing = [asyncio.create_task(sealer()) for _ in range(1 if sqlite else 3)]
    try:
        # When a submitter fails, the group cancels the others: left running, they posted into
        # the next tests' database.
        async with asyncio.TaskGroup() as submitters:
            for number in range(clients):
                submitters.create_task(submitter(number))
    finally:
        # Also when a submitter fails: sealers left running would seal the next test's days.
        posting = False
        sealed = await asyncio.gather(*sealing)
    assert sum(sealed) > 0
    await _seal_all(backend)
    assert await _days(backend) == {T0.date(): clients * each}
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        body = await _read(http, T0, T0 + timedelta(days=1))
    assert body.count(b'"i":') == clients * each
    # curl (libcurl and zlib, not Python) takes the deflate stream of the sealed day too.
    query = urlencode({"start_date": T0.isoformat(), "end_date": (T0 + ONE_DAY).isoformat()})
    user = base64.b64decode(ADMIN["Authorization"].split()[1]).decode()
    curl = ["curl", "-sS", "--fail", "--compressed", "-u", user, "-D", "-"]
    output = (await anyio.run_process([*curl, f"{live_server.url}{POINTS}?{query}"])).stdout
    headers, _, body_by_curl = output.partition(b"\r\n\r\n")
    assert b"content-encoding: deflate" in headers.lower()
    assert body_by_curl == body


async def test_downsampling_from_sealed_days_keeps_the_same_points(
    backend: Backend, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With buckets that begin and end on bin edges, downsampling from the bins of sealed
    days keeps exactly the points that downsampling the points themselves keeps."""
    rng = random.Random(3)
    async with backend.database.unit_of_work() as session:
        await service.add_point(session, project="p", test="t", data={}, date_entered=T0)
        test_id = (await session.execute(select(service.tests.c.id))).scalar_one()
        rows = []
        for i in range(6 * 24 * 60 // 7):
            value = rng.choice([rng.randint(0, 9), rng.random() * 9, "n/a", True, None, 2**70])
            when = T0 + timedelta(minutes=7 * i, seconds=rng.randint(0, 3))
            rows.append(
                {"test_id": test_id, "date_entered": when, "data": {"v": value, "w": i % 5}}
            )
        await session.execute(insert(DataPoint), rows)
        days = [{"test_id": test_id, "day": T0.date() + ONE_DAY * d} for d in range(1, 7)]
        await session.execute(insert(DayChunk), days)
    start, end = T0 + timedelta(hours=2), T0 + timedelta(days=5, hours=2)
    queries: list[dict[str, str]] = [{"key": "v"}, {"key": "w"}, {}]

    async def downsampled() -> list[bytes]:
        window = {"start_date": start.isoformat(), "end_date": end.isoformat(), "max_points": "240"}
        answers = []
        for query in queries:
            response = await client.get(POINTS, params={**window, **query}, headers=ADMIN)
            assert response.status_code == 200, response.text
            answers.append(response.content)
        return answers

    from_points = await downsampled()
    assert await _seal_all(backend) == 7
    merged: list[tuple[Any, ...]] = []
    offer = bins.offer_bins

    def counted_offer(*arguments: Any) -> None:
        merged.append(arguments)
        offer(*arguments)

    monkeypatch.setattr(bins, "offer_bins", counted_offer)
    assert await downsampled() == from_points
    assert len(merged) == 4 * len(queries)  # the four whole days, for each query
    counts = [httpx.Response(200, content=a).json()["_meta"]["count"] for a in from_points]
    assert all(100 < count <= 240 for count in counts)
    # A day whose points hold too many numeric keys keeps no bins: its reads use the points.
    many = {f"k{n}": n for n in range(bins.MAX_KEYS + 1)}
    await _post(client, T0 + timedelta(days=3, hours=5), many)
    from_points = await downsampled()
    merged.clear()
    assert await _seal_all(backend) == 1
    async with backend.database.unit_of_work(write=False) as session:
        unsummarised = select(DayChunk.day).where(DayChunk.bins.is_(None))
        assert (await session.execute(unsummarised)).scalars().all() == [T0.date() + ONE_DAY * 3]
    assert await downsampled() == from_points
    assert merged == []


async def test_the_server_seals_finished_days_by_itself(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    for hour in (1, 30):
        await _post(client, T0 + timedelta(hours=hour), {"h": hour})
    await _post(client, None, {"h": "now"})
    settings = backend.settings.model_copy(update={"stats_seal_seconds": 0.05})
    stop = asyncio.Event()
    sealer = asyncio.create_task(tasks.seal_days_periodically(backend.database, settings, stop))
    deadline = asyncio.get_running_loop().time() + 30
    try:
        while (await _days(backend)).get(T0.date() + ONE_DAY) is None:
            assert asyncio.get_running_loop().time() < deadline, "the days were not sealed"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(sealer, 30)
    days = await _days(backend)
    assert days == {T0.date(): 1, T0.date() + ONE_DAY: 1, datetime.now(UTC).date(): None}
