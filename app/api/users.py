"""The user resource (Camunda's ``/user``): create, query, count, profile, credentials, delete."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, json_response, no_content, responds
from app.api.paging import list_response
from app.services.identity import users as service
from schemas.common import CountDto
from schemas.identity import (
    UserCreateSchema,
    UserCredentialsSchema,
    UserProfileDto,
    UserProfileSchema,
    UserQuerySchema,
    user_profile_dto,
)
from schemas.query import PageSchema

bp = Blueprint("users", __name__)


@bp.get("/user")
@responds(UserProfileDto, many=True)
@arguments(UserQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_users(query, page):
    authentication = current_authentication()
    return list_response(
        page,
        lambda first, limit: service.list_users(authentication, query, first, limit),
        user_profile_dto,
        stream_rows=lambda first, chunk: service.stream_users(authentication, query, first, chunk),
    )


@bp.get("/user/count")
@responds(CountDto)
@arguments(UserQuerySchema, location="query")
def get_user_count(query):
    return count_response(service.count_users(current_authentication(), query))


@bp.post("/user/create")
@responds(status=204)
@arguments(UserCreateSchema)
def create_user(user):
    service.create_user(current_authentication(), user.profile, user.password)
    return no_content()


@bp.get("/user/<user_id>/profile")
@responds(UserProfileDto)
def get_profile(user_id):
    return json_response(user_profile_dto(service.get_user(current_authentication(), user_id)))


@bp.put("/user/<user_id>/profile")
@responds(status=204)
@arguments(UserProfileSchema)
def update_profile(profile, user_id):
    service.update_profile(current_authentication(), user_id, profile)
    return no_content()


@bp.put("/user/<user_id>/credentials")
@responds(status=204)
@arguments(UserCredentialsSchema)
def update_credentials(credentials, user_id):
    service.update_credentials(current_authentication(), user_id, credentials.password,
                               credentials.authenticated_user_password)
    return no_content()


@bp.delete("/user/<user_id>")
@responds(status=204)
def delete_user(user_id):
    service.delete_user(current_authentication(), user_id)
    return no_content()
