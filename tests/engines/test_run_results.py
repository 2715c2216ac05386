"""A batch's run results written on each engine (SQLite: one prepared UPDATE a result;
PostgreSQL: one UPDATE joined to an array per column): every column as the ORM would write it,
and a run recorded first by another delivery is left as that delivery wrote it while the
others are written."""

from __future__ import annotations

import json

import pytest

from tests.engines.test_crashes import make_automation

pytestmark = pytest.mark.timeout(300)


def test_a_batch_writes_every_result_but_the_one_another_delivery_recorded_first(
    portal, sandbox_factory
):
    shop = sandbox_factory(seed={"customers": 1, "products": 4, "orders": 0})
    skus = [row["sku"] for _, row in sorted(shop.store.products.rows.items())]
    portal.migrate()
    ids = make_automation(
        portal,
        shop,
        "Look up products",
        steps=[("get_product_by_sku", {"sku": "{{ trigger.sku }}"})],
        trigger_id="product_created",
    )
    printed = portal.shell(
        "from tests.engines.scenario import run_batch_one_changed; "
        f"run_batch_one_changed({ids['automation']}, {skus!r})"
    )
    stored = json.loads(printed.strip().splitlines()[-1])
    first, *others = skus
    assert stored[first]["status"] == "succeeded"
    assert stored[first]["error_message"] == "recorded by the other delivery"
    assert stored[first]["output_sku"] is None
    for sku in others:
        assert stored[sku] == {
            "status": "succeeded",
            "attempts": 1,
            "error_message": "",
            "output_sku": sku,
            "response_sku": sku,
            "attempt_log": 1,
            "finished": True,
            "next_attempt_at": None,
            "inputs": {"sku": sku},
            "duration_ms": True,
        }, sku
