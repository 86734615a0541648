"""Pure rules of certificates: serial numbers, verification codes, status, names masked."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

# Per kind of certificate: the serial's prefix (入职 RZ, 在岗 ZG, 复岗 FG, 晋升 JS, 转岗 ZY,
# 结业 JY). Remedial training (待岗) issues none: its outcome is the evaluation.
PREFIXES = {"onboarding": "RZ", "inservice": "ZG", "reentry": "FG", "promotion": "JS",
            "transfer": "ZY", "class": "JY"}
# A verification code people can read out and type: no 0/O/1/I.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def serial(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def new_code() -> str:
    """An unguessable verification code: 12 characters from 32, 60 bits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """A code as typed (any case, spaces, dashes, the letters O and I read as the digits they
    look like are not in the alphabet: kept, so they simply do not match)."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())[:32]


VALID, EXPIRED, REVOKED, SUPERSEDED = "valid", "expired", "revoked", "superseded"


@dataclass(frozen=True)
class CertificateFacts:
    expires_at: datetime | None
    revoked_at: datetime | None
    superseded: bool


def status(facts: CertificateFacts, now: datetime) -> str:
    """What a verifier is told: revoked (whatever else), superseded by a reissue, expired, or
    valid."""
    if facts.revoked_at is not None:
        return REVOKED
    if facts.superseded:
        return SUPERSEDED
    if facts.expires_at is not None and now >= facts.expires_at:
        return EXPIRED
    return VALID


def masked_name(name: str) -> str:
    """The surname with the given name masked (张伟 → 张*, 欧阳娜娜 → 欧阳**: the common
    two-character surnames kept whole), so a public page confirms without revealing."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:  # a Latin name: the first word
        first, _, rest = name.partition(" ")
        return first + " " + "*" * len(rest.replace(" ", ""))
    keep = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:keep] + "*" * (len(name) - keep)


COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                     "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "西门", "南宫"}
