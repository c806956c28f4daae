"""The user resource (Camunda's ``/user``): create, query, count, profile, credentials, delete."""

from flask import Blueprint, request

from app.api.auth import current_authentication
from app.api.common import count_response, json_body, json_response, no_content
from app.api.paging import list_response
from app.services.identity import users as service
from schemas.identity import (
    load_user_create,
    load_user_credentials,
    load_user_profile,
    user_profile_dto,
    user_query_from_args,
)

bp = Blueprint("users", __name__)


@bp.get("/user")
def get_users():
    authentication, query = current_authentication(), user_query_from_args(request.args)
    return list_response(
        lambda first, limit: service.list_users(authentication, query, first, limit),
        lambda first, chunk: service.stream_users(authentication, query, first, chunk),
        user_profile_dto,
    )


@bp.get("/user/count")
def get_user_count():
    return count_response(service.count_users(current_authentication(), user_query_from_args(request.args)))


@bp.post("/user/create")
def create_user():
    profile, password = load_user_create(json_body())
    service.create_user(current_authentication(), profile, password)
    return no_content()


@bp.get("/user/<user_id>/profile")
def get_profile(user_id):
    return json_response(user_profile_dto(service.get_user(current_authentication(), user_id)))


@bp.put("/user/<user_id>/profile")
def update_profile(user_id):
    service.update_profile(current_authentication(), user_id, load_user_profile(json_body()))
    return no_content()


@bp.put("/user/<user_id>/credentials")
def update_credentials(user_id):
    password, authenticated_user_password = load_user_credentials(json_body())
    service.update_credentials(current_authentication(), user_id, password, authenticated_user_password)
    return no_content()


@bp.delete("/user/<user_id>")
def delete_user(user_id):
    service.delete_user(current_authentication(), user_id)
    return no_content()
