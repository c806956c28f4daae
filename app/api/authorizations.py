"""The authorization resource (Camunda's ``/authorization``): create, query, count, get, update,
delete, and ``check`` for the caller (or, for a caller who may read authorizations, another user)."""

from flask import Blueprint, request

from app.api.auth import current_authentication
from app.api.common import count_response, json_body, json_response, no_content
from app.api.paging import list_response
from app.core.errors import InvalidRequest
from app.services.identity import authorizations as service
from schemas.common import convert_int_param
from schemas.identity import (
    authorization_check_dto,
    authorization_dto,
    authorization_query_from_args,
    load_authorization,
)

bp = Blueprint("authorizations", __name__)


@bp.get("/authorization")
def get_authorizations():
    authentication, query = current_authentication(), authorization_query_from_args(request.args)
    return list_response(
        lambda first, limit: service.list_authorizations(authentication, query, first, limit),
        lambda first, chunk: service.stream_authorizations(authentication, query, first, chunk),
        authorization_dto,
    )


@bp.get("/authorization/count")
def get_authorization_count():
    query = authorization_query_from_args(request.args)
    return count_response(service.count_authorizations(current_authentication(), query))


@bp.post("/authorization/create")
def create_authorization():
    row = service.create_authorization(current_authentication(), load_authorization(json_body(), creating=True))
    return json_response(authorization_dto(row))


@bp.get("/authorization/check")
def check_authorization():
    args = request.args
    for name in ("permissionName", "resourceName", "resourceType"):
        if args.get(name) is None:
            raise InvalidRequest(f"Query parameter '{name}' cannot be null")
    resource_type = convert_int_param("resourceType", args["resourceType"])
    resource_id = args.get("resourceId")
    authorized = service.check(current_authentication(), args["permissionName"], args["resourceName"],
                               resource_type, resource_id, args.get("userId"))
    return json_response(authorization_check_dto(args["permissionName"], args["resourceName"], resource_id,
                                                 authorized))


@bp.get("/authorization/<authorization_id>")
def get_authorization(authorization_id):
    return json_response(authorization_dto(service.get_authorization(current_authentication(), authorization_id)))


@bp.put("/authorization/<authorization_id>")
def update_authorization(authorization_id):
    values = load_authorization(json_body(), creating=False)
    service.update_authorization(current_authentication(), authorization_id, values)
    return no_content()


@bp.delete("/authorization/<authorization_id>")
def delete_authorization(authorization_id):
    service.delete_authorization(current_authentication(), authorization_id)
    return no_content()
