"""The centre's signature on certificate PDFs (PAdES, with pyHanko): a key of its own, or a
self-signed one `trainer setup` makes; every certificate records which one signed it.

An ECDSA P-256 key: pyHanko re-loads the key for each signature, and loading an RSA key costs
~40 ms (its primes are checked), an EC key next to nothing; the size of the signature is
reserved up front, so pyHanko signs once instead of twice (a dry run to measure it). A
certificate is then signed in ~20 ms, about as long as it takes to render
(bench/certificates.py)."""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SIGNATURE_RESERVE = 8192   # bytes for the CMS signature (a chain of one or two certificates)
_lock = threading.Lock()
_cache: dict[str, Any] = {}


def passphrase_for(config: dict) -> bytes:
    """TRAINER_SIGNING_PASSPHRASE, or in development the one kept beside the key."""
    if config.get("SIGNING_PASSPHRASE"):
        return config["SIGNING_PASSPHRASE"].encode()
    kept = Path(config["SIGNING_KEY_PATH"]).with_name("signing-passphrase")
    if kept.exists():
        return kept.read_text().strip().encode()
    if config.get("PRODUCTION"):
        raise RuntimeError("TRAINER_SIGNING_PASSPHRASE is not set")
    kept.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    _write_private(kept, value.encode())
    return value.encode()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def ensure_key(config: dict, *, common_name: str) -> bool:
    """Make a self-signed signing certificate (PKCS#12, mode 0600) unless one exists; returns
    whether it made one. Valid ten years; the centre may put its own in its place."""
    path = Path(config["SIGNING_KEY_PATH"])
    if path.exists():
        return False
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name[:64])])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, pkcs12.serialize_key_and_certificates(
        b"trainer-certificates", key, cert, None,
        serialization.BestAvailableEncryption(passphrase_for(config))))
    return True


def _signer(config: dict):
    """(pyHanko PdfSigner, the signing certificate's SHA-256), loaded once per process."""
    key = (config["SIGNING_KEY_PATH"], os.getpid())
    if _cache.get("key") != key:
        with _lock:
            if _cache.get("key") != key:
                from pyhanko.sign import signers

                if not Path(config["SIGNING_KEY_PATH"]).exists():
                    if config.get("PRODUCTION"):
                        raise RuntimeError("no signing key: run `trainer setup` or set "
                                           "TRAINER_SIGNING_KEY")
                    ensure_key(config, common_name="Trainer")   # (a development checkout)

                simple = signers.SimpleSigner.load_pkcs12(
                    pfx_file=config["SIGNING_KEY_PATH"], passphrase=passphrase_for(config))
                if simple is None:
                    raise RuntimeError("the signing key could not be read (wrong passphrase?)")
                meta = signers.PdfSignatureMetadata(field_name="CentreSignature",
                                                    md_algorithm="sha256",
                                                    reason="培训证书 / Training certificate")
                fingerprint = hashlib.sha256(simple.signing_cert.dump()).hexdigest()
                _cache.update(key=key, signer=signers.PdfSigner(meta, signer=simple),
                              fingerprint=fingerprint, certificate=simple.signing_cert)
    return _cache["signer"], _cache["fingerprint"]


def sign(config: dict, pdf: bytes) -> tuple[bytes, str]:
    """(the signed PDF, the fingerprint of the certificate that signed it)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signer, fingerprint = _signer(config)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signer.sign_pdf(writer, bytes_reserved=SIGNATURE_RESERVE).getvalue(), fingerprint


def signing_certificate(config: dict):
    """The signing certificate (asn1crypto), to check a signature against."""
    _signer(config)
    return _cache["certificate"]
