"""Hostile CLI input: malformed IDs, odd Unicode, wrong certificates, huge input: exit 2."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from typer.testing import CliRunner, Result

from licensewatch.cli import app
from licensewatch.emulator.certs import KeyPair, make_client_certificate

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "4d856d1f-0000-4000-8000-000000000001"
SECRET = "abC8Q~BadInputSecretValue.0123456789_-xy"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LICENSEWATCH_HOME", str(tmp_path / "home"))
    for name in ("LICENSEWATCH_DATABASE_URL", "LICENSEWATCH_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def invoke(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def refused(result: Result, *words: str) -> None:
    """Exit 2 and exactly one `error:` line on stderr naming what to fix."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error:"), lines
    for word in words:
        assert word in lines[0], lines[0]


def add(*options: str, stdin: str | None = SECRET, name: str = "t1") -> Result:
    base = {"--tenant-id": TENANT, "--client-id": CLIENT}
    rest: list[str] = []
    pairs = list(options)
    while pairs:
        flag = pairs.pop(0)
        if flag in base and pairs:
            base[flag] = pairs.pop(0)
        else:
            rest.append(flag)
    flat = [part for pair in base.items() for part in pair]
    secret = ["--client-secret-stdin"] if stdin is not None and "--certificate" not in rest else []
    return invoke("tenant", "add", name, *flat, *secret, *rest, stdin=stdin)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db4"], ["neither a GUID nor a domain"]),
        (["--tenant-id", "72f988bf86f141af91ab2d7cd011db47x"], ["GUID"]),
        (["--tenant-id", "contoso..onmicrosoft.com"], ["contoso..onmicrosoft.com"]),
        (["--tenant-id", "-contoso.com"], ["-contoso.com"]),
        (["--tenant-id", "contoso"], ["contoso"]),
        (["--tenant-id", "https://login.microsoftonline.com/contoso.com"], ["URL"]),
        (["--tenant-id", "72f988bf\u201386f1-41af-91ab-2d7cd011db47"], ["U+2013"]),
        (["--tenant-id", "\u200f72f988bf-86f1-41af-91ab-2d7cd011db47"], ["U+200F"]),
        (["--tenant-id", "contoso.com\u202e"], ["U+202E"]),
        (["--client-id", "4d856d1f-0000-4000-8000-00000000000"], ["Application (client) ID"]),
        (["--client-id", "{4d856d1f-0000-4000-8000-000000000001"], ["Application (client) ID"]),
        (["--tenant-id", "x" * 100_000], ["neither a GUID nor a domain"]),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_malformed_ids_and_odd_unicode(home: Path, options: list[str], words: list[str]) -> None:
    refused(add(*options), *words)


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        ("   \t \n", ["empty"]),
        ("\u200b\u200b\n", ["empty"]),
        ("4d856d1f-0000-4000-8000-000000000099", ["Secret ID"]),
        ("abC8Q~value\u200fwith.an.RTL.mark", ["non-ASCII"]),
        ("a" * 2_000_000, ["long"]),
        ("abC8Q~line one\nline two\n", ["line"]),
    ],
    ids=["whitespace", "zero-width", "secret-id", "rtl-mark", "two-megabytes", "two-lines"],
)
def test_bad_secret_values(home: Path, stdin: str, words: list[str]) -> None:
    refused(add(stdin=stdin), *words)


def test_invisible_characters_around_ids_are_cleaned(home: Path) -> None:
    result = add("--tenant-id", f"\ufeff{TENANT.upper()}\u200b ", "--client-id", f" {CLIENT}\u00ad")
    assert result.exit_code == 0, result.output
    shown = json.loads(invoke("tenant", "show", "t1", "--format", "json").stdout)
    assert (shown["tenant_id"], shown["client_id"]) == (TENANT, CLIENT)


def test_combining_characters_make_an_idn_domain(home: Path) -> None:
    assert add("--tenant-id", "conto\u0301so.com", name="idn").exit_code == 0
    shown = json.loads(invoke("tenant", "show", "idn", "--format", "json").stdout)
    assert shown["tenant_id"] == "xn--contso-exa.com"  # one stored form: IDNA (punycode)


