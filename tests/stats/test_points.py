"""Native stats routes and server-side downsampling (min/max per time bucket, in SQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Text, cast, insert, select

from aerodrome.stats import service
from aerodrome.stats.models import DataPoint
from tests.conftest import ADMIN, Backend
from tests.helpers import team_with_user

BASE = "/api/v1/stats/projects"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def test_native_create_and_list(client: httpx.AsyncClient) -> None:
    created = await client.post(
        f"{BASE}/mir/tests/fps/points?date_entered=2026-03-01T10:00:00Z",
        json={"fps": 60},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    assert created.json()["point"]["date_entered"] == "2026-03-01T10:00:00+00:00"
    projects = (await client.get(f"{BASE}", headers=ADMIN)).json()
    assert [p["name"] for p in projects["projects"]] == ["mir"]
    assert projects["_meta"]["count"] == 1
    tests = (await client.get(f"{BASE}/mir/tests", headers=ADMIN)).json()
    assert [t["name"] for t in tests["tests"]] == ["fps"]
    url = f"{BASE}/mir/tests/fps/points?start_date=2026-03-01&end_date=2026-03-02"
    listed = (await client.get(url, headers=ADMIN)).json()
    assert [p["data"] for p in listed["points"]] == [{"fps": 60}]


async def test_native_writes_need_credentials(client: httpx.AsyncClient) -> None:
    anonymous = await client.post(f"{BASE}/mir/tests/fps/points", json={"fps": 1})
    assert anonymous.status_code == 401
    _, member = await team_with_user(client, "qa", "quinn")
    assert (
        await client.post(f"{BASE}/mir/tests/fps/points", json={}, headers=member)
    ).status_code == 201
    extreme = await client.post(
        f"{BASE}/mir/tests/fps/points?date_entered=9999-12-31T23:00:00-05:00",
        json={},
        headers=ADMIN,
    )
    assert extreme.status_code == 400
    assert extreme.json()["message"].endswith("time out of range")
    unknown = await client.get(f"{BASE}/mir/tests/fps/points?colour=red", headers=ADMIN)
    assert unknown.status_code == 400
    assert "unknown parameter colour" in unknown.json()["message"]


async def _load(backend: Backend, values: list[Any]) -> None:
    """One point a minute from T0, `{"v": value}` each."""
    async with backend.database.unit_of_work() as session:
        await service.add_point(
            session, project="p", test="t", data={"seed": True}, date_entered=T0 - timedelta(days=1)
        )
        test_id = (await session.execute(service.tests.select())).mappings().one()["id"]
        await session.execute(
            insert(DataPoint.__table__),
            [
                {"test_id": test_id, "date_entered": T0 + timedelta(minutes=i), "data": {"v": v}}
                for i, v in enumerate(values)
            ],
        )


async def _series(client: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    window = "start_date=2026-03-01T00:00:00Z&end_date=2026-03-01T01:40:00Z"
    url = f"{BASE}/p/tests/t/points?{window}&{query}"
    response = await client.get(url, headers=ADMIN)
    assert response.status_code == 200, response.text
    points: list[dict[str, Any]] = response.json()["points"]
    return points


async def test_downsampling_keeps_min_and_max_per_bucket(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    # 100 points over 100 minutes; 10 buckets of 10 minutes with max_points=20.
    values: list[Any] = [(i * 7) % 10 for i in range(100)]
    values[55] = 1000  # a spike
    values[33] = -5  # a dip
    values[40] = "n/a"  # not a number: never chosen as a min or max
    await _load(backend, values)
    full = await _series(client, "")
    assert len(full) == 100
    sampled = await _series(client, "max_points=20&key=v")
    assert len(sampled) <= 20
    kept = [p["data"]["v"] for p in sampled]
    assert 1000 in kept
    assert -5 in kept
    assert "n/a" not in kept
    times = [p["date_entered"] for p in sampled]
    assert times == sorted(times)
    for bucket in range(10):
        inside = [v for v in values[bucket * 10 : bucket * 10 + 10] if isinstance(v, int)]
        chosen = [v for p, v in zip(sampled, kept, strict=True) if _minute(p) // 10 == bucket]
        assert sorted(chosen) == [min(inside), max(inside)]


async def test_downsampling_without_key_keeps_first_and_last(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    await _load(backend, list(range(100)))
    sampled = await _series(client, "max_points=10")
    assert [p["data"]["v"] for p in sampled] == [0, 19, 20, 39, 40, 59, 60, 79, 80, 99]
    untouched = await _series(client, "max_points=1000")
    assert len(untouched) == 100
    bad = await client.get(f"{BASE}/p/tests/t/points?max_points=1", headers=ADMIN)
    assert bad.status_code == 400
    assert bad.json()["message"] == "max_points must be an integer from 2 to 100000"


def _minute(point: dict[str, Any]) -> int:
    when = datetime.fromisoformat(point["date_entered"])
    return int((when - T0).total_seconds() // 60)


async def test_series_bytes_are_the_stored_json_and_isoformat_times(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    """The database renders the array: byte for byte what Python made of the rows before."""
    await _load(backend, [1.5, 'é " \\ ☃', {"n": [1, None, True]}, 7])
    async with backend.database.unit_of_work() as session:
        test_id = (await session.execute(service.tests.select())).one().id
        await session.execute(
            insert(DataPoint.__table__),
            [
                {"test_id": test_id, "date_entered": T0 + timedelta(microseconds=us), "data": d}
                for us, d in ((5, {"us": 5}), (0, {"tie": 1}), (500000, {"half": True}))
            ],
        )
        stored = (
            await session.execute(
                select(DataPoint.id, DataPoint.date_entered, cast(DataPoint.data, Text))
                .where(DataPoint.date_entered >= T0)
                .order_by(DataPoint.date_entered, DataPoint.id)
            )
        ).all()
    expected = b",".join(
        b'{"id":%d,"date_entered":"%s","data":%s}'
        % (row[0], row[1].isoformat().encode(), row[2].encode())
        for row in stored
    )
    window = "start_date=2026-03-01T00:00:00Z&end_date=2026-03-01T01:40:00Z"
    native = await client.get(f"{BASE}/p/tests/t/points?{window}", headers=ADMIN)
    assert native.content == b'{"points":[%s],"_meta":{"count":%d}}' % (expected, len(stored))
    nfss = await client.get(f"/nfss/api/v1/p/t?{window}", headers=ADMIN)
    assert nfss.content == b'{"data":[%s]}' % expected
    empty = await client.get(
        "/nfss/api/v1/p/t?start_date=2020-01-01&end_date=2020-01-02", headers=ADMIN
    )
    assert empty.content == b'{"data":[]}'
