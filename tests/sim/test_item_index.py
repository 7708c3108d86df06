"""The simulators' item index: what every page and detail call reads must equal a regrouping
of the platform's SKUs, whatever was seeded, deleted or taken off before or after it was built."""

from __future__ import annotations

import random

from channelsync.sim.simulator import Simulator


def regrouped(sim: Simulator) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for sku in sim.skus.values():
        grouped.setdefault(sku.item_id, []).append(sku.external_id)
    return grouped


def indexed(sim: Simulator) -> dict[str, list[str]]:
    return {item: [s.external_id for s in skus] for item, skus in sim.items().items()}


def test_index_follows_seeds_and_deletions_in_any_order():
    rng = random.Random(7)
    sim = Simulator()
    for i in range(30):
        sim.seed(f"S{i}", 1, 100, item_id=f"I{i % 7}")
    assert indexed(sim) == regrouped(sim)  # built from what is there
    for step in range(300):
        live = list(sim.skus.values())
        roll = rng.random()
        if roll < 0.4 or not live:
            sim.seed(f"N{step}", 1, 100, item_id=f"I{rng.randrange(12)}")
        elif roll < 0.7:
            sim.delete(rng.choice(live).external_id)  # the seller centre: remembered in ``deleted``
        else:
            with sim.lock:
                sim.forget(rng.choice(live))  # an API deletion: gone
        assert indexed(sim) == regrouped(sim), step
    for item, codes in regrouped(sim).items():
        assert [s.external_id for s in sim.item(item)] == codes
    assert sim.item("no such item") is None


def test_a_snapshot_is_not_changed_by_later_deletions():
    sim = Simulator()
    a = sim.seed("A", 1, 100, item_id="I1")
    sim.seed("B", 1, 100, item_id="I1")
    before = sim.items()
    sim.delete(a.external_id)
    assert [s.sku_code for s in before["I1"]] == ["A", "B"]
    assert [s.sku_code for s in sim.item("I1")] == ["B"]
    sim.delete("B")
    assert sim.item("I1") is None and "I1" not in sim.items()
    assert sim.line_sku(type("L", (), {"external_id": a.external_id})()) is a  # a deleted SKU still names its lines
