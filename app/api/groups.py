"""The group resource (Camunda's ``/group``): create, query (GET and POST), count, get, update,
delete, and members (``PUT`` / ``DELETE /group/{id}/members/{userId}``)."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, responds
from app.api.paging import list_response
from app.services.identity import groups as service
from schemas.common import CountDto
from schemas.identity import GroupDto, GroupQuerySchema, GroupSchema, group_dto
from schemas.query import PageSchema

bp = Blueprint("groups", __name__)


def _list(query, page):
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, limit: service.list_groups(authentication, query, first, limit),
        group_dto,
        stream_rows=lambda first, chunk: service.stream_groups(authentication, query, first, chunk),
    )


@bp.get("/group")
@responds(GroupDto, many=True)
@arguments(GroupQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_groups(query, page):
    return _list(query, page)


@bp.post("/group")
@responds(GroupDto, many=True)
@arguments(GroupQuerySchema)
@arguments(PageSchema, location="query")
def query_groups(query, page):
    return _list(query, page)


@bp.get("/group/count")
@responds(CountDto)
@arguments(GroupQuerySchema, location="query")
def get_group_count(query):
    return count_response(service.count_groups(current_authentication(), query))


@bp.post("/group/count")
@responds(CountDto)
@arguments(GroupQuerySchema)
def query_group_count(query):
    return count_response(service.count_groups(current_authentication(), query))


@bp.post("/group/create")
@responds(status=204)
@arguments(GroupSchema)
def create_group(group):
    service.create_group(current_authentication(), group)
    return no_content()


@bp.get("/group/<group_id>")
@responds(GroupDto)
def get_group(group_id):
    return json_response(group_dto(service.get_group(current_authentication(), group_id)))


@bp.put("/group/<group_id>")
@responds(status=204)
@arguments(GroupSchema)
def update_group(group, group_id):
    service.update_group(current_authentication(), group_id, group)
    return no_content()


@bp.delete("/group/<group_id>")
@responds(status=204)
def delete_group(group_id):
    service.delete_group(current_authentication(), group_id)
    return no_content()


@bp.put("/group/<group_id>/members/<user_id>")
@responds(status=204)
def add_member(group_id, user_id):
    service.add_member(current_authentication(), group_id, user_id)
    return no_content()


@bp.delete("/group/<group_id>/members/<user_id>")
@responds(status=204)
def remove_member(group_id, user_id):
    service.remove_member(current_authentication(), group_id, user_id)
    return no_content()
