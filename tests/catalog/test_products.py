"""Products and their owners (DCI's product owner role)."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN
from tests.helpers import create, team_with_user


async def test_product_owners_manage_their_product_only(client: httpx.AsyncClient) -> None:
    owners, olga = await team_with_user(client, "rhel-owners", "olga")
    others, oscar = await team_with_user(client, "others", "oscar")
    rhel = await create(client, "products", {"name": "RHEL", "team_id": owners["id"]})
    ocp = await create(client, "products", {"name": "OCP"})
    assert (
        await client.post("/api/v1/products", json={"name": "X"}, headers=olga)
    ).status_code == 403

    renamed = await client.put(
        f"/api/v1/products/{rhel['id']}",
        json={"label": "Red Hat Enterprise Linux"},
        headers={**olga, "If-Match": rhel["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["product"]["label"] == "Red Hat Enterprise Linux"
    rhel = renamed.json()["product"]

    not_theirs = await client.put(
        f"/api/v1/products/{ocp['id']}",
        json={"label": "x"},
        headers={**olga, "If-Match": ocp["etag"]},
    )
    assert not_theirs.status_code == 403
    by_other = await client.put(
        f"/api/v1/products/{rhel['id']}",
        json={"label": "x"},
        headers={**oscar, "If-Match": rhel["etag"]},
    )
    assert by_other.status_code == 403
    handed_over = await client.put(
        f"/api/v1/products/{rhel['id']}",
        json={"team_id": others["id"]},
        headers={**olga, "If-Match": rhel["etag"]},
    )
    assert handed_over.status_code == 403
    # Products are visible to all; the owning team is embedded only for who may see it.
    for headers, owner in ((oscar, None), (olga, "rhel-owners"), (ADMIN, "rhel-owners")):
        listed = (await client.get("/api/v1/products?embed=team&sort=name", headers=headers)).json()
        assert [(p["name"], (p["team"] or {}).get("name")) for p in listed["products"]] == [
            ("OCP", None),
            ("RHEL", owner),
        ]
    stored = (await client.get("/api/v1/products/RHEL", headers=ADMIN)).json()["product"]
    assert stored["team_id"] == owners["id"]
    assert stored["label"] == "Red Hat Enterprise Linux"
