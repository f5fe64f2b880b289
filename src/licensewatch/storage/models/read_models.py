"""Read models written when a sync publishes: findings per rule with their rows, costs, and
recommendations (also after usage collection)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base


def _tenant_fk() -> ForeignKey:
    return ForeignKey("tenants.id", ondelete="CASCADE")


class FindingSummary(Base):
    """One rule's result for a tenant: counts and money, and the inputs it was computed from.

    `fingerprint` hashes every input of the rule (dataset, names, prices, exclusions, settings and
    for time-dependent rules the day): a reader that computes another one rebuilds the rule.
    Money is JSON text of exact decimals (`intelligence/read_models/codec.py`).
    """

    __tablename__ = "finding_summaries"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    build_ms: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(20))
    fix: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(Integer)  # stored affected rows (finding_rows)
    cost: Mapped[str | None] = mapped_column(Text)  # NULL: a rule without money (hygiene)
    unavailable: Mapped[str | None] = mapped_column(Text)


class FindingRow(Base):
    """One affected user or product of a rule: product rules are read by position, user rules
    by key (their userPrincipalName order), so a delta can replace one user's row in place."""

    __tablename__ = "finding_rows"
    __table_args__ = (Index("ix_finding_rows_tenant_id_rule_key", "tenant_id", "rule", "key"),)

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    products: Mapped[str] = mapped_column(Text)  # JSON list of product names
    units: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[str] = mapped_column(Text)


class CostSummary(Base):
    """A tenant's cost totals and the fingerprint of the inputs they were computed from."""

    __tablename__ = "cost_summaries"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    build_ms: Mapped[int] = mapped_column(Integer)
    purchased: Mapped[str] = mapped_column(Text)
    assigned: Mapped[str] = mapped_column(Text)
    unassigned: Mapped[str] = mapped_column(Text)


class CostLine(Base):
    """A product's cost line (section "products") or one value of a breakdown ("by:ATTRIBUTE").

    For a breakdown, `purchased` holds the licences and `costs` one cost; a product line has
    its three costs (purchased, assigned, unassigned).
    """

    __tablename__ = "cost_lines"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    section: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    purchased: Mapped[int] = mapped_column(BigInteger)
    assigned: Mapped[int] = mapped_column(BigInteger)
    unassigned: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[str | None] = mapped_column(Text)
    costs: Mapped[str] = mapped_column(Text)  # JSON list of costs


class RecommendationSummary(Base):
    """A tenant's recommendations in sum: counts and savings by action and product, as of when.

    `totals` is JSON: one group per (action, product, confidence) with its count and its monthly
    and yearly savings by currency, so the Savings page's sums (filtered or not) never scan rows.
    """

    __tablename__ = "recommendation_summaries"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    build_ms: Mapped[int] = mapped_column(Integer)
    usage_as_of: Mapped[date | None] = mapped_column(Date)  # the usage reports' refresh date
    count: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)  # distinct users with a recommendation
    totals: Mapped[str] = mapped_column(Text)
    # JSON: SKU id → [distinct users a recommendation frees a seat of, users a downgrade moves
    # onto it] (domain/renewal_plan.reclaim_counts): what the renewal plan reads.
    seats: Mapped[str] = mapped_column(Text)
    # The digest of the tenant-wide facts every user's rules read (products, plans, groups, the
    # usage state...): a delta that leaves it equal updates the changed users' rows only.
    facts: Mapped[str | None] = mapped_column(String(64))


class RecommendationRow(Base):
    """One recommendation at its position in the tenant's order (most money first: keyset)."""

    __tablename__ = "recommendation_rows"
    __table_args__ = (
        Index("ix_recommendation_rows_rank", "rank", "tenant_id", "position"),
        Index("ix_recommendation_rows_order", "tenant_id", "sort_key"),
        Index("ix_recommendation_rows_user", "tenant_id", "user_principal_name"),
    )

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Minus the yearly saving in cents (0: none): the order across tenants, ascending.
    rank: Mapped[int] = mapped_column(BigInteger)
    user_principal_name: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str] = mapped_column(String(10))
    sku_id: Mapped[str] = mapped_column(String(64))
    sku_part_number: Mapped[str] = mapped_column(Text)
    product_name: Mapped[str] = mapped_column(Text)
    target_sku_id: Mapped[str | None] = mapped_column(String(64))
    target_sku_part_number: Mapped[str | None] = mapped_column(Text)
    target_product_name: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # JSON object, in the rule's order
    monthly_saving: Mapped[str | None] = mapped_column(String(40))  # exact decimal text
    yearly_saving: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    # The order as bytes (`recommendations_store.sort_key`): where a delta places a new row.
    sort_key: Mapped[bytes | None] = mapped_column(LargeBinary)


class CostHolder(Base):
    """How many users with one value of a breakdown's attribute hold one product (assigned).

    The costs' breakdowns are computed from these counts, so a delta moves the counts of the
    users it changed (their old values and products out, their new ones in) instead of grouping
    every user of the tenant again.
    """

    __tablename__ = "cost_holders"

    tenant_id: Mapped[int] = mapped_column(_tenant_fk(), primary_key=True)
    attribute: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), primary_key=True)
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    holders: Mapped[int] = mapped_column(BigInteger)
