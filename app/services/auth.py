"""Who is calling and what they may do: password authentication and Camunda's authorization checks.

**Authentication** (C.6): :func:`authenticate` checks a user id and password against the argon2
hash and returns the caller's :class:`Authentication` (groups, and tenants directly or through a
group) or None. A verified pair is remembered for ``AUTH_CACHE_SECONDS`` in this process, keyed
by an HMAC of user and password under a per-process random key (so the cache never holds a
password or anything that could be brute-forced offline), so that authentication costs a
dictionary lookup instead of a hash per request. Identity writes in this process drop the
entries they make stale; other processes see the change when their entries expire.

**Authorization** (C.7): Camunda's precedence, evaluated over the authorization rows of one
resource type that concern the caller: the user's own rows, then its groups' rows, then the
GLOBAL rows; within each, a specific resource id before ``*``, and a grant before a revoke. The
first row that decides wins; nothing deciding means no. Members of ``camunda-admin`` may do
everything (Camunda grants that group ALL on every resource at setup; here it is a rule, so it
cannot be revoked by accident). Without authentication (``AUTH_ENABLED`` off) nothing is checked.
"""

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, false, or_, select, true, update

from app.core.permissions import (
    ANY,
    AUTH_TYPE_GLOBAL,
    AUTH_TYPE_GRANT,
    AUTH_TYPE_REVOKE,
    Authentication,
    AuthorizationError,
    MissingAuthorization,
    permissions_of,
)
from app.core.text import is_storable
from app.extensions import db
from app.models.tables import authorization_table, group_member_table, tenant_member_table, user_table
from app.services.identity import passwords

MAX_ID_LENGTH = 64  # the id columns of users, groups and tenants
CACHE_MAX_ENTRIES = 10_000


class CredentialCache:
    """Verified (user, password) pairs for a short time, in one process; thread-safe."""

    def __init__(self, ttl_seconds, max_entries=CACHE_MAX_ENTRIES, clock=time.monotonic):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._entries = {}  # digest -> (expires at, Authentication)
        self._lock = threading.Lock()

    def _digest(self, user_id, password):
        # Length-prefixed, so that ("ab", "c") and ("a", "bc") never share a digest.
        message = f"{len(user_id)}:{user_id}{password}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, user_id, password):
        if self.ttl <= 0:
            return None
        digest = self._digest(user_id, password)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, user_id, password, authentication):
        if self.ttl <= 0:
            return
        digest = self._digest(user_id, password)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # rare and harmless: the next requests verify once more
            self._entries[digest] = (self.clock() + self.ttl, authentication)

    def forget_user(self, user_id):
        with self._lock:
            for digest in [d for d, (_, auth) in self._entries.items() if auth.user_id == user_id]:
                del self._entries[digest]

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        return len(self._entries)


def init_credential_cache(app):
    app.extensions["credential_cache"] = CredentialCache(app.config["AUTH_CACHE_SECONDS"])


def _cache():
    return current_app.extensions["credential_cache"]


def forget_credentials(user_id):
    """A user's password changed or the user was deleted: its cached logins end now."""
    _cache().forget_user(user_id)


def forget_all_credentials():
    """Memberships or authorizations changed: cached groups and tenants may be stale."""
    _cache().clear()


def authenticate(user_id, password):
    """The caller's Authentication if ``password`` is the user's, else None (never says which part failed)."""
    if not user_id or len(user_id) > MAX_ID_LENGTH or len(password) > passwords.MAX_PASSWORD_LENGTH:
        return None  # no such user can exist; answering at once tells nothing about any user
    cache = _cache()
    cached = cache.get(user_id, password)
    if cached is not None:
        return cached
    stored_hash = None
    if is_storable(user_id):
        stored_hash = db.session.scalar(select(user_table.c.password_hash).where(user_table.c.id == user_id))
    if not passwords.verify_password(stored_hash, password):
        db.session.rollback()
        return None
    if passwords.needs_rehash(stored_hash):
        db.session.execute(update(user_table).where(user_table.c.id == user_id)
                           .values(password_hash=passwords.hash_password(password)))
    authentication = load_authentication(user_id)
    db.session.commit()
    cache.put(user_id, password, authentication)
    return authentication


