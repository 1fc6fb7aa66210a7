"""Cluster age, check-ins and persistent clusters: any subset of the bounds; impossible → 400."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert

from aerodrome.fleet.models import Cluster, ClusterCheckin
from tests.conftest import ADMIN, Backend

DAY = timedelta(days=1)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


async def _history(backend: Backend) -> None:
    """a: seen days 0..10; b: days 5..6; c: only day 20."""
    seen = {"a": [0, 3, 10], "b": [5, 6], "c": [20]}
    async with backend.database.unit_of_work() as session:
        await session.execute(insert(Cluster.__table__), [{"id": c} for c in seen])
        await session.execute(
            insert(ClusterCheckin.__table__),
            [
                {
                    "cluster_id": cluster,
                    "checked_in_at": T0 + day * DAY,
                    "source_address": "10.0.0.1",
                    "components": [],
                }
                for cluster, days in seen.items()
                for day in days
            ],
        )


def _at(day: float) -> str:
    return (T0 + day * DAY).isoformat().replace("+00:00", "Z")


async def _ids(client: httpx.AsyncClient, url: str) -> list[str]:
    response = await client.get(url, headers=ADMIN)
    assert response.status_code == 200, response.text
    return sorted(c["id"] for c in response.json()["data"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["a", "b", "c"]),
        (f"created_before={_at(1)}", ["a"]),
        (f"created_after={_at(1)}", ["b", "c"]),
        (f"checked_in_before={_at(8)}", ["b"]),
        (f"checked_in_after={_at(8)}", ["a", "c"]),
        (f"created_after={_at(1)}&checked_in_before={_at(8)}", ["b"]),
        (
            f"created_before={_at(6)}&created_after={_at(-1)}"
            f"&checked_in_before={_at(15)}&checked_in_after={_at(5.5)}",
            ["a", "b"],
        ),
    ],
)
async def test_age_filters(
    backend: Backend, client: httpx.AsyncClient, query: str, expected: list[str]
) -> None:
    await _history(backend)
    assert await _ids(client, f"/deis/v3/clusters/age?{query}") == expected
    native = await client.get(f"/api/v1/clusters?{query}", headers=ADMIN)
    assert sorted(c["id"] for c in native.json()["clusters"]) == expected
    assert native.json()["_meta"]["count"] == len(expected)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("created_after", "created_before"),
        ("checked_in_after", "checked_in_before"),
        ("created_after", "checked_in_before"),
    ],
)
async def test_impossible_age_filters_say_why(
    client: httpx.AsyncClient, low: str, high: str
) -> None:
    url = f"/deis/v3/clusters/age?{low}={_at(5)}&{high}={_at(5)}"
    response = await client.get(url, headers=ADMIN)
    assert response.status_code == 400
    message = response.json()["message"]
    assert response.json()["code"] == 400
    assert message.startswith(f"impossible filter: {low} (2026-06-06T00:00:00+00:00) must be")
    assert high in message
    native = await client.get(
        url.replace("/deis/v3/clusters/age", "/api/v1/clusters"), headers=ADMIN
    )
    assert native.status_code == 400
    assert native.json()["message"] == message


async def test_bad_times_are_400(client: httpx.AsyncClient) -> None:
    naive = await client.get(
        "/deis/v3/clusters/age?created_before=2026-01-01T00:00:00", headers=ADMIN
    )
    assert naive.status_code == 400
    assert "created_before" in naive.json()["message"]
    # Out of range once in UTC: a 400 in the Deis shape, not a 500.
    extreme = await client.get(
        "/deis/v3/clusters/age?created_before=0001-01-01T00:00:00%2B01:00", headers=ADMIN
    )
    assert extreme.status_code == 400
    assert extreme.json() == {
        "code": 400,
        "message": "invalid request: query.created_before: Value error, time out of range",
    }


async def test_checkins_window_and_persistent(backend: Backend, client: httpx.AsyncClient) -> None:
    await _history(backend)
    window = await client.get(
        f"/deis/v3/clusters/checkins?created_after={_at(2)}&created_before={_at(7)}", headers=ADMIN
    )
    assert window.json()["count"] == 2
    assert sorted(c["id"] for c in window.json()["data"]) == ["a", "b"]
    persistent = await client.get(
        f"/deis/v3/clusters/persistent?epoch={_at(-1)}&timestamp={_at(6.5)}", headers=ADMIN
    )
    # c was first seen after the timestamp; a and b twice or more, the last time after day 5.5.
    assert sorted(c["id"] for c in persistent.json()["data"]) == ["a", "b"]
    impossible = await client.get(
        f"/deis/v3/clusters/persistent?epoch={_at(2)}&timestamp={_at(1)}", headers=ADMIN
    )
    assert impossible.status_code == 400
    assert impossible.json()["message"] == "impossible filter: epoch must be earlier than timestamp"
