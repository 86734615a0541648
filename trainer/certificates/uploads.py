"""Files people hand in (scans of external certificates, the centre's seal): recognised by
their content, never by their name; pictures decoded and encoded again, so what is kept holds
only the picture (no EXIF, no location, nothing appended)."""
from __future__ import annotations

import io
import warnings

from trainer.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
# Pillow refuses above ~179 Mpx on its own; a certificate scan needs far less, and a small file
# that decodes to a huge picture (a decompression bomb) is refused before it is decoded.
MAX_PIXELS = 40_000_000
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"


def kind_of(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def clean_upload(data: bytes, *, allowed: tuple[str, ...] = (PDF, PNG, JPEG),
                 max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """(the bytes to keep, their type); DomainError when the file is empty, too large, not one
    of the allowed kinds (an SVG, a renamed program, …) or a picture that does not decode."""
    if not data:
        raise DomainError("The file is empty.")
    if len(data) > max_bytes:
        raise DomainError("The file is too large: at most %(mb)d MB.", mb=max_bytes // 2**20)
    kind = kind_of(data)
    if kind not in allowed:
        raise DomainError("Only %(kinds)s files are accepted: this file is not one (whatever "
                          "its name says).", kinds="/".join(
                              {PDF: "PDF", PNG: "PNG", JPEG: "JPEG"}[k] for k in allowed))
    if kind == PDF:
        if b"%%EOF" not in data[-2048:]:
            raise DomainError("The PDF is incomplete or damaged.")
        return data, kind
    return _reencode(data, kind), kind


def _reencode(data: bytes, kind: str) -> bytes:
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise DomainError("The picture is too large: at most %(mp)d million pixels.",
                                      mp=MAX_PIXELS // 1_000_000)
                image.load()
                picture = ImageOps.exif_transpose(image)   # upright, as the phone saw it
                picture = picture.convert("RGBA" if kind == PNG and "A" in picture.getbands()
                                          else "RGB")
                out = io.BytesIO()
                picture.save(out, format="PNG" if kind == PNG else "JPEG",
                             **({"optimize": True} if kind == PNG else {"quality": 90}))
                return out.getvalue()
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError("The picture is too large: at most %(mp)d million pixels.",
                          mp=MAX_PIXELS // 1_000_000) from None
    except Exception:  # noqa: BLE001 - any decoding failure means the same to the person
        raise DomainError("The picture cannot be read: it is damaged or not a picture.") \
            from None
