"""The recommendations memo: reused while its inputs stand, recomputed as soon as one changes."""

from __future__ import annotations

from pathlib import Path

from intelligence_world import start_and_sync, sync
from sqlalchemy import Engine

from emulator_fixtures import EmulatorFactory
from licensewatch.emulator import mutations
from licensewatch.intelligence.exclusions import exclude, exclude_holder
from licensewatch.intelligence.prices import set_price
from licensewatch.intelligence.recommendation_cache import recommendations
from licensewatch.intelligence.recommendations import Recommendation, recommendations_in_session
from licensewatch.storage.database import session_scope
from licensewatch.storage.models import Tenant


def _both(engine: Engine, name: str) -> tuple[list[Recommendation], list[Recommendation]]:
    """(memo, a fresh computation) in one snapshot."""
    with session_scope(engine, write=False) as session:
        tenant = session.query(Tenant).filter(Tenant.name == name).one()
        return list(recommendations(session, tenant)), list(
            recommendations_in_session(session, tenant)
        )


def test_every_input_change_is_seen(
    make_emulator: EmulatorFactory, engine: Engine, tmp_path: Path
) -> None:
    synced = start_and_sync(make_emulator, engine, tmp_path, scenario="messy", users=80)
    name, model = synced.tenant.domain, synced.tenant
    memo, fresh = _both(engine, name)
    assert memo == fresh
    assert len(memo) > 2, "the messy scenario has recommendations"
    assert _both(engine, name)[0] == memo  # unchanged inputs: the same answer

    set_price(engine, "SPE_E3", "36.00", "EUR", "monthly")  # a price: savings change
    memo, fresh = _both(engine, name)
    assert memo == fresh
    removed = next(r for r in memo if r.action == "remove")
    exclude_holder(engine, "user", removed.user_principal_name)  # an excluded user
    memo, fresh = _both(engine, name)
    assert memo == fresh
    assert removed.user_principal_name not in {r.user_principal_name for r in memo}
    product = memo[0].sku_id
    exclude(engine, product, "everywhere")  # an excluded product
    memo, fresh = _both(engine, name)
    assert memo == fresh
    assert product not in {r.sku_id for r in memo}

    holder = next(u for _, u in model.iter_users_from(0) if u.account_enabled and u.assignments)
    mutations.set_enabled(model, holder.id, False)  # a new sync: a new disabled holder
    sync(engine, synced.emulator, model, synced.tenant_pk)
    memo, fresh = _both(engine, name)
    assert memo == fresh
    assert holder.user_principal_name in {r.user_principal_name for r in memo}
