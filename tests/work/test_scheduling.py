"""The scheduler's choice, as a pure function: urgency order, complete component sets, and
what a remoteci has already claimed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aerodrome.work.scheduling import components_key, definition_types, plan_work

TOPIC = uuid.uuid4()
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _definition(
    name: str, priority: int, age: int, types: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "name": name,
        "topic_id": TOPIC,
        "priority": priority,
        "created_at": EPOCH - timedelta(days=age),
        "component_types": types or [],
        "topic_component_types": ["ocp", "storage"],
    }


def _latest(*types: str) -> dict[tuple[uuid.UUID, str], dict[str, Any]]:
    return {(TOPIC, t): {"id": uuid.uuid4(), "type": t} for t in types}


def test_highest_priority_first_then_oldest() -> None:
    low = _definition("low", 1, age=10)
    high_new = _definition("high-new", 5, age=1)
    high_old = _definition("high-old", 5, age=3)
    planned = plan_work([low, high_new, high_old], _latest("ocp", "storage"), set())
    assert [w.definition["name"] for w in planned] == ["high-old", "high-new", "low"]


def test_definition_types_default_to_the_topics() -> None:
    assert definition_types(_definition("all", 0, 0)) == ["ocp", "storage"]
    assert definition_types(_definition("one", 0, 0, ["ocp"])) == ["ocp"]


def test_a_missing_type_leaves_the_definition_out() -> None:
    needs_both = _definition("both", 9, 0)
    needs_ocp = _definition("ocp-only", 1, 0, ["ocp"])
    planned = plan_work([needs_both, needs_ocp], _latest("ocp"), set())
    assert [w.definition["name"] for w in planned] == ["ocp-only"]
    assert [c["type"] for c in planned[0].components] == ["ocp"]


def test_claimed_work_is_skipped_until_components_change() -> None:
    definition = _definition("d", 0, 0)
    latest = _latest("ocp", "storage")
    (work,) = plan_work([definition], latest, set())
    assert plan_work([definition], latest, {(definition["id"], work.key)}) == []
    newer = {**latest, (TOPIC, "ocp"): {"id": uuid.uuid4(), "type": "ocp"}}
    (again,) = plan_work([definition], newer, {(definition["id"], work.key)})
    assert again.key != work.key


def test_components_key_ignores_order() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert components_key([a, b]) == components_key([b, a]) != components_key([a])
    assert len(components_key([])) == 64
