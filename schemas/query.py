"""The query schemas (GET parameters and POST bodies of Camunda's query resources), Camunda's
sorting rules, and the page of a list (``firstResult`` / ``maxResults``).
"""

from dataclasses import dataclass, field

from marshmallow import EXCLUDE, Schema, fields, post_load

from app.core.errors import InvalidRequest
from schemas.common import BaseSchema, convert_int_param, query_param_error, url


@dataclass
class ResourceQuery:
    """A validated query of any resource: filters (snake_case keys) and the resolved ordering."""

    filters: dict = field(default_factory=dict)
    ordering: list = field(default_factory=list)


_SORT_PROPERTIES = ("sort_by", "sort_order", "sorting")


class QuerySchema(BaseSchema):
    """A resource's query, from URL parameters (GET) or a JSON body (POST): the same fields,
    so GET and POST can never disagree.

    ``post_load`` builds the query with Camunda's checks after the fields: the top-level sort
    values, the filters (:meth:`filters`, which may check more), the sortBy/sortOrder pair and
    the ordering. ``sort_keys`` maps each ``sortBy`` value to its column; ``true_only`` names
    the flags Camunda applies only when true (spec B.1.2).
    """

    resource = "query"
    example = "{}"
    query_class = ResourceQuery
    sort_keys = {}
    true_only = ()

    @property
    def from_get(self):
        return self.location == "query"

    def from_json(self, body):
        if body is None:
            return {}  # an empty body is the empty query (A7)
        if not isinstance(body, dict):
            raise InvalidRequest(f"The {self.resource} must be a JSON object, e.g. {self.example}")
        return body

    @post_load
    def build(self, loaded, **kwargs):
        sort_by, sort_order = loaded.get("sort_by"), loaded.get("sort_order")
        check_sort_values(sort_by, sort_order, self.sort_keys, self.from_get)
        filters = self.filters(loaded)
        check_sort_pair(sort_by, sort_order)
        ordering = resolve_ordering(sort_by, sort_order, loaded.get("sorting"), self.sort_keys)
        return self.query_class(filters=filters, ordering=ordering)

    def filters(self, loaded):
        """The filters: every property given, except nulls, empty lists and true-only flags
        that are false. Resources refine them (precedence between filters, Camunda's checks)."""
        return {key: value for key, value in loaded.items()
                if key not in _SORT_PROPERTIES and value is not None and value != []
                and (key not in self.true_only or value is True)}


def check_sort_values(sort_by, sort_order, valid_sort_by, from_get):
    """Reject an unknown top-level ``sortBy``/``sortOrder`` as Camunda's DTO setters do."""
    if sort_by is not None and sort_by not in valid_sort_by:
        if from_get:
            raise query_param_error("sortBy", sort_by)
        raise InvalidRequest(f"sortBy parameter has invalid value: {sort_by}")
    if sort_order is not None and sort_order not in ("asc", "desc"):
        if from_get:
            raise query_param_error("sortOrder", sort_order)
        raise InvalidRequest(f"sortOrder parameter has invalid value: {sort_order}")


def check_sort_pair(sort_by, sort_order):
    """Camunda needs both of the top-level pair or neither (checked after the filters)."""
    if (sort_by is None) != (sort_order is None):
        raise InvalidRequest("Only a single sorting parameter specified. sortBy and sortOrder required")


def resolve_ordering(sort_by, sort_order, sorting, valid_sort_by):
    """Camunda's ordering state machine (AbstractQueryDto.applySortingOptions + AbstractQuery).

    The top-level pair comes first, then the ``sorting`` array in order. An entry whose
    ``sortBy`` is unknown is skipped, yet its ``sortOrder`` still applies to whatever ordering
    came before, which gives Camunda's NotValidException messages. ``valid_sort_by`` maps each
    ``sortBy`` value to its column; returns ``[(column, "asc"|"desc")]``, so the services never
    see Camunda's sort vocabulary.
    """
    ordering = []  # [key, direction or None]

    def order_by(key):
        if key in valid_sort_by:
            ordering.append([key, None])

    def direction(value):
        if value not in ("asc", "desc"):
            return
        if not ordering:
            raise InvalidRequest(
                "You should call any of the orderBy methods first before specifying a direction: "
                "currentOrderingProperty is null", type="NotValidException")
        if ordering[-1][1] is not None:
            raise InvalidRequest(
                "Invalid query: can specify only one direction desc() or asc() for an ordering "
                "constraint: direction is not null", type="NotValidException")
        ordering[-1][1] = value

    if sort_by is not None:
        order_by(sort_by)
    if sort_order is not None:
        direction(sort_order)
    for entry in sorting or ():
        if entry.get("sortBy") is not None:
            order_by(entry["sortBy"])
        if entry.get("sortOrder") is not None:
            direction(entry["sortOrder"])
    for key, value in ordering:
        if value is None:
            raise InvalidRequest(
                "Invalid query: call asc() or desc() after using orderByXX(): direction is null",
                type="NotValidException")
    return [(valid_sort_by[key], value) for key, value in ordering]


class SortingEntrySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    # Kept under their wire names: resolve_ordering reads them as Camunda's DTO has them.
    sortBy = fields.String(allow_none=True)  # noqa: N815
    sortOrder = fields.String(allow_none=True)  # noqa: N815


class SortableQuerySchema(QuerySchema):
    """A query with Camunda's sorting properties: the top-level pair and (POST) ``sorting``."""

    sort_by = fields.String(data_key="sortBy", allow_none=True)
    sort_order = fields.String(data_key="sortOrder", allow_none=True)
    sorting = fields.List(fields.Nested(SortingEntrySchema), allow_none=True, metadata=url(None))


# --- pages -------------------------------------------------------------------------------------

@dataclass
class Page:
    """Which rows of a list: ``firstResult`` and ``maxResults`` (None: not given), and for the
    job list the position a ``pageToken`` names (schemas.job_page)."""

    first_result: int | None = None
    max_results: int | None = None
    after: list | None = None


def _page_number(name, values):
    """``firstResult`` / ``maxResults``: an empty value is none; otherwise a non-negative int."""
    raw = values[0]
    if raw == "":
        return None
    number = convert_int_param(name, raw)
    if number < 0:
        raise query_param_error(name, raw, reason="must not be negative")
    return number


class PageSchema(BaseSchema):
    """``firstResult`` and ``maxResults``: URL parameters on GET and POST lists alike. Only
    the job list reads ``pageToken`` (schemas.job_page); it is declared here, ignored, so that
    it stays the first field there."""

    after = fields.Raw(data_key="pageToken", metadata=url(None))
    # "type" and "minimum": what the API document says (app.api.openapi_document).
    first_result = fields.Raw(data_key="firstResult", allow_none=True,
                              metadata={**url(_page_number), "type": "integer", "minimum": 0})
    max_results = fields.Raw(data_key="maxResults", allow_none=True,
                             metadata={**url(_page_number), "type": "integer", "minimum": 0})

    @post_load
    def _page(self, loaded, **kwargs):
        return Page(**loaded)
