"""The pure parts of certificates, without a database: serials, verification codes, status, the
masked name, the uploads' checks and the signing key."""
from __future__ import annotations

import io
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.certificates import rules, uploads
from trainer.core.errors import DomainError

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)


def test_serials_are_prefixed_per_kind_and_year():
    assert rules.serial("RZ", 2026, 123) == "RZ-2026-000123"
    assert set(rules.PREFIXES.values()) == {"RZ", "ZG", "FG", "JS", "ZY", "JY"}


def test_codes_are_long_unguessable_and_free_of_look_alikes():
    codes = {rules.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) >= 10 and not set(code) & set("01OI")
        assert set(code) <= set(rules.CODE_ALPHABET)


@given(st.text(max_size=60))
def test_a_typed_code_is_normalised_without_failing(typed):
    normalised = rules.normalise_code(typed)
    assert normalised == normalised.upper() and len(normalised) <= 32
    assert all(ch.isalnum() for ch in normalised)


def test_a_code_typed_loosely_still_matches():
    assert rules.normalise_code(" abcd-efgh 2345\n") == "ABCDEFGH2345"


@pytest.mark.parametrize("expires,revoked,superseded,expected", [
    (None, None, False, rules.VALID),
    (NOW + timedelta(days=1), None, False, rules.VALID),
    (NOW, None, False, rules.EXPIRED),
    (NOW - timedelta(days=1), None, True, rules.SUPERSEDED),
    (NOW - timedelta(days=1), NOW - timedelta(days=2), True, rules.REVOKED),
    (None, NOW, False, rules.REVOKED),
])
def test_status(expires, revoked, superseded, expected):
    assert rules.status(rules.CertificateFacts(expires, revoked, superseded), NOW) == expected


@pytest.mark.parametrize("name,masked", [
    ("张伟", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧阳**"), ("欧阳", "欧*"),
    ("Li Lei", "Li ***"), ("", ""), ("  李  ", "李"),
])
def test_the_public_page_masks_the_given_name(name, masked):
    assert rules.masked_name(name) == masked


# -- uploads --------------------------------------------------------------------------------------

def _picture(kind: str, size=(80, 60), **save) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format=kind, **save)
    return out.getvalue()


def test_a_jpeg_loses_its_exif_and_location():
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
    data = _picture("JPEG", exif=exif)
    cleaned, kind = uploads.clean_upload(data)
    assert kind == uploads.JPEG and b"PhoneMaker" not in cleaned
    assert not Image.open(io.BytesIO(cleaned)).getexif()


def test_an_upright_picture_stays_upright():
    """A phone's portrait photo is stored sideways with an orientation tag: once the tag is
    dropped, the picture itself is turned."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6   # rotate 90° to show
    cleaned, _ = uploads.clean_upload(_picture("JPEG", size=(80, 60), exif=exif))
    assert Image.open(io.BytesIO(cleaned)).size == (60, 80)


def test_bytes_appended_to_a_png_are_dropped():
    data = _picture("PNG") + b"<script>alert(1)</script>"
    cleaned, kind = uploads.clean_upload(data)
    assert kind == uploads.PNG and b"script" not in cleaned


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Only"),
    (b"GIF89a" + b"\x00" * 20, "Only"),
    (b"PK\x03\x04" + b"\x00" * 20, "Only"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 30, "cannot be read"),
    (b"%PDF-1.7\n" + b"x" * 100, "incomplete"),
])
def test_what_is_refused(data, message):
    with pytest.raises(DomainError) as refused:
        uploads.clean_upload(data)
    assert message in refused.value.message


def test_too_large_by_bytes_or_pixels():
    with pytest.raises(DomainError, match="too large"):
        uploads.clean_upload(b"%PDF-" + b"0" * uploads.MAX_BYTES)
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")   # 64 Mpx in a small file
    with pytest.raises(DomainError, match="million pixels"):
        uploads.clean_upload(out.getvalue())


def test_a_seal_must_be_a_png():
    with pytest.raises(DomainError) as refused:
        uploads.clean_upload(_picture("JPEG"), allowed=(uploads.PNG,))
    assert refused.value.params == {"kinds": "PNG"}


# -- the signing key ------------------------------------------------------------------------------

def test_the_key_is_made_once_private_and_opened_with_its_passphrase(tmp_path):
    from cryptography.hazmat.primitives.serialization import pkcs12

    from trainer.certificates import signing

    config = {"SIGNING_KEY_PATH": str(tmp_path / "signing.p12"), "SIGNING_PASSPHRASE": ""}
    assert signing.ensure_key(config, common_name="客户服务中心") is True
    assert signing.ensure_key(config, common_name="客户服务中心") is False
    for path in (tmp_path / "signing.p12", tmp_path / "signing-passphrase"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = (tmp_path / "signing.p12").read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, b"wrong")
    key, cert, _ = pkcs12.load_key_and_certificates(data, signing.passphrase_for(config))
    assert key is not None and "客户服务中心" in cert.subject.rfc4514_string()


def test_production_without_a_passphrase_refuses(tmp_path):
    from trainer.certificates import signing

    config = {"SIGNING_KEY_PATH": str(tmp_path / "signing.p12"), "SIGNING_PASSPHRASE": "",
              "PRODUCTION": True}
    with pytest.raises(RuntimeError, match="TRAINER_SIGNING_PASSPHRASE"):
        signing.ensure_key(config, common_name="x")
    assert not (tmp_path / "signing.p12").exists()
