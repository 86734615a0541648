"""Decoding uploaded text files the way Chinese offices produce them."""
from __future__ import annotations

import codecs


class DecodeError(ValueError):
    """The bytes are not text in any encoding we accept (binary, or not UTF-8/GB18030)."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    return bool(sample) and controls / len(sample) > 0.05


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text with LF line endings, encoding name).

    A BOM decides; otherwise strict UTF-8; otherwise GB18030 (a superset of GBK, what Chinese
    Office exports use). Statistical detectors misread short GBK files, so none is trusted alone.
    """
    text: str | None = None
    encoding = ""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(name), ("utf-8" if name == "utf-8-sig" else "utf-16")
            except UnicodeDecodeError as exc:
                raise DecodeError("The file is not valid text in its declared encoding.") from exc
            break
    if text is None:
        if looks_binary(data):
            raise DecodeError("The file is not a text file.")
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("gb18030"), "gb18030"
            except UnicodeDecodeError as exc:
                raise DecodeError("The file's encoding is neither UTF-8 nor GB18030.") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding
