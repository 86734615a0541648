"""Uploaded bytes to text: shared with the staff import, so it lives in core."""
from trainer.core.textfiles import DecodeError, decode_bytes, normalise_newlines

__all__ = ["DecodeError", "decode_bytes", "normalise_newlines"]
