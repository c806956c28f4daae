"""Camunda's ``/identity``: ``POST /identity/verify`` (does this user name and password match?)
and ``GET /identity/groups?userId=`` (a user's groups and the users sharing them)."""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, json_response, responds
from app.services.auth import authenticate
from app.services.identity import groups
from schemas.identity import (
    AuthenticationResult,
    GroupInfoDto,
    GroupInfoSchema,
    VerifySchema,
    group_info_dto,
    verify_dto,
)

bp = Blueprint("identity", __name__)


@bp.post("/identity/verify")
@responds(AuthenticationResult)
@arguments(VerifySchema)
def verify_user(credentials):
    """Same check (and same timing for unknown users) as the login itself."""
    authenticated = authenticate(credentials.username, credentials.password) is not None
    return json_response(verify_dto(credentials.username, authenticated))


@bp.get("/identity/groups")
@responds(GroupInfoDto)
@arguments(GroupInfoSchema, location="query")
def get_group_info(user_id):
    user_groups, others = groups.group_info(current_authentication(), user_id)
    return json_response(group_info_dto(user_groups, others))
