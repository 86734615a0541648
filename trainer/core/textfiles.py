"""Decoding uploaded text files the way Chinese offices produce them (staff lists, question banks).

A BOM decides (UTF-8, UTF-16, UTF-32); otherwise strict UTF-8; otherwise GB18030, the superset of
GBK that Chinese Office exports use. Statistical detectors misread short GBK files, so none is
used: strict UTF-8 almost never accepts GBK bytes by accident, and GB18030 is the only other
encoding our users produce. Binary data is refused instead of being decoded into nonsense.
"""

from __future__ import annotations

import codecs

from trainer.core.errors import N_

__all__ = ["DecodeError", "decode_bytes", "normalise_newlines"]

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

# Share of control characters above which a "text" is really binary. Real documents have none
# besides tab and line breaks; a few stray form feeds or escapes from old Word exports are fine.
_MAX_CONTROL_RATIO = 0.05
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


class DecodeError(ValueError):
    """The bytes are not text in an encoding we accept. ``message`` is an N_ format string."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:65536]
    controls = sum(
        1 for ch in sample if (ch < " " or "\x7f" <= ch < "\xa0") and ch not in _ALLOWED_CONTROLS
    )
    return bool(sample) and controls / len(sample) > _MAX_CONTROL_RATIO


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text with LF line endings, encoding name) or raise :class:`DecodeError`."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    N_(
                        "The file starts with a {encoding} byte-order mark but is not valid {encoding} text (byte {position})."
                    ),
                    encoding=name.upper().replace("-SIG", ""),
                    position=exc.start + len(bom),
                ) from None
            break
    else:
        # NUL bytes never occur in UTF-8 or GB18030 text: this is binary (or BOM-less UTF-16).
        if b"\x00" in data:
            raise DecodeError(
                N_(
                    "This is not a text file (it contains binary data). Save it as UTF-8 text, or upload the original XLSX."
                )
            )
        try:
            text, name = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, name = data.decode("gb18030"), "gb18030"
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    N_(
                        "The file's encoding is neither UTF-8 nor GB18030/GBK (unreadable byte at position {position}). Save it as UTF-8 text."
                    ),
                    position=exc.start,
                ) from None
    if _looks_binary(text):
        raise DecodeError(
            N_(
                "This is not a text file (it contains binary data). Save it as UTF-8 text, or upload the original XLSX."
            )
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return normalise_newlines(text), name