@pytest.mark.parametrize("name", ["", "   ", "a/b", "x" * 10_000, "bad\u202ename", "tab\tname"])
def test_bad_tenant_names(home: Path, name: str) -> None:
    refused(add(name=name))


def _pair() -> KeyPair:
    return make_client_certificate("lw", dt.datetime.now(dt.UTC) + dt.timedelta(days=90))


def _pfx(pair: KeyPair, password: bytes | None) -> bytes:
    key = serialization.load_pem_private_key(pair.private_key_pem, None)
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"lw",
        key,  # type: ignore[arg-type]
        pair.certificate,
        None,
        encryption,
    )


CERTIFICATE_CASES: dict[str, tuple[Callable[[Path, KeyPair], list[str]], str | None, str]] = {
    "text file": (lambda d, p: [_write(d / "c.pem", b"hello")], None, "neither PEM nor PFX"),
    "empty file": (lambda d, p: [_write(d / "c.pem", b"")], None, "neither PEM nor PFX"),
    "public cert only": (
        lambda d, p: [_write(d / "c.pem", p.certificate_pem)],
        None,
        "no private key",
    ),
    "DER cert only": (
        lambda d, p: [_write(d / "c.cer", p.certificate.public_bytes(serialization.Encoding.DER))],
        None,
        "DER certificate",
    ),
    "key of another cert": (
        lambda d, p: [
            _write(d / "c.pem", p.certificate_pem),
            "--private-key",
            _write(d / "k.pem", _pair().private_key_pem),
        ],
        None,
        "does not match",
    ),
    "PFX wrong password": (
        lambda d, p: [_write(d / "c.pfx", _pfx(p, b"right")), "--certificate-password-stdin"],
        "wrong\n",
        # All of it: the redaction once masked everything after "password:".
        "wrong PFX password; pipe the right one with --certificate-password-stdin",
    ),
    "PFX password missing": (
        lambda d, p: [_write(d / "c.pfx", _pfx(p, b"right"))],
        None,
        "password-protected",
    ),
    "damaged PFX": (
        lambda d, p: [_write(d / "c.pfx", _pfx(p, None)[:200])],
        None,
        "PFX",
    ),
    "missing file": (lambda d, p: [str(d / "absent.pem")], None, "cannot read"),
    "a directory": (lambda d, p: [str(d)], None, "not a regular file"),
    # Read in full before: 2.2 GB of memory for /dev/zero, forever for a FIFO.
    "a device": (lambda d, p: ["/dev/zero"], None, "not a regular file"),
    "a FIFO": (lambda d, p: [_fifo(d / "c.pem")], None, "not a regular file"),
    "a huge file": (lambda d, p: [_write(d / "c.pem", b"0" * (2 << 20))], None, "larger than"),
}


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return str(path)


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("case", list(CERTIFICATE_CASES))
def test_wrong_certificates(home: Path, tmp_path: Path, case: str) -> None:
    build, stdin, words = CERTIFICATE_CASES[case]
    files = build(tmp_path, _pair())
    result = add("--certificate", *files, stdin=stdin)
    refused(result, words)


@pytest.mark.parametrize("interval", ["99999999999999999d", "1e400s", "inf", "nan", "400d"])
def test_absurd_sync_intervals_are_refused(home: Path, interval: str) -> None:
    refused(add("--sync-interval", interval), "--sync-interval")


@pytest.mark.parametrize(
    ("bundle", "words"),
    [("/dev/zero", "is not a regular file"), ("notes.txt", "holds no PEM certificate")],
)
def test_odd_ca_bundles_are_refused_without_reading_them_whole(
    home: Path, tmp_path: Path, bundle: str, words: str
) -> None:
    if not bundle.startswith("/"):
        (tmp_path / bundle).write_text("not a certificate")
        bundle = str(tmp_path / bundle)
    refused(add("--ca-bundle", bundle), f"CA bundle {bundle} {words}")
