"""The user operation log (C.9): ``GET /history/user-operation`` (+ ``/count``), annotations, deletion.

Entries are written by the operations themselves (app.services.audit); this resource reads
them, filtered to what the caller may read (spec A17).
"""

from flask import Blueprint

from app.api.auth import current_authentication
from app.api.common import arguments, count_response, no_content, output_zone
from app.api.paging import list_response
from app.services import audit
from schemas.operation_log import AnnotationSchema, UserOperationLogQuerySchema, user_operation_log_entry_dto
from schemas.query import PageSchema

bp = Blueprint("user_operations", __name__)


@bp.get("/history/user-operation")
@arguments(UserOperationLogQuerySchema, location="query")
@arguments(PageSchema, location="query")
def get_user_operation_log(query, page):
    authentication, zone = current_authentication(), output_zone()
    return list_response(
        page,
        lambda first, limit: audit.list_entries(authentication, query, first, limit),
        lambda row: user_operation_log_entry_dto(row, zone),
        stream_rows=lambda first, chunk: audit.stream_entries(authentication, query, first, chunk),
    )


@bp.get("/history/user-operation/count")
@arguments(UserOperationLogQuerySchema, location="query")
def get_user_operation_log_count(query):
    return count_response(audit.count_entries(current_authentication(), query))


@bp.put("/history/user-operation/<operation_id>/set-annotation")
@arguments(AnnotationSchema)
def set_annotation(annotation, operation_id):
    audit.set_annotation(current_authentication(), operation_id, annotation)
    return no_content()


@bp.put("/history/user-operation/<operation_id>/clear-annotation")
def clear_annotation(operation_id):
    audit.set_annotation(current_authentication(), operation_id, None)
    return no_content()


@bp.delete("/history/user-operation/<entry_id>")
def delete_entry(entry_id):
    audit.delete_entry(current_authentication(), entry_id)
    return no_content()
