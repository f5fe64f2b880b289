"""Lists of users stored at publish in the users list's order: each product's holders, and the
users who hold no licence.

`product_holders`: one row per (dataset, product, user) holding it in any state (the product
page's list); `unlicensed_users`: one row per user of the dataset holding no licence in an
assigned state (the users list's `licensed=no`). Both are keyed as the users list walks users:
run 0 the users without a UPN (key: their id), run 1 the others (key: lower(UPN)), so a page is
one range of the primary key however few of the tenant's users are in the list.
`product_holder_builds` says which dataset and publish (`tenants.updated_at`) both describe
(they are written together, in one savepoint): a reader that finds another one walks the users
instead (web/queries/holders.py, web/queries/user_list.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from licensewatch.storage.models.base import Base


class ProductHolder(Base):
    """A user holding a product in one dataset, with the users list's sort key."""

    __tablename__ = "product_holders"
    # A delta replaces the rows of the users it changed: found by user, not by the list's key.
    __table_args__ = (Index("ix_product_holders_dataset_id_user_id", "dataset_id", "user_id"),)

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True
    )
    sku_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no UPN, 1: by UPN
    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # lower(UPN), or the id
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class UnlicensedUser(Base):
    """A user holding no licence in an assigned state in one dataset, with the list's sort key."""

    __tablename__ = "unlicensed_users"
    # A delta replaces the rows of the users it changed: found by user, not by the list's key.
    __table_args__ = (Index("ix_unlicensed_users_dataset_id_user_id", "dataset_id", "user_id"),)

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True
    )
    run: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no UPN, 1: by UPN
    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # lower(UPN), or the id
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class ProductHolderBuild(Base):
    """What a tenant's stored lists (holders, unlicensed users) describe: its dataset as of one
    publish."""

    __tablename__ = "product_holder_builds"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(Integer)
    data_at: Mapped[datetime]  # the tenant's updated_at when they were written
