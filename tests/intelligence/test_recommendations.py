"""Recommendations after a real sync over TLS: exactly the emulator's expected ones per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from intelligence_world import start_and_sync
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator.truth import ground_truth
from licensewatch.intelligence.recommendations import Recommendation, tenant_recommendations


def _shape(found: list[Recommendation]) -> list[dict[str, Any]]:
    items = [
        {
            "user_principal_name": r.user_principal_name,
            "action": r.action,
            "sku_part_number": r.sku_part_number,
            "target_sku_part_number": r.target_sku_part_number,
            "confidence": r.confidence,
        }
        for r in found
    ]
    return sorted(items, key=lambda i: (i["user_principal_name"].lower(), i["sku_part_number"]))


@pytest.mark.parametrize("scenario", ["small-office", "enterprise", "messy", "lifecycle"])
def test_recommendations_equal_the_truth(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path, scenario: str
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario=scenario, users=60)
    expected = ground_truth(synced.tenant)["usage"]
    found = tenant_recommendations(engine)
    assert _shape(found) == expected["recommendations"]
    assert {r["action"] for r in expected["recommendations"]} >= {"remove"}
