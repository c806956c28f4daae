"""The loading machinery itself: ``@arguments``, the schema bases, URL conversion, page tokens.

The API tests pin what clients see; these pin the pieces a new schema is built from, so that
a change to a base class fails here first, with a small example.
"""

from datetime import datetime

import pytest
from flask import request
from marshmallow import ValidationError, fields
from werkzeug.datastructures import MultiDict

from app.api.common import arguments
from app.core.errors import ApiError, InvalidRequest
from schemas.batch_query import BatchQuerySchema, BatchStatisticsQuerySchema, HistoricBatchQuerySchema
from schemas.common import BaseSchema, CommandSchema, context_value
from schemas.fields import JavaInteger, storable_text
from schemas.incident import IncidentQuerySchema
from schemas.job_definition import JobDefinitionQuerySchema
from schemas.job_operations import RetriesSchema
from schemas.job_page import decode_page_token, next_page_token
from schemas.job_query import JobQuerySchema
from schemas.query import PageSchema


class _Echo(BaseSchema):
    value = fields.String()


def test_arguments_load_top_down_and_pass_path_values_and_context(app):
    @arguments(_Echo, location="query")
    @arguments(_Echo, context=lambda first: {"job_id": f"after {first['value']}"})
    def view(first, second, job_id):
        return first, second, job_id

    with app.test_request_context("/x?value=from-url", method="PUT", json={"value": "from-body"}):
        assert view(job_id="j1") == ({"value": "from-url"}, {"value": "from-body"}, "j1")


def test_arguments_give_the_hooks_the_path_values_and_then_the_context(app):
    seen = []

    class Recording(_Echo):
        def check_first(self, data):
            seen.append((self.location, context_value("job_id")))

    @arguments(Recording, location="query")
    @arguments(Recording, context=lambda first: {"job_id": "from the context"})
    def view(first, second, job_id):
        return job_id

    with app.test_request_context("/x?value=a", method="PUT", json={"value": "b"}):
        assert view(job_id="j1") == "j1"
    assert seen == [("query", "j1"), ("json", "from the context")]


def test_an_empty_body_reaches_the_schema_as_none(app):
    @arguments(RetriesSchema)
    def view(body):
        return body

    with app.test_request_context("/x", method="PUT", data="  ", content_type="application/json"):
        with pytest.raises(InvalidRequest, match="^retries is null$"):
            view()


# --- command schemas: the first failing check answers --------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"retries": "x", "dueDate": "bad"}, "retries must be an integer, got 'x'"),
    ({"dueDate": "bad"}, "retries is null"),
    ({"retries": -2, "dueDate": "bad"},
     "The number of job retries must be a non-negative Integer, but '-2' has been provided."),
    ({"retries": 1, "dueDate": "bad"},
     'Invalid due date format: Cannot convert value "bad" to java type java.util.Date'),
])
def test_command_schemas_answer_with_the_first_failure(body, message):
    with pytest.raises(InvalidRequest) as raised:
        RetriesSchema().load(body)
    assert raised.value.message == message


def test_absent_and_null_stay_apart():
    absent = RetriesSchema().load({"retries": 1})
    null = RetriesSchema().load({"retries": 1, "dueDate": None})
    assert (absent.due_date_set, absent.due_date) == (False, None)
    assert (null.due_date_set, null.due_date) == (True, None)


def test_a_command_schema_refuses_what_is_not_an_object():
    class Example(CommandSchema):
        example = '{"x": 1}'

    with pytest.raises(InvalidRequest, match=r'^The request body must be a JSON object, e.g. \{"x": 1\}$'):
        Example().load([1])
    assert Example().load(None) == {}


@pytest.mark.parametrize("value, expected", [(5, 5), ("5", 5), (" -7 ", -7), (5.0, 5), (2**31 - 1, 2**31 - 1)])
def test_java_integer_reads_what_jackson_reads(value, expected):
    field = JavaInteger()
    field.name = "n"
    assert field.deserialize(value) == expected


