"""The rules of the change history: which assignment moves are gained, lost or state changes."""

from __future__ import annotations

import pytest

from licensewatch.storage.models import ChangeKind
from licensewatch.sync.changes import AssignmentState, contribution, transition

ACTIVE: AssignmentState = ("Active", None)
WITH_ERROR: AssignmentState = ("ActiveWithError", "MutuallyExclusiveViolation")
COUNT: AssignmentState = ("Error", "CountViolation")
DEPENDENCY: AssignmentState = ("Error", "DependencyViolation")
DISABLED: AssignmentState = ("Disabled", None)


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (None, ACTIVE, ChangeKind.LICENCE_ADDED),
        (None, WITH_ERROR, ChangeKind.LICENCE_ADDED),
        (COUNT, ACTIVE, ChangeKind.LICENCE_ADDED),
        (DISABLED, ACTIVE, ChangeKind.LICENCE_ADDED),
        (ACTIVE, None, ChangeKind.LICENCE_REMOVED),
        (ACTIVE, COUNT, ChangeKind.LICENCE_REMOVED),
        (ACTIVE, DISABLED, ChangeKind.LICENCE_REMOVED),
        (None, COUNT, ChangeKind.ASSIGNMENT_STATE_CHANGED),
        (None, DISABLED, ChangeKind.ASSIGNMENT_STATE_CHANGED),
        (COUNT, DEPENDENCY, ChangeKind.ASSIGNMENT_STATE_CHANGED),
        (COUNT, None, ChangeKind.ASSIGNMENT_STATE_CHANGED),
        (ACTIVE, WITH_ERROR, ChangeKind.ASSIGNMENT_STATE_CHANGED),
        (ACTIVE, ACTIVE, None),
        (COUNT, COUNT, None),
    ],
)
def test_transition_kinds(
    before: AssignmentState | None, after: AssignmentState | None, kind: ChangeKind | None
) -> None:
    change = transition(before, after)
    assert (change[0] if change else None) == kind
    if change is not None:
        error = (after or before or (None, None))[1]
        assert change[1] == {
            "from": before[0] if before else None,
            "to": after[0] if after else None,
            "error": error,
        }


def test_disabled_is_neither_held_nor_an_error() -> None:
    shares = contribution(
        {("a", None): DISABLED, ("b", "g"): COUNT, ("c", None): ACTIVE, ("c", "g"): WITH_ERROR}
    )
    assert shares == {"a": (0, 0, 0), "b": (0, 0, 1), "c": (1, 1, 0)}
