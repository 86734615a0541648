"""Password checks keep their Argon2id parameters; with TRAINER_PASSWORD_HASH_NICENESS they run on
a thread of lowered CPU priority, so a login rush yields the CPU to the rest of the process."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from trainer.accounts import passwords


def test_password_checks_run_on_a_thread_of_lowered_priority():
    if not sys.platform.startswith("linux"):
        pytest.skip("niceness per thread is Linux's")
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    passwords.set_hash_niceness(10)
    try:
        hashed = passwords.hash_password("correct horse")
        assert passwords.verify_password(hashed, "correct horse")
        assert not passwords.verify_password(hashed, "wrong horse")
        seen = passwords._on_hash_thread(
            lambda: (threading.get_native_id(),
                     os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        assert seen[0] != threading.get_native_id()
        assert seen[1] == min(mine + 10, 19)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    finally:
        passwords.set_hash_niceness(0)
    assert passwords._on_hash_thread(threading.get_native_id) == threading.get_native_id()


def test_our_hashes_are_checked_by_libsodium_and_others_by_argon2_cffi(monkeypatch):
    import nacl.pwhash.argon2id
    from argon2 import PasswordHasher, Type

    hashed = passwords.hash_password("correct horse")
    assert hashed.startswith(f"$argon2id$v=19$m={passwords.MEMORY_COST_KIB},"
                             f"t={passwords.TIME_COST},p={passwords.PARALLELISM}$")
    sodium_calls = []
    real = nacl.pwhash.argon2id.verify
    monkeypatch.setattr(nacl.pwhash.argon2id, "verify",
                        lambda h, p: sodium_calls.append(h) or real(h, p))
    assert passwords.verify_password(hashed, "correct horse")
    assert not passwords.verify_password(hashed, "correct horse ")
    assert not passwords.verify_password(hashed, "")
    assert len(sodium_calls) == 3
    # A hash libsodium cannot read (two lanes, an older variant) is checked all the same.
    for other in (PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=2,
                                 type=Type.ID).hash("correct horse"),
                  PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1,
                                 type=Type.I).hash("correct horse")):
        assert passwords.verify_password(other, "correct horse")
        assert not passwords.verify_password(other, "wrong horse")
    assert len(sodium_calls) == 3
    # What is not a hash at all is a failed check, never an error.
    for broken in ("", "plain", "$argon2id$v=19$m=19456,t=2,p=1$bad", hashed[:-10]):
        assert not passwords.verify_password(broken, "correct horse")
    assert not passwords.verify_password(passwords.hash_password("正确的马 1"), "正确的马 2")
    assert passwords.verify_password(passwords.hash_password("正确的马 1"), "正确的马 1")
