"""Each DTO writer (schemas/) writes exactly the keys of the DTO schema beside it, in its order.

The schemas are what the API document says (spec A21); the writers are what the service sends.
A key added to one and not the other fails here, before schemathesis would find it.
"""

from datetime import datetime

import pytest
from marshmallow import fields

from schemas.batch import (
    BatchDto,
    BatchStatisticsDto,
    HistoricBatchDto,
    batch_dto,
    batch_statistics_dto,
    historic_batch_dto,
)
from schemas.common import CountDto, ErrorDto
from schemas.identity import (
    AuthenticationResult,
    AuthorizationCheckResultDto,
    AuthorizationDto,
    GroupDto,
    GroupInfoDto,
    TenantDto,
    UserProfileDto,
    authorization_check_dto,
    authorization_dto,
    group_dto,
    group_info_dto,
    tenant_dto,
    user_profile_dto,
    verify_dto,
)
from schemas.incident import IncidentDto, incident_dto
from schemas.job import JobDto, job_dto
from schemas.job_definition import JobDefinitionDto, job_definition_dto

_NUMBER_SUFFIXES = ("_jobs", "_elements", "_count", "_created", "_per_seed", "_per_batch_job", "priority")


class AnyRow(dict):
    """A row mapping with a plausible value for every column a writer asks for."""

    def __missing__(self, key):
        if key.endswith(("_time", "_date", "timestamp")):
            return datetime(2024, 1, 31, 13, 45)
        if key in ("suspended",):
            return False
        if key in ("type", "resource_type", "permissions") or key.endswith(_NUMBER_SUFFIXES):
            return 1
        return "x"


ROW = AnyRow()
WRITERS = [
    (JobDto, job_dto(ROW)),
    (BatchDto, batch_dto(ROW)),
    (BatchStatisticsDto, batch_statistics_dto(ROW)),
    (HistoricBatchDto, historic_batch_dto(ROW)),
    (IncidentDto, incident_dto(ROW)),
    (JobDefinitionDto, job_definition_dto(ROW)),
    (UserProfileDto, user_profile_dto(ROW)),
    (GroupDto, group_dto(ROW)),
    (TenantDto, tenant_dto(ROW)),
    (AuthorizationDto, authorization_dto(ROW)),
    (AuthorizationCheckResultDto, authorization_check_dto("READ", "Job", "*", True)),
    (AuthenticationResult, verify_dto("demo", True)),
    (GroupInfoDto, group_info_dto([ROW], [ROW])),
    (CountDto, {"count": 3}),
]


@pytest.mark.parametrize("schema, written", WRITERS, ids=[schema.__name__ for schema, _ in WRITERS])
def test_the_writer_writes_the_keys_of_its_schema_in_order(schema, written):
    assert list(written) == list(schema().fields)
    nested = {name: field for name, field in schema().fields.items()
              if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested)}
    for name, field in nested.items():
        for item in written[name]:
            assert list(item) == list(field.inner.schema.fields), name


def test_every_key_is_required_so_the_document_says_nulls_are_written():
    for schema, _ in WRITERS:
        assert all(field.required for field in schema().fields.values()), schema.__name__


def test_the_error_schema_has_camundas_three_keys_and_admits_more():
    assert list(ErrorDto().fields) == ["type", "message", "code"]
    assert ErrorDto().load({"type": "AuthorizationException", "message": "m", "code": 0, "userId": "u"})
