"""Failed sign-ins slow down what fails, never a whole address.

A call centre signs in behind one NAT address at the start of a shift, so nothing here counts
an address alone (a limit of 300 failures per address once refused a whole floor, correct
passwords included). Three rules instead:

- an address and an account together: from the 5th failure within 15 minutes, each further
  failure locks that pair for 30 s, doubling to at most 5 minutes. A colleague behind the same
  NAT who types someone's password wrong can delay that person's sign-in, never lock it out;
- an account from every address: 100 failures in a day slow it the same way (and are audited);
- spraying, one password tried on many accounts from one address: the distinct accounts that
  failed with the same password are counted per address, keyed by an HMAC of the password with
  the secret key (held only in the counters, for 15 minutes). At 20 accounts that password is
  refused from that address for 15 minutes (and audited).

A locked sign-in is answered 429 with Retry-After, without checking the password (no Argon2id
work for an attacker to make us spend). `wait_after` is the policy, pure; `LoginThrottle`
applies it to shared counters (trainer.core.counters)."""
from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass

from trainer.accounts.rules import employee_no_key

PAIR_WINDOW_S = 15 * 60
PAIR_FREE = 4                 # failures of a pair before the fifth starts the slowing
ACCOUNT_WINDOW_S = 24 * 3600
ACCOUNT_FREE = 99             # the 100th failure of a day starts it
FIRST_WAIT_S = 30
MAX_WAIT_S = 5 * 60
SPRAY_WINDOW_S = 15 * 60
SPRAY_ACCOUNTS = 20
SPRAY_BLOCK_S = 15 * 60


def wait_after(failures: int, free: int) -> int:
    """Seconds locked after the `failures`-th failure when `free` are let through: 0 up to
    `free`, then 30, 60, 120, 240, then 300 s."""
    beyond = failures - free - 1
    if beyond < 0:
        return 0
    return min(FIRST_WAIT_S * 2 ** min(beyond, 10), MAX_WAIT_S)


def account_key(employee_no: str) -> str:
    # The same folding as employee numbers themselves, so ÄSEC1 and äsec1 count as one account.
    return employee_no_key(employee_no)


@dataclass(frozen=True)
class Refusal:
    retry_after_s: int
    # What the audit log should record (once, when a rule starts slowing): (action, details).
    audit: tuple[str, dict] | None = None


class LoginThrottle:
    def __init__(self, counters, secret_key: str) -> None:
        self.counters = counters
        self._secret = secret_key.encode()

    def _keys(self, address: str, employee_no: str, password: str) -> tuple[str, str, str, str]:
        account = hashlib.sha256(account_key(employee_no).encode()).hexdigest()[:32]
        sprayed = hmac.new(self._secret, b"login-spray\0" + password.encode(),
                           hashlib.sha256).hexdigest()[:32]
        return (f"login:pair:{address}:{account}", f"login:account:{account}",
                f"login:spray:{address}:{sprayed}", account)

    def refused(self, address: str, employee_no: str, password: str, now: float
                ) -> Refusal | None:
        """Whether this sign-in is locked out before its password is even checked."""
        pair, account, spray, _ = self._keys(address, employee_no, password)
        locks = self.counters.locked_until([pair + ":lock", account + ":lock", spray + ":lock"],
                                           now)
        until = max((u for u in locks if u is not None), default=None)
        return None if until is None else Refusal(max(1, math.ceil(until - now)))

    def failed(self, address: str, employee_no: str, password: str, now: float
               ) -> Refusal | None:
        """Count a failed sign-in; a Refusal when it starts or extends a lock."""
        pair, account, spray, account_id = self._keys(address, employee_no, password)
        pair_failures = self.counters.add(pair, None, now, PAIR_WINDOW_S)
        account_failures = self.counters.add(account, None, now, ACCOUNT_WINDOW_S)
        sprayed_accounts = self.counters.add(spray, account_id, now, SPRAY_WINDOW_S)
        waits, audit = [], None
        pair_wait = wait_after(pair_failures, PAIR_FREE)
        if pair_wait:
            self.counters.lock(pair + ":lock", now + pair_wait, now)
            waits.append(pair_wait)
        account_wait = wait_after(account_failures, ACCOUNT_FREE)
        if account_wait:
            self.counters.lock(account + ":lock", now + account_wait, now)
            waits.append(account_wait)
            if account_failures == ACCOUNT_FREE + 1:
                audit = ("login.account_slowed", {"failures_today": account_failures})
        if sprayed_accounts >= SPRAY_ACCOUNTS:
            self.counters.lock(spray + ":lock", now + SPRAY_BLOCK_S, now)
            waits.append(SPRAY_BLOCK_S)
            if sprayed_accounts == SPRAY_ACCOUNTS:
                audit = ("login.password_spraying", {"address": address,
                                                     "accounts": sprayed_accounts})
        return Refusal(max(waits), audit) if waits else None

    def succeeded(self, address: str, employee_no: str) -> None:
        """A correct password from this address clears that pair's failures (not the
        account's day, nor any spraying lock)."""
        pair, *_ = self._keys(address, employee_no, "")
        self.counters.forget(pair, pair + ":lock")


def install(app) -> None:
    """One throttle per app, on the counters its configuration names."""
    from trainer.core.counters import counters_for

    app.extensions["trainer.login_throttle"] = LoginThrottle(
        counters_for(app.config["REDIS_URL"], app.config["RATELIMIT_KEY_PREFIX"]),
        app.config["SECRET_KEY"])


def throttle_of(app) -> LoginThrottle:
    return app.extensions["trainer.login_throttle"]
