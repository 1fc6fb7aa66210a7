"""Native stats routes and server-side downsampling (min/max per time bucket, in SQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import insert, select

from aerodrome import jsoncodec
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


async def test_series_bytes_are_the_written_json_and_isoformat_times(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    """The database splices in what the server wrote: each time as `isoformat` writes it
    (microseconds only when not zero) and the data as `jsoncodec` wrote it, keys in the
    submitter's order (not jsonb's) and integers beyond 64 bits intact."""
    data: list[dict[str, Any]] = [
        {"zeta": 1.5, "alpha": 'é " \\ ☃', "mid": {"n": [1, None, True], "a": 0}},
        {"us": 5},
        {"tie": 1},
        {"big": 2**70, "half": True},
    ]
    offsets = (timedelta(minutes=3), timedelta(microseconds=5), timedelta(0), timedelta(0))
    written = []
    async with backend.database.unit_of_work() as session:
        for entered, point in zip(offsets, data, strict=True):
            when = (T0 + entered).astimezone(timezone(timedelta(hours=-5)))
            row = await service.add_point(
                session, project="p", test="t", data=point, date_entered=when
            )
            written.append((T0 + entered, row["id"], point))
    expected = b",".join(
        b'{"id":%d,"date_entered":"%s","data":%s}'
        % (point_id, entered.isoformat().encode(), jsoncodec.dumps(point))
        for entered, point_id, point in sorted(written, key=lambda w: (w[0], w[1]))
    )
    assert b'"data":{"zeta":1.5,"alpha":' in expected
    assert b'"date_entered":"2026-03-01T00:00:00+00:00"' in expected
    window = "start_date=2026-03-01T00:00:00Z&end_date=2026-03-01T01:40:00Z"
    native = await client.get(f"{BASE}/p/tests/t/points?{window}", headers=ADMIN)
    assert native.content == b'{"points":[%s],"_meta":{"count":%d}}' % (expected, len(data))
    nfss = await client.get(f"/nfss/api/v1/p/t?{window}", headers=ADMIN)
    assert nfss.content == b'{"data":[%s]}' % expected
    empty = await client.get(
        "/nfss/api/v1/p/t?start_date=2020-01-01&end_date=2020-01-02", headers=ADMIN
    )
    assert empty.content == b'{"data":[]}'


async def test_the_wire_time_is_stored_with_every_point(backend: Backend) -> None:
    """Rows inserted without the service get `date_entered_iso` from the model's default."""
    await _load(backend, [1, 2])
    async with backend.database.unit_of_work(write=False) as session:
        rows = (
            await session.execute(select(DataPoint.date_entered, DataPoint.date_entered_iso))
        ).all()
    assert len(rows) == 3
    assert all(row.date_entered_iso == row.date_entered.isoformat() for row in rows)
