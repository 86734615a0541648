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
