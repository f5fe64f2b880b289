"""Client certificates for app-only sign-in: load PEM or PFX, check the pair, SHA-1 thumbprint."""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from licensewatch.domain.identifiers import InvalidInput

_PEM_CERT = b"-----BEGIN CERTIFICATE-----"
_PEM_KEY_MARK = b"PRIVATE KEY-----"
_ENCRYPTED_PEM = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")
# A PEM or PFX is a few KB and a CA bundle a few hundred: reading more is an error (or /dev/zero).
MAX_CERTIFICATE_FILE = 1024 * 1024


class CertificateError(InvalidInput):
    """A certificate or key the admin has to replace or convert; the message says how."""


@dataclass(frozen=True)
class ClientCertificate:
    """The key (PKCS#8 PEM, unencrypted here: it is encrypted at rest) and the certificate."""

    private_key_pem: bytes
    certificate_pem: bytes
    thumbprint: str  # SHA-1 of the DER, uppercase hex: what the Entra portal lists
    not_after: dt.datetime
    subject: str

    def __repr__(self) -> str:  # never show the key, even in a debugger or a traceback
        return f"ClientCertificate(thumbprint={self.thumbprint!r}, not_after={self.not_after:%F})"

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.not_after <= (now or dt.datetime.now(dt.UTC))

    def warnings(self, now: dt.datetime | None = None) -> list[str]:
        moment = now or dt.datetime.now(dt.UTC)
        if self.is_expired(moment):
            return [
                f"certificate {self.thumbprint} expired on {self.not_after:%Y-%m-%d}; Entra will "
                "refuse it: upload a new certificate to the app registration, then `tenant update`"
            ]
        if self.not_after - moment < dt.timedelta(days=30):
            return [f"certificate {self.thumbprint} expires on {self.not_after:%Y-%m-%d}"]
        return []


def thumbprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra identifies certs by SHA-1


def _same_key(key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> bool:
    public = certificate.public_key()
    return (
        isinstance(public, rsa.RSAPublicKey)
        and public.public_numbers() == key.public_key().public_numbers()
    )


def _bundle(key: object, certificates: list[x509.Certificate]) -> ClientCertificate:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(
            "the private key is not an RSA key; Entra app certificates must use RSA keys"
        )
    if not certificates:
        raise CertificateError("no certificate found next to the private key")
    matching = [cert for cert in certificates if _same_key(key, cert)]
    if not matching:
        raise CertificateError(
            "the private key does not match the certificate: use the key generated with this "
            "certificate (compare `openssl x509 -noout -modulus` and `openssl rsa -noout -modulus`)"
        )
    cert = matching[0]
    return ClientCertificate(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
        thumbprint=thumbprint(cert),
        not_after=cert.not_valid_after_utc,
        subject=cert.subject.rfc4514_string(),
    )


def _pem_key(data: bytes, password: bytes | None) -> object:
    if any(mark in data for mark in _ENCRYPTED_PEM) and password is None:
        raise CertificateError(
            "the PEM private key is encrypted: pipe its passphrase with "
            "--certificate-password-stdin, or decrypt it first "
            "(`openssl pkey -in key.pem -out key-plain.pem`)"
        )
    try:
        return serialization.load_pem_private_key(data, password=password)
    except TypeError:
        # The key is not encrypted but a password was given: load it without one.
        return serialization.load_pem_private_key(data, password=None)
    except ValueError:
        if password is not None:
            raise CertificateError(
                "cannot decrypt the PEM private key: wrong passphrase, or the key is damaged"
            ) from None
        raise CertificateError(
            "the PEM private key is damaged or in an unsupported format"
        ) from None


def load_pem(
    certificate_data: bytes, key_data: bytes | None = None, password: bytes | None = None
) -> ClientCertificate:
    """A certificate and its key from one combined PEM, or from two PEM files."""
    if _PEM_CERT not in certificate_data:
        raise CertificateError(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in the certificate file"
        )
    try:
        certificates = x509.load_pem_x509_certificates(certificate_data)
    except ValueError:
        raise CertificateError("the PEM certificate is damaged; export it again") from None
    key_source = key_data if key_data is not None else certificate_data
    if _PEM_KEY_MARK not in key_source:
        raise CertificateError(
            "no private key found: this is only the public certificate (what you upload to "
            "Entra); give the private key with --private-key FILE.pem, or use a PFX file"
        )
    return _bundle(_pem_key(key_source, password), certificates)


def load_pfx(data: bytes, password: bytes | None) -> ClientCertificate:
    """A PKCS#12 (.pfx/.p12) file with its key and certificate."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password or None)
    except ValueError as error:
        if "password" in str(error).lower() or "decrypt" in str(error).lower():
            # Worded without "password:" - the redaction of logs and errors would mask what follows.
            hint = "wrong PFX password" if password else "the PFX file is password-protected"
            raise CertificateError(
                f"{hint}; pipe the right one with --certificate-password-stdin"
            ) from None
        raise CertificateError("the file is not a valid PFX/PKCS#12 file") from None
    if key is None:
        raise CertificateError(
            "the PFX file holds no private key; export it again including the key"
        )
    certificates = [c for c in [cert, *extra] if c is not None]
    return _bundle(key, certificates)


def load_certificate(
    certificate_data: bytes, key_data: bytes | None = None, password: bytes | None = None
) -> ClientCertificate:
    """Detects PEM vs PFX by content (not by file name)."""
    if _PEM_CERT in certificate_data or _PEM_KEY_MARK in certificate_data:
        return load_pem(certificate_data, key_data, password)
    if key_data is not None:
        raise CertificateError(
            "--private-key goes with a PEM certificate; a PFX file already holds its key"
        )
    if certificate_data[:1] == b"\x30":
        try:
            x509.load_der_x509_certificate(certificate_data)
        except ValueError:
            return load_pfx(certificate_data, password)
        raise CertificateError(
            "this is a DER certificate without its private key (the .cer you upload to Entra); "
            "give the PEM certificate with --private-key, or a PFX file"
        )
    raise CertificateError("the certificate file is neither PEM nor PFX/PKCS#12")


def read_small_file(path: Path, limit: int = MAX_CERTIFICATE_FILE) -> bytes:
    """A regular file's bytes; a device, FIFO or directory, or more than `limit` bytes, refused.

    Raises OSError when it cannot be opened, CertificateError for what it is.
    """
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it changes nothing for a file.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise CertificateError(f"{path} is not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise CertificateError(f"{path} is larger than {limit // 1024} KB: not a certificate file")
    return data


def load_certificate_files(
    certificate_path: Path, key_path: Path | None = None, password: bytes | None = None
) -> ClientCertificate:
    """Reads the files, turning I/O errors into one-line messages."""
    try:
        certificate_data = read_small_file(certificate_path)
        key_data = read_small_file(key_path) if key_path is not None else None
    except OSError as error:
        raise CertificateError(f"cannot read {error.filename}: {error.strerror}") from None
    return load_certificate(certificate_data, key_data, password)
