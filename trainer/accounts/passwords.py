"""Argon2id password hashing at OWASP's minimum parameters (m=19 MiB, t=2, p=1) or stronger."""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: Argon2id with 19 MiB, 2 iterations, 1 degree of
# parallelism is the minimum. Never lowered, not even for tests or benchmarks.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB,
                          parallelism=PARALLELISM, type=Type.ID)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def burn_verification_time() -> None:
    """Spend what a real check costs, so an unknown employee number is not revealed by timing."""
    verify_password(_dummy_hash(), "wrong-password")