@pytest.mark.parametrize("value, message", [
    (True, "n must be an integer, got True"),
    (1.5, "n must be an integer, got 1.5"),
    (float("nan"), "n must be an integer, got nan"),
    ("x", "n must be an integer, got 'x'"),
    (None, "Field may not be null."),
    (2**31, "n must be between -2147483648 and 2147483647, got 2147483648"),
])
def test_java_integer_refuses_the_rest(value, message):
    field = JavaInteger()
    field.name = "n"
    with pytest.raises(ValidationError) as raised:
        field.deserialize(value)
    assert raised.value.messages == [message]


# --- query schemas -------------------------------------------------------------------------------

QUERY_SCHEMAS = [JobQuerySchema, JobDefinitionQuerySchema, IncidentQuerySchema, BatchQuerySchema,
                 BatchStatisticsQuerySchema, HistoricBatchQuerySchema, PageSchema]


@pytest.mark.parametrize("schema_class", QUERY_SCHEMAS)
def test_every_field_of_a_url_schema_says_how_it_is_read_from_text(schema_class):
    """Made for URL parameters, every schema knows how to read each field from text (a field
    without a converter fails when the schema is made, not on a request); unknown parameters
    are ignored (A6)."""
    schema = schema_class(location="query")
    assert schema.convert_url_params(MultiDict({"unknown": "x", "sorting": "x"})) == {}


def test_a_field_that_cannot_be_read_from_a_url_is_refused_at_once():
    class Unreadable(BaseSchema):
        numbers = fields.List(fields.Integer())

    with pytest.raises(TypeError, match="needs url"):
        Unreadable(location="query")


def test_the_storable_text_check_is_added_once_per_field():
    """marshmallow copies fields shallowly; every instance used to add the check again."""
    for _ in range(3):
        schema = JobQuerySchema()
    for name in ("sort_by", "sort_order", "job_id"):
        assert schema.fields[name].validators.count(storable_text) == 1
    assert schema.fields["job_ids"].inner.validators.count(storable_text) == 1


def test_batch_queries_let_unstorable_text_match_nothing(app):
    with app.test_request_context("/x?batchId=%00&tenantIdIn=%00"):
        query = BatchQuerySchema(location="query").load(request.args)
    assert query.filters["match_nothing"] is True


@pytest.mark.parametrize("args, expected", [
    ({}, (None, None)),
    ({"firstResult": "", "maxResults": ""}, (None, None)),
    ({"firstResult": "3", "maxResults": " 4 "}, (3, 4)),
])
def test_page_numbers(app, args, expected):
    with app.test_request_context("/x", query_string=args):
        page = PageSchema(location="query").load(request.args)
    assert (page.first_result, page.max_results) == expected and page.after is None


@pytest.mark.parametrize("args, message", [
    ({"firstResult": "-1"}, "Cannot set query parameter 'firstResult' to value '-1': must not be negative"),
    ({"maxResults": "1.5"}, "Cannot set query parameter 'maxResults' to value '1.5': "
                            "Cannot convert value 1.5 to java type java.lang.Integer"),
    ({"firstResult": "x", "maxResults": "y"}, "Cannot set query parameter 'firstResult' to value 'x': "
                                              "Cannot convert value x to java type java.lang.Integer"),
])
def test_page_number_errors(app, args, message):
    with app.test_request_context("/x", query_string=args):
        with pytest.raises(ApiError) as raised:
            PageSchema(location="query").load(request.args)
    assert raised.value.message == message


# --- page tokens ---------------------------------------------------------------------------------

def test_a_page_token_names_the_last_row_in_the_full_order():
    row = {"priority": 5, "due_date": datetime(2030, 1, 2, 3, 4, 5, 6000), "id": "j9", "retries": 1}
    ordering = [("priority", "desc"), ("due_date", "asc")]
    token = next_page_token(row, ordering)
    assert decode_page_token(token, ordering) == [
        ("priority", "desc", 5), ("due_date", "asc", datetime(2030, 1, 2, 3, 4, 5, 6000)), ("id", "asc", "j9")]


@pytest.mark.parametrize("other_ordering", [[], [("priority", "asc")], [("priority", "desc"), ("id", "desc")]])
def test_a_page_token_of_another_order_is_refused(other_ordering):
    token = next_page_token({"priority": 5, "id": "j9"}, [("priority", "desc")])
    with pytest.raises(InvalidRequest, match="^pageToken is not a token this query issued"):
        decode_page_token(token, other_ordering)
