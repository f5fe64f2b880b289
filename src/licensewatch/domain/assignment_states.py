"""Which licenseAssignmentState values give the user the product (held, uses a unit).

Microsoft Graph's licenseAssignmentState.state is one of Active, ActiveWithError, Disabled and
Error (https://learn.microsoft.com/graph/api/resources/licenseassignmentstate). An assignment in
Error was not applied (e.g. CountViolation: no unit left), and a Disabled one is switched off:
neither gives the product nor consumes a unit. ActiveWithError is applied, with a problem to fix.
"""

from __future__ import annotations

ASSIGNED_STATES = ("Active", "ActiveWithError")
