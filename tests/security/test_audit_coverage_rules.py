"""The dependency audit's verdict: a report that checked nothing (or too little) never passes."""

from __future__ import annotations

from typing import Any

from audit_coverage import MIN_COVERAGE, Outcome, judge, runtime_dependencies

REQUIRED = {"httpx", "cryptography"}


def _skipped(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} (1.0)",
    }


def _checked(name: str, *vulns: str) -> dict[str, Any]:
    return {"name": name, "version": "1.0", "vulns": [{"id": v} for v in vulns], "fixes": []}


def test_zero_of_57_checked_is_not_a_pass() -> None:
    # What main's test accepted: pip-audit printed "No known vulnerabilities found".
    report = {"dependencies": [_skipped(f"pkg{i}") for i in range(55)] + [_skipped("httpx")]}
    report["dependencies"].append(_skipped("cryptography"))
    verdict = judge(report, REQUIRED)
    assert verdict.outcome == Outcome.UNAVAILABLE
    assert "checked 0 of 57" in verdict.message
    assert "means nothing" in verdict.message


def test_too_few_checked_fails_and_says_which() -> None:
    checked = [_checked(f"ok{i}") for i in range(8)] + [_checked("httpx")]
    report = {"dependencies": [*checked, _skipped("cryptography")]}
    verdict = judge(report, REQUIRED)
    assert verdict.outcome == Outcome.TOO_FEW  # 90 % checked, but a runtime dependency is not
    assert "not checked: cryptography" in verdict.message
    many_skipped = [_checked("httpx"), _checked("cryptography")] + [
        _skipped(f"private{i}") for i in range(3)
    ]
    verdict = judge({"dependencies": many_skipped}, REQUIRED)
    assert verdict.outcome == Outcome.TOO_FEW
    assert "checked 2 of 5" in verdict.message
    assert f"{MIN_COVERAGE:.0%}" in verdict.message


def test_enough_checked_passes_and_a_vulnerability_fails() -> None:
    clean = [_checked(f"ok{i}") for i in range(18)] + [_checked("httpx"), _checked("cryptography")]
    verdict = judge({"dependencies": [*clean, _skipped("private")]}, REQUIRED)
    assert verdict.outcome == Outcome.PASSED
    assert "checked 20 of 21" in verdict.message
    verdict = judge({"dependencies": [*clean, _checked("jinja2", "GHSA-xxxx")]}, REQUIRED)
    assert verdict.outcome == Outcome.VULNERABLE
    assert "GHSA-xxxx" in verdict.message


def test_no_report_at_all_is_unavailable() -> None:
    verdict = judge(None, REQUIRED, "osv: Failed to resolve 'api.osv.dev'")
    assert verdict.outcome == Outcome.UNAVAILABLE
    assert "api.osv.dev" in verdict.message


def test_runtime_dependencies_are_read_from_pyproject() -> None:
    names = runtime_dependencies()
    assert {"httpx", "cryptography", "psycopg", "pyjwt", "uvloop"} <= names
