"""Argon2id password hashing at OWASP's minimum parameters (m=19 MiB, t=2, p=1) or stronger."""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import nacl.exceptions
import nacl.pwhash.argon2id
from argon2 import PasswordHasher, Type, extract_parameters
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


# Exam day opens with a login rush: a thousand Argon2id checks (~25 ms of CPU each) within a
# minute, on the cores that serve the exam too. Each process runs its checks on one thread whose
# CPU priority is lowered (on Linux, niceness is per thread), so a question page or an autosave
# that needs the CPU gets it first and the sign-ins absorb the wait (bench/exam_day.py). The
# work and the parameters are unchanged.
_niceness = 0
_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def set_hash_niceness(niceness: int) -> None:
    """Run password checks this much nicer than the process (0: on the caller's thread)."""
    global _niceness, _pool
    _niceness = max(0, min(int(niceness), 19)) if sys.platform.startswith("linux") else 0
    _pool = None


def _lower_priority() -> None:
    try:
        os.nice(_niceness)  # Linux: the calling thread only
    except OSError:  # pragma: no cover - not allowed here: run at normal priority
        pass


def _on_hash_thread(function, *args):
    global _pool, _pool_pid
    if not _niceness:
        return function(*args)
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # (a forked worker starts its own)
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-hash",
                                       initializer=_lower_priority)
            _pool_pid = os.getpid()
        pool = _pool
    return pool.submit(function, *args).result()


def hash_password(password: str) -> str:
    return _on_hash_thread(hasher().hash, password)


# Checking is the hot half (exam day opens with a thousand sign-ins in a minute): libsodium's
# Argon2id (PyNaCl) picks the CPU's widest vector unit at run time and checked our hashes in
# ~10 % less CPU than argon2-cffi's SSE2 build (23.7 against 26.0 ms; same hash, same
# parameters). README, Performance.
# It reads only Argon2id with one lane; anything else is checked by argon2-cffi.
_SODIUM_PREFIX = "$argon2id$v=19$"


def _sodium_can_check(password_hash: str) -> bool:
    if not password_hash.startswith(_SODIUM_PREFIX):
        return False
    try:
        return extract_parameters(password_hash).parallelism == 1
    except InvalidHashError:
        return False


def _verify(password_hash: str, password: str) -> bool:
    if _sodium_can_check(password_hash):
        try:
            return nacl.pwhash.argon2id.verify(password_hash.encode("ascii"),
                                               password.encode("utf-8"))
        except nacl.exceptions.CryptoError:  # a mismatch (InvalidkeyError) or an unusable hash
            return False
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str, password: str) -> bool:
    return _on_hash_thread(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def burn_verification_time() -> None:
    """Spend what a real check costs, so an unknown employee number is not revealed by timing."""
    verify_password(_dummy_hash(), "wrong-password")
