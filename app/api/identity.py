"""Camunda's ``/identity``: ``POST /identity/verify`` (does this user name and password match?)
and ``GET /identity/groups?userId=`` (a user's groups and the users sharing them)."""

from flask import Blueprint, request

from app.api.auth import current_authentication
from app.api.common import json_body, json_response
from app.core.errors import InvalidRequest
from app.services.auth import authenticate
from app.services.identity import groups
from schemas.identity import group_info_dto, load_verify, verify_dto

bp = Blueprint("identity", __name__)


@bp.post("/identity/verify")
def verify_user():
    """Same check (and same timing for unknown users) as the login itself."""
    username, password = load_verify(json_body())
    return json_response(verify_dto(username, authenticate(username, password) is not None))


@bp.get("/identity/groups")
def get_group_info():
    user_id = request.args.get("userId")
    if user_id is None:
        raise InvalidRequest("No user id was supplied")
    user_groups, others = groups.group_info(current_authentication(), user_id)
    return json_response(group_info_dto(user_groups, others))