def load_authentication(user_id):
    """The user's groups and its tenants (directly or through one of its groups), as Camunda's filter loads them."""
    group_ids = tuple(sorted(db.session.scalars(
        select(group_member_table.c.group_id).where(group_member_table.c.user_id == user_id))))
    member = tenant_member_table.c
    conditions = [member.user_id == user_id]
    if group_ids:
        conditions.append(member.group_id.in_(group_ids))
    tenant_ids = tuple(sorted(set(db.session.scalars(select(member.tenant_id).where(or_(*conditions))))))
    return Authentication(user_id, group_ids, tenant_ids)


# --- authorization ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Row:
    type: int
    user_id: str
    group_id: str
    resource_id: str
    permissions: int


def _rows(authentication, resource):
    """The authorization rows of ``resource`` that concern the caller: its own, its groups', GLOBAL."""
    a = authorization_table.c
    owners = [a.user_id.in_([authentication.user_id, ANY])]
    if authentication.group_ids:
        owners.append(a.group_id.in_(authentication.group_ids))
    statement = (select(a.type, a.user_id, a.group_id, a.resource_id, a.permissions)
                 .where(a.resource_type == resource.type, or_(*owners)))
    return [_Row(*row) for row in db.session.execute(statement)]


def _decide(rows, authentication, bit, resource_id):
    """Camunda's ``isUserAuthorizedForResource`` for one resource id (None: only ``*`` rows count)."""
    user_rows = [r for r in rows if r.type != AUTH_TYPE_GLOBAL and r.user_id == authentication.user_id]
    group_rows = [r for r in rows if r.type != AUTH_TYPE_GLOBAL and r.group_id is not None]
    global_rows = [r for r in rows if r.type == AUTH_TYPE_GLOBAL]
    targets = [resource_id, ANY] if resource_id not in (None, ANY) else [ANY]
    for level in (user_rows, group_rows, global_rows):
        for target in targets:
            matching = [r for r in level if r.resource_id == target]
            if any(r.type in (AUTH_TYPE_GRANT, AUTH_TYPE_GLOBAL) and r.permissions & bit == bit for r in matching):
                return True
            if any(r.type in (AUTH_TYPE_REVOKE, AUTH_TYPE_GLOBAL) and r.permissions & bit != bit for r in matching):
                return False
    return False


def is_authorized(authentication, permission, resource, resource_id=None):
    """Whether the caller has ``permission`` (a name) on ``resource`` (``resource_id`` None: on all)."""
    if authentication is None or authentication.is_admin:
        return True
    bit = permissions_of(resource.type)[permission]
    return _decide(_rows(authentication, resource), authentication, bit, resource_id)


def check_authorization(authentication, permission, resource, resource_id=None):
    """Raise Camunda's AuthorizationException (403) unless the caller has the permission."""
    if not is_authorized(authentication, permission, resource, resource_id):
        raise AuthorizationError(authentication.user_id,
                                 [MissingAuthorization(permission, resource, resource_id)])


def readable_condition(authentication, permission, resource, id_column, null_means_any=False):
    """A WHERE condition keeping the rows whose ``id_column`` the caller has ``permission`` on.

    Ids named by some authorization row are decided one by one; every other id shares the
    decision of the ``*`` rows. So the condition is ``id IN (allowed)`` when that shared
    decision is no, and ``id NOT IN (denied)`` when it is yes; no per-row subquery is needed.
    ``null_means_any``: a NULL id is decided by the ``*`` rows too (else it never matches).
    """
    if authentication is None or authentication.is_admin:
        return true()
    bit = permissions_of(resource.type)[permission]
    rows = _rows(authentication, resource)
    named = {row.resource_id for row in rows if row.resource_id != ANY}
    allowed = {resource_id for resource_id in named if _decide(rows, authentication, bit, resource_id)}
    if _decide(rows, authentication, bit, None):
        denied = named - allowed
        if not denied:
            return true()
        kept = id_column.notin_(sorted(denied))
        return or_(id_column.is_(None), kept) if null_means_any else kept
    if not allowed:
        return false()
    kept = id_column.in_(sorted(allowed))
    # NULL-safe, so that NOT (condition) holds for a NULL id as well (never NULL itself).
    return and_(id_column.isnot(None), kept) if null_means_any else kept
