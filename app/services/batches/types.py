"""The batch type registry: what differs from one kind of batch to the next.

The engine (app.services.batches.engine) is the same for every batch: it writes the selection
into ``batch_slice`` with one ``INSERT ... SELECT``, seeds execution jobs slice by slice,
monitors, completes, suspends, deletes and keeps the history. A batch type supplies only the
four things that differ, as plain functions of its request:

- ``validate(request, selection)``: the cheap checks, run before anything is written. It may
  ask ``selection.is_empty()`` (an ``EXISTS`` probe) to keep Camunda's message order;
- ``selection(request)``: a :class:`Selection`, explicit ids and/or a ``SELECT id`` statement;
- ``configuration(request)``: a JSON document stored once on the batch row;
- ``apply_slice(ids, configuration)``: apply one slice, returning a :class:`SliceResult`. A type
  with ``slice_position=True`` is called ``apply_slice(ids, configuration, position)`` with a
  :class:`SlicePosition` (where the slice's first element stands among all of the batch's
  elements), and gets its ids in ascending order (e.g. to spread due dates, A20).

A type whose batches only *select* differently from another type's (Camunda's set retries by
process instance) names that type as ``stored_as``: its batches are stored, executed and reported
with that type's name (Camunda's ``Batch.type``), so only the stored type has execution jobs.

For authorization (A16) a type declares ``create_permission``, the type's own Batch permission that
suffices besides ``CREATE`` (e.g. ``CREATE_BATCH_SET_JOB_RETRIES``), and ``authorize(request,
selection, authentication)``, which returns the selection narrowed to what the creator may
change, or raises before anything is written (default: the selection as it is), and
``element_conditions(authentication)``, the job conditions an element must meet for the
creator to change it, applied again when each slice runs (None: no such check).

A type's name is Camunda's ``Batch.type`` and the handler type of its execution jobs, so it is
stored in rows and never changes once released. Each built-in type is a module of this package
(``set_job_retries``) declaring one BatchType; app.services.batches.handlers.register_batch_types
puts it in this registry together with its execution handler.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select

from app.extensions import db


@dataclass(frozen=True)
class Selection:
    """What a batch works on: explicit ids ∪ the ids a ``SELECT id`` statement returns.

    Explicit ids count as elements even when no such job exists (a slice skips and counts them,
    spec A10); the query is resolved by the database, never in Python.
    """

    ids: tuple = ()
    query: Any = None  # a Select of one column labelled ``id`` (e.g. select_job_ids), or None

    @classmethod
    def of(cls, ids=None, query=None):
        """Explicit ids deduplicated in their given order, plus an optional query."""
        return cls(ids=tuple(dict.fromkeys(ids or ())), query=query)

    def is_empty(self):
        """True when nothing is selected; one ``SELECT EXISTS (...)`` at most, nothing written."""
        if self.ids:
            return False
        if self.query is None:
            return True
        return not db.session.execute(select(self.query.exists())).scalar()


@dataclass(frozen=True)
class SlicePosition:
    """Where a slice stands in its batch: the index of its first element (elements are numbered
    slice by slice, ascending job id within a slice) and the batch's element count."""

    offset: int
    total: int


@dataclass
class SliceResult:
    """What one slice did: the ids it applied to and those whose job no longer exists."""

    updated: list = field(default_factory=list)
    missing: list = field(default_factory=list)


def _no_checks(request, selection):
    """The default ``validate``: everything was checked when the request was loaded."""


def _unrestricted(request, selection, authentication):
    """The default ``authorize``: the selection as it is."""
    return selection


@dataclass(frozen=True)
class BatchType:
    """One kind of batch; see the module docstring for what each function does."""

    name: str
    # Camunda's 400 for an empty selection, e.g. "jobIds is empty".
    empty_selection_message: str
    selection: Callable[[Any], Selection]
    configuration: Callable[[Any], dict]
    apply_slice: Callable[[list, dict], SliceResult]
    validate: Callable[[Any, Selection], None] = _no_checks
    create_permission: str = None
    authorize: Callable[[Any, Selection, Any], Selection] = _unrestricted
    element_conditions: Callable[[Any], list] = None
    # apply_slice takes a third argument, the SlicePosition (see the module docstring).
    slice_position: bool = False
    # Optional fast path on PostgreSQL for a batch without a restricted creator:
    # apply_stored_slice(stored_ids, configuration) applies the slice to the ids its stored row
    # holds (an app.services.jobs.retries.StoredIds: a SELECT of the row's ids and row
    # addresses, and the parameters naming the row), in the database, and returns how many
    # jobs it changed, or None to take apply_slice for this slice.
    apply_stored_slice: Callable[[Any, dict], int | None] | None = None
    # The registered type whose name this type's batches are stored and executed under.
    stored_as: str | None = None
    # Writes the user operation log entries of the creation (request, number of elements), in
    # the creating transaction (app.services.audit); None: the type logs nothing.
    log_creation: Callable[[Any, int], None] | None = None

    @property
    def stored_type(self):
        """Camunda's ``Batch.type`` of this type's batches (and their execution jobs' handler type)."""
        return self.stored_as or self.name


_TYPES: dict[str, BatchType] = {}


def register_batch_type(batch_type):
    """Add ``batch_type`` to the registry and return it; a name is registered once."""
    existing = _TYPES.get(batch_type.name)
    if existing is not None and existing is not batch_type:
        raise ValueError(f"batch type {batch_type.name!r} is already registered")
    _TYPES[batch_type.name] = batch_type
    return batch_type


def get_batch_type(name):
    """The registered type called ``name``; LookupError for any other name (a programming error:
    requests never choose the type, their route does)."""
    try:
        return _TYPES[name]
    except KeyError:
        raise LookupError(f"no batch type {name!r} is registered") from None


def registered_batch_types():
    return list(_TYPES.values())
