"""The Core views of `core_tables.py` name real columns of the ORM models, with the same types."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.sql import TableClause

from licensewatch.storage import core_tables
from licensewatch.storage.coltypes import UTCDateTime
from licensewatch.storage.models import Base

VIEWS = [value for value in vars(core_tables).values() if isinstance(value, TableClause)]


def _kind(column_type: object) -> type:
    for kind in (UTCDateTime, Boolean, Integer):
        if isinstance(column_type, kind):
            return kind
    assert isinstance(column_type, String | Text), column_type
    return String


def test_every_view_column_is_a_model_column_of_the_same_kind() -> None:
    assert len(VIEWS) >= 10  # the module's tables were found
    for view in VIEWS:
        model = Base.metadata.tables[view.name]
        for column in view.columns:
            assert column.name in model.columns, f"{view.name}.{column.name}"
            expected = _kind(model.columns[column.name].type)
            assert _kind(column.type) is expected, f"{view.name}.{column.name}"


def test_enums_are_the_models_own() -> None:
    from licensewatch.storage.models import CredentialKind, SyncStatus

    assert SyncStatus is core_tables.SyncStatus
    assert CredentialKind is core_tables.CredentialKind
