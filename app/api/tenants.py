"""The tenant resource (Camunda's ``/tenant``): create, query, count, get, update, delete, and
user and group members (``/tenant/{id}/user-members/{userId}``, ``/group-members/{groupId}``)."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, responds
from app.api.paging import list_response
from app.services.identity import tenants as service
from schemas.common import CountDto
from schemas.identity import TenantDto, TenantQuerySchema, TenantSchema, tenant_dto
from schemas.query import PageSchema

bp = Blueprint("tenants", __name__)


@bp.get("/tenant")
@responds(TenantDto, many=True)
@arguments(TenantQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_tenants(query, page):
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, limit: service.list_tenants(authentication, query, first, limit),
        tenant_dto,
        stream_rows=lambda first, chunk: service.stream_tenants(authentication, query, first, chunk),
    )


@bp.get("/tenant/count")
@responds(CountDto)
@arguments(TenantQuerySchema, location="query")
def get_tenant_count(query):
    return count_response(service.count_tenants(current_authentication(), query))


@bp.post("/tenant/create")
@responds(status=204)
@arguments(TenantSchema)
def create_tenant(tenant):
    service.create_tenant(current_authentication(), tenant)
    return no_content()


@bp.get("/tenant/<tenant_id>")
@responds(TenantDto)
def get_tenant(tenant_id):
    return json_response(tenant_dto(service.get_tenant(current_authentication(), tenant_id)))


@bp.put("/tenant/<tenant_id>")
@responds(status=204)
@arguments(TenantSchema)
def update_tenant(tenant, tenant_id):
    service.update_tenant(current_authentication(), tenant_id, tenant)
    return no_content()


@bp.delete("/tenant/<tenant_id>")
@responds(status=204)
def delete_tenant(tenant_id):
    service.delete_tenant(current_authentication(), tenant_id)
    return no_content()


@bp.put("/tenant/<tenant_id>/user-members/<user_id>")
@responds(status=204)
def add_user_member(tenant_id, user_id):
    service.add_user_member(current_authentication(), tenant_id, user_id)
    return no_content()


@bp.delete("/tenant/<tenant_id>/user-members/<user_id>")
@responds(status=204)
def remove_user_member(tenant_id, user_id):
    service.remove_user_member(current_authentication(), tenant_id, user_id)
    return no_content()


@bp.put("/tenant/<tenant_id>/group-members/<group_id>")
@responds(status=204)
def add_group_member(tenant_id, group_id):
    service.add_group_member(current_authentication(), tenant_id, group_id)
    return no_content()


@bp.delete("/tenant/<tenant_id>/group-members/<group_id>")
@responds(status=204)
def remove_group_member(tenant_id, group_id):
    service.remove_group_member(current_authentication(), tenant_id, group_id)
    return no_content()
