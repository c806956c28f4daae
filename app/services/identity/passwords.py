"""Password hashing: argon2id through argon2-cffi, with the cost taken from the config.

A stored hash carries its own parameters and salt, so changing ``PASSWORD_HASH_*`` affects new
hashes only; :func:`needs_rehash` tells the login path to upgrade an old one. A user without a
password (or an unknown user) is checked against a dummy hash of the same cost, so that a wrong
password takes as long for a user that does not exist as for one that does.
"""

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

# Longer passwords are refused before hashing: hashing is cheap per byte but not free.
MAX_PASSWORD_LENGTH = 1024

_hashers = {}  # (time cost, memory KiB, parallelism) -> (PasswordHasher, dummy hash)
_lock = threading.Lock()


def _hasher():
    config = current_app.config
    key = (config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
           config["PASSWORD_HASH_PARALLELISM"])
    with _lock:
        if key not in _hashers:
            hasher = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2])
            _hashers[key] = (hasher, hasher.hash("not a password anyone has"))
        return _hashers[key]


def hash_password(password):
    return _hasher()[0].hash(password)


def verify_password(stored_hash, password):
    """Whether ``password`` matches ``stored_hash``; with no hash, the dummy is verified (and fails)."""
    hasher, dummy = _hasher()
    try:
        if stored_hash is None:
            hasher.verify(dummy, password + "\x00wrong")
            return False
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash):
    return _hasher()[0].check_needs_rehash(stored_hash)
