"""Webhook targets: public addresses only (every IPv4 spelling, IPv6-mapped), checked when
configured, again before delivery and at connect time (DNS rebinding); an explicit opt-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_receivers import ALLOW_PRIVATE, Hook, webhook_server
from sqlalchemy import Engine
from typer.testing import CliRunner

from licensewatch.cli import app
from licensewatch.intelligence.alerts.evaluate import send_test
from licensewatch.intelligence.alerts.rules import add_destination
from licensewatch.security import outbound
from licensewatch.security.outbound import TargetRefused, checked_addresses
from licensewatch.storage.database import make_engine

REFUSED = {
    "127.0.0.1": "loopback",
    "127.1": "loopback",
    "2130706433": "loopback",  # decimal
    "0x7f000001": "loopback",  # hex
    "0x7f.0.0.1": "loopback",
    "017700000001": "loopback",  # octal
    "0177.0.0.1": "loopback",
    "[::1]": "loopback",
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]": "loopback",
    "[64:ff9b::7f00:1]": "loopback",  # NAT64
    "localhost": "loopback",
    "169.254.169.254": "link-local",  # cloud metadata
    "[fe80::1]": "link-local",
    "[::ffff:169.254.169.254]": "link-local",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "0xa000001": "private",
    "[fc00::1]": "private",
    "0.0.0.0": "unspecified",  # noqa: S104 - an address to refuse, nothing binds it
    "0": "unspecified",
    "[::]": "unspecified",
    "100.64.0.1": "reserved",  # carrier-grade NAT
    "224.0.0.1": "multicast",
}


@pytest.mark.parametrize(("host", "reason"), REFUSED.items())
def test_non_public_addresses_are_refused_in_every_spelling(host: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason) as refused:
        checked_addresses(host, 443, allow_private=False)
    assert "LICENSEWATCH_ALLOW_PRIVATE_WEBHOOKS=true" in str(refused.value)
    assert checked_addresses(host, 443, allow_private=True)  # the documented opt-in


@pytest.mark.parametrize("host", ["93.184.216.34", "[2606:4700:4700::1111]", "8.8.8.8"])
def test_public_addresses_pass(host: str) -> None:
    assert checked_addresses(host, 443, allow_private=False)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LICENSEWATCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("LICENSEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv(ALLOW_PRIVATE, raising=False)
    created = make_engine(f"sqlite:///{tmp_path / 'home' / 'licensewatch.db'}")
    yield created
    created.dispose()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_server(allow_private=False) as receiver:  # no opt-in unless a test sets it
        yield receiver


def _port(hook: Hook) -> str:
    return hook.url.split(":")[2].split("/")[0]


def test_a_decimal_loopback_url_is_refused_when_configured(engine: Engine, hook: Hook) -> None:
    url = f"http://2130706433:{_port(hook)}/hooks/licensewatch"
    with pytest.raises(TargetRefused, match=r"2130706433 \(127\.0\.0\.1\) is a loopback"):
        add_destination(engine, "ops", "webhook", url)
    file = Path(str(engine.url.database)).with_name("hook.url")
    file.write_text(url)
    result = CliRunner().invoke(app, ["alerts", "destination", "ops", "--webhook-file", str(file)])
    assert result.exit_code == 2
    assert "loopback" in result.output
    assert hook.requests == []


def test_the_opt_in_allows_a_receiver_on_this_host(
    engine: Engine, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE, "true")
    add_destination(engine, "ops", "webhook", f"http://2130706433:{_port(hook)}/x")
    assert send_test(engine, "ops").delivered
    assert len(hook.requests) == 1


def test_delivery_checks_again_when_the_opt_in_is_withdrawn(
    engine: Engine, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_PRIVATE, "true")
    add_destination(engine, "ops", "webhook", hook.url)
    monkeypatch.delenv(ALLOW_PRIVATE)
    notice = send_test(engine, "ops")
    assert not notice.delivered
    assert notice.error is not None
    assert "refused" in notice.error
    assert "loopback" in notice.error
    assert hook.requests == []


@pytest.mark.parametrize("public_answers", [1, 2], ids=["before-delivery", "at-connect"])
def test_dns_rebinding_to_a_private_address_is_refused(
    engine: Engine, hook: Hook, monkeypatch: pytest.MonkeyPatch, public_answers: int
) -> None:
    # DNS is the edge we cannot own here: a resolver that answers public, then loopback
    # (configuration = answer 1, the check before delivery = 2, the connection itself = 3).
    answers: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        assert host == "hooks.rebind.example"
        answers.append("93.184.216.34" if len(answers) < public_answers else "127.0.0.1")
        return [answers[-1]]

    monkeypatch.setattr(outbound, "resolve", rebinding)
    add_destination(engine, "ops", "webhook", f"http://hooks.rebind.example:{_port(hook)}/x")
    notice = send_test(engine, "ops")
    assert not notice.delivered
    assert notice.error is not None
    assert "127.0.0.1" in notice.error
    assert "loopback" in notice.error
    assert hook.requests == []
    assert len(answers) == public_answers + 1  # refused at the very lookup that turned private
