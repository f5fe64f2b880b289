"""Loading client certificates: PEM pairs, combined PEM, PFX, and the errors admins hit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from licensewatch.domain.certificates import (
    CertificateError,
    load_certificate,
    load_certificate_files,
)
from licensewatch.emulator.certs import KeyPair, make_client_certificate, thumbprints

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return make_client_certificate("licensewatch test", NOW + dt.timedelta(days=365))


@pytest.fixture(scope="module")
def other() -> KeyPair:
    return make_client_certificate("someone else", NOW + dt.timedelta(days=365))


def _pfx(pair: KeyPair, password: bytes | None) -> bytes:
    key = serialization.load_pem_private_key(pair.private_key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"lw", key, pair.certificate, None, encryption)


def test_pem_pair_in_two_files(tmp_path: Path, pair: KeyPair) -> None:
    (tmp_path / "cert.pem").write_bytes(pair.certificate_pem)
    (tmp_path / "key.pem").write_bytes(pair.private_key_pem)
    loaded = load_certificate_files(tmp_path / "cert.pem", tmp_path / "key.pem")
    assert loaded.thumbprint == thumbprints(pair.certificate_pem)[0]
    assert loaded.certificate_pem == pair.certificate_pem
    assert b"PRIVATE KEY" in loaded.private_key_pem
    assert abs(loaded.not_after - (NOW + dt.timedelta(days=365))) < dt.timedelta(seconds=2)
    assert not loaded.warnings()
    assert "PRIVATE" not in repr(loaded)


def test_combined_pem_either_order(pair: KeyPair) -> None:
    assert load_certificate(pair.certificate_pem + pair.private_key_pem).thumbprint
    assert load_certificate(pair.private_key_pem + pair.certificate_pem).thumbprint


def test_pfx_with_and_without_password(pair: KeyPair) -> None:
    expected = thumbprints(pair.certificate_pem)[0]
    assert load_certificate(_pfx(pair, b"s3cret"), password=b"s3cret").thumbprint == expected
    assert load_certificate(_pfx(pair, None)).thumbprint == expected


def test_pfx_wrong_or_missing_password(pair: KeyPair) -> None:
    data = _pfx(pair, b"s3cret")
    with pytest.raises(CertificateError, match="wrong PFX password"):
        load_certificate(data, password=b"nope")
    with pytest.raises(CertificateError, match="password-protected"):
        load_certificate(data)


def test_key_not_matching_the_certificate(pair: KeyPair, other: KeyPair) -> None:
    with pytest.raises(CertificateError, match="does not match the certificate"):
        load_certificate(pair.certificate_pem, other.private_key_pem)


def test_certificate_without_key(pair: KeyPair) -> None:
    with pytest.raises(CertificateError, match="only the public certificate"):
        load_certificate(pair.certificate_pem)
    der = pair.certificate.public_bytes(serialization.Encoding.DER)
    with pytest.raises(CertificateError, match="DER certificate without its private key"):
        load_certificate(der)


def test_encrypted_pem_key(pair: KeyPair) -> None:
    key = serialization.load_pem_private_key(pair.private_key_pem, password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    with pytest.raises(CertificateError, match="encrypted"):
        load_certificate(pair.certificate_pem, encrypted)
    with pytest.raises(CertificateError, match="wrong passphrase"):
        load_certificate(pair.certificate_pem, encrypted, b"bad")
    assert load_certificate(pair.certificate_pem, encrypted, b"pass").thumbprint


@pytest.mark.parametrize(
    "garbage", [b"", b"hello world\n", b"\x30\x03\x02\x01\x00", bytes(range(256))]
)
def test_garbage(garbage: bytes) -> None:
    with pytest.raises(CertificateError):
        load_certificate(garbage)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="cannot read"):
        load_certificate_files(tmp_path / "missing.pem")


def test_expired_certificate_loads_with_a_warning() -> None:
    old = make_client_certificate(
        "old", NOW - dt.timedelta(days=1), not_before=NOW - dt.timedelta(days=400)
    )
    loaded = load_certificate(old.certificate_pem + old.private_key_pem)
    assert loaded.is_expired()
    assert "expired" in loaded.warnings()[0]
