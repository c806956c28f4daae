"""The group resource (Camunda's ``/group``): create, query (GET and POST), count, get, update,
delete, and members (``PUT`` / ``DELETE /group/{id}/members/{userId}``)."""

from flask import Blueprint, request

from app.api.auth import current_authentication
from app.api.common import count_response, json_body, json_response, no_content
from app.api.paging import list_response
from app.services.identity import groups as service
from schemas.identity import group_dto, group_query_from_args, group_query_from_json, load_group

bp = Blueprint("groups", __name__)


def _list(query):
    authentication = current_authentication()
    return list_response(
        lambda first, limit: service.list_groups(authentication, query, first, limit),
        lambda first, chunk: service.stream_groups(authentication, query, first, chunk),
        group_dto,
    )


@bp.get("/group")
def get_groups():
    return _list(group_query_from_args(request.args))


@bp.post("/group")
def query_groups():
    return _list(group_query_from_json(json_body()))


@bp.get("/group/count")
def get_group_count():
    return count_response(service.count_groups(current_authentication(), group_query_from_args(request.args)))


@bp.post("/group/count")
def query_group_count():
    return count_response(service.count_groups(current_authentication(), group_query_from_json(json_body())))


@bp.post("/group/create")
def create_group():
    service.create_group(current_authentication(), load_group(json_body()))
    return no_content()


@bp.get("/group/<group_id>")
def get_group(group_id):
    return json_response(group_dto(service.get_group(current_authentication(), group_id)))


@bp.put("/group/<group_id>")
def update_group(group_id):
    service.update_group(current_authentication(), group_id, load_group(json_body()))
    return no_content()


@bp.delete("/group/<group_id>")
def delete_group(group_id):
    service.delete_group(current_authentication(), group_id)
    return no_content()


@bp.put("/group/<group_id>/members/<user_id>")
def add_member(group_id, user_id):
    service.add_member(current_authentication(), group_id, user_id)
    return no_content()


@bp.delete("/group/<group_id>/members/<user_id>")
def remove_member(group_id, user_id):
    service.remove_member(current_authentication(), group_id, user_id)
    return no_content()
