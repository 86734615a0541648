"""Pure helpers of the banks area: the content fingerprint of a question."""
from __future__ import annotations

import hashlib
import json

from trainer.banks.formats import ParsedQuestion
from trainer.banks.formats.base import format_decimal


def content_hash(q: ParsedQuestion) -> str:
    """A fingerprint of everything a question says (not where it is filed), so content sync can
    tell whether the shipped file or the site changed it."""
    payload = {
        "qtype": q.qtype, "name": q.name, "stem": q.stem, "format": q.text_format,
        "explanation": q.explanation, "difficulty": q.difficulty,
        "points": format_decimal(q.default_points), "tags": list(q.tags),
        "category": list(q.category_path),
        "choices": [[c.text, format_decimal(c.weight), c.feedback, c.keep_in_place]
                    for c in q.choices],
    }
    # Only where there is one, so the fingerprints of every other question stay as they were.
    if q.blank_number is not None:
        payload["blank"] = q.blank_number
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(data).hexdigest()
