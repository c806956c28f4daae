"""The tenant resource (Camunda's ``/tenant``): create, query, count, get, update, delete, and
user and group members (``/tenant/{id}/user-members/{userId}``, ``/group-members/{groupId}``)."""

from flask import Blueprint, request

from app.api.auth import current_authentication
from app.api.common import count_response, json_body, json_response, no_content
from app.api.paging import list_response
from app.services.identity import tenants as service
from schemas.identity import load_tenant, tenant_dto, tenant_query_from_args

bp = Blueprint("tenants", __name__)


@bp.get("/tenant")
def get_tenants():
    authentication, query = current_authentication(), tenant_query_from_args(request.args)
    return list_response(
        lambda first, limit: service.list_tenants(authentication, query, first, limit),
        lambda first, chunk: service.stream_tenants(authentication, query, first, chunk),
        tenant_dto,
    )


@bp.get("/tenant/count")
def get_tenant_count():
    return count_response(service.count_tenants(current_authentication(), tenant_query_from_args(request.args)))


@bp.post("/tenant/create")
def create_tenant():
    service.create_tenant(current_authentication(), load_tenant(json_body()))
    return no_content()


@bp.get("/tenant/<tenant_id>")
def get_tenant(tenant_id):
    return json_response(tenant_dto(service.get_tenant(current_authentication(), tenant_id)))


@bp.put("/tenant/<tenant_id>")
def update_tenant(tenant_id):
    service.update_tenant(current_authentication(), tenant_id, load_tenant(json_body()))
    return no_content()


@bp.delete("/tenant/<tenant_id>")
def delete_tenant(tenant_id):
    service.delete_tenant(current_authentication(), tenant_id)
    return no_content()


@bp.put("/tenant/<tenant_id>/user-members/<user_id>")
def add_user_member(tenant_id, user_id):
    service.add_user_member(current_authentication(), tenant_id, user_id)
    return no_content()


@bp.delete("/tenant/<tenant_id>/user-members/<user_id>")
def remove_user_member(tenant_id, user_id):
    service.remove_user_member(current_authentication(), tenant_id, user_id)
    return no_content()


@bp.put("/tenant/<tenant_id>/group-members/<group_id>")
def add_group_member(tenant_id, group_id):
    service.add_group_member(current_authentication(), tenant_id, group_id)
    return no_content()


@bp.delete("/tenant/<tenant_id>/group-members/<group_id>")
def remove_group_member(tenant_id, group_id):
    service.remove_group_member(current_authentication(), tenant_id, group_id)
    return no_content()
