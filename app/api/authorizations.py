"""The authorization resource (Camunda's ``/authorization``): create, query, count, get, update,
delete, and ``check`` for the caller (or, for a caller who may read authorizations, another user)."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, responds
from app.api.paging import list_response
from app.services.identity import authorizations as service
from schemas.common import CountDto
from schemas.identity import (
    AuthorizationCheckResultDto,
    AuthorizationCheckSchema,
    AuthorizationCreateSchema,
    AuthorizationDto,
    AuthorizationQuerySchema,
    AuthorizationSchema,
    authorization_check_dto,
    authorization_dto,
)
from schemas.query import PageSchema

bp = Blueprint("authorizations", __name__)


@bp.get("/authorization")
@responds(AuthorizationDto, many=True)
@arguments(AuthorizationQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_authorizations(query, page):
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, limit: service.list_authorizations(authentication, query, first, limit),
        authorization_dto,
        stream_rows=lambda first, chunk: service.stream_authorizations(authentication, query, first, chunk),
    )


@bp.get("/authorization/count")
@responds(CountDto)
@arguments(AuthorizationQuerySchema, location="query")
def get_authorization_count(query):
    return count_response(service.count_authorizations(current_authentication(), query))


@bp.post("/authorization/create")
@responds(AuthorizationDto)
@arguments(AuthorizationCreateSchema)
def create_authorization(values):
    return json_response(authorization_dto(service.create_authorization(current_authentication(), values)))


@bp.get("/authorization/check")
@responds(AuthorizationCheckResultDto)
@arguments(AuthorizationCheckSchema, location="query")
def check_authorization(check):
    authorized = service.check(current_authentication(), check.permission_name, check.resource_name,
                               check.resource_type, check.resource_id, check.user_id)
    return json_response(authorization_check_dto(check.permission_name, check.resource_name, check.resource_id,
                                                 authorized))


@bp.get("/authorization/<authorization_id>")
@responds(AuthorizationDto)
def get_authorization(authorization_id):
    return json_response(authorization_dto(service.get_authorization(current_authentication(), authorization_id)))


@bp.put("/authorization/<authorization_id>")
@responds(status=204)
@arguments(AuthorizationSchema)
def update_authorization(values, authorization_id):
    service.update_authorization(current_authentication(), authorization_id, values)
    return no_content()


@bp.delete("/authorization/<authorization_id>")
@responds(status=204)
def delete_authorization(authorization_id):
    service.delete_authorization(current_authentication(), authorization_id)
    return no_content()
