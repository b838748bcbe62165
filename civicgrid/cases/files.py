"""Serving case attachments: staff through their scope, residents through their tracking link.

Files are never served from a public URL: each request is checked here, and the stored bytes
were re-encoded on upload (no metadata, no script riding along).
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from civicgrid.accounts.scopes import request_scope
from civicgrid.cases.models import Attachment
from civicgrid.cases.selectors import case_by_tracking_code, case_get
from civicgrid.errors import NotFound


def serve_attachment(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = attachment.kind == "image"
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not inline,
        filename=attachment.file.name.rsplit("/", 1)[-1],
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def case_file(request, number: str, attachment_id: int):
    if not request.user.is_authenticated:
        raise Http404
    scope = request_scope(request)
    case = case_get(scope=scope, number=number)
    attachments = case.attachments.filter(pk=attachment_id)
    if not (scope.anchors or scope.department_ids or scope.everything):
        # A resident reading their own report gets what the public page shows, no more.
        attachments = attachments.filter(public=True, kind="image")
    attachment = attachments.first()
    if attachment is None:
        raise Http404
    return serve_attachment(attachment)


@require_GET
def case_track_file(request, code: str, attachment_id: int):
    try:
        case = case_by_tracking_code(code)
    except NotFound:
        raise Http404 from None
    attachment = case.attachments.filter(pk=attachment_id, public=True, kind="image").first()
    if attachment is None:
        raise Http404
    return serve_attachment(attachment)
