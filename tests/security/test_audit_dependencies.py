"""pip-audit of the installed environment: no dependency with a known vulnerability."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import in_ci


@pytest.mark.slow
def test_no_installed_dependency_has_a_known_vulnerability() -> None:
    command = [sys.executable, "-m", "pip_audit", "--skip-editable", "--progress-spinner", "off"]
    env = dict(os.environ)
    if env.get("PIP_CERT"):  # behind a TLS-inspecting proxy pip-audit (requests) needs pip's CA;
        env["REQUESTS_CA_BUNDLE"] = env["PIP_CERT"]  # conftest removed the variable for our code
    result = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, timeout=600, check=False,
        env=env,
    )  # fmt: skip
    if not result.stdout.strip():  # no report at all: PyPI's JSON API was unreachable
        reason = f"pip-audit could not reach PyPI: {result.stderr.strip().splitlines()[-1:]}"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    report = json.loads(result.stdout)
    vulnerable = {
        f"{dep['name']} {dep['version']}": [v["id"] for v in dep["vulns"]]
        for dep in report["dependencies"]
        if dep.get("vulns")
    }
    assert vulnerable == {}, f"upgrade these: {vulnerable}"
    audited = [dep for dep in report["dependencies"] if "skip_reason" not in dep]
    assert report["dependencies"], "pip-audit saw no installed distribution"
    # Versions newer than PyPI's index (private mirrors) are skipped, not hidden: print them.
    print(f"pip-audit: {len(audited)} of {len(report['dependencies'])} distributions audited")
