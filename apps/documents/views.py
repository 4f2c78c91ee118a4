"""Document pages: the upload form for an application, and the download.

Reads go through the selectors and writes through the services, which check permission again.
Refusals keep their meaning: a rejected file is a field error next to the file input (400),
a closed application or quarantined document 409, a role that may not upload 403, and a file
or document the viewer may not see 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from apps.applications.permissions import can_prepare
from apps.applications.selectors import application_get
from apps.core.exceptions import DomainError
from apps.documents import services
from apps.documents.forms import DocumentUploadForm
from apps.documents.safety import UploadRejected, human_size
from apps.documents.selectors import document_get, document_list
from apps.documents.upload_handlers import SizeCapUploadHandler, max_upload_bytes


def _context(request, application, form) -> dict:
    return {"application": application, "form": form,
            "documents": document_list(viewer=request.user,
                                       filters={"application": application}),
            "may_upload": can_prepare(application, request.user)}


@csrf_exempt  # only so the upload handler can be swapped before the body is read; see below
@login_required
def document_upload(request, application_id: int):
    """Upload form for one application; htmx posts get the form partial back."""
    # Upload handlers must be changed before anything reads request.POST, which CSRF checking
    # does; so CSRF is exempted here and enforced on the inner view (Django docs, "Modifying
    # upload handlers on the fly").
    request.upload_handlers.insert(0, SizeCapUploadHandler(request))
    return _document_upload(request, application_id)


@csrf_protect
def _document_upload(request, application_id: int):
    application = application_get(viewer=request.user, application_id=application_id)  # 404
    template = ("documents/partials/upload_form.html" if request.headers.get("HX-Request")
                else "documents/upload.html")
    if request.method != "POST":
        initial = {"document_type": request.GET.get("type")} if request.GET.get("type") else {}
        return render(request, template, _context(request, application,
                                                  DocumentUploadForm(initial=initial)))

    form = DocumentUploadForm(request.POST, request.FILES)
    status = 200
    if getattr(request, "documents_upload_too_large", False):
        form.is_valid()
        form.errors.pop("file", None)
        form.add_error("file", _("The file is larger than the %(limit)s any document may be.")
                       % {"limit": human_size(max_upload_bytes())})
    elif form.is_valid():
        try:
            document = services.document_upload(
                application_id=application.pk,
                document_type_code=form.cleaned_data["document_type"].code,
                uploaded_file=form.cleaned_data["file"], actor=request.user,
                valid_until=form.cleaned_data.get("valid_until"))
        except UploadRejected as exc:
            form.add_error("file", exc.message)
        except PermissionDenied:
            raise
        except DomainError as exc:
            form.add_error(None, exc.detail)
            status = exc.status_code
        else:
            if not request.headers.get("HX-Request"):
                return redirect("documents:upload", application_id=application.pk)
            context = _context(request, application, DocumentUploadForm())
            context["uploaded"] = document
            return render(request, template, context)
    if form.errors and status == 200:
        status = 400
    return render(request, template, _context(request, application, form), status=status)


@require_GET
@login_required
def document_download(request, document_id: int):
    """The file as an attachment, labelled with the type detected at upload and `nosniff`, so
    no browser renders it inline or guesses it is HTML (OWASP File Upload Cheat Sheet)."""
    try:
        document, handle = services.document_download(document_id=document_id,
                                                      actor=request.user)
    except DomainError as exc:
        return render(request, "documents/refused.html", {"detail": exc.detail},
                      status=exc.status_code)
    if isinstance(handle, str):  # a short-lived signed URL of the object store
        response = HttpResponseRedirect(handle)
        response["Cache-Control"] = "private, no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
    response = FileResponse(handle, as_attachment=True,
                            filename=services.document_download_filename(document),
                            content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the checklist section: polling, re-run and waivers ----------------------------------------

def _checklist_response(request, application_id: int, *, error: str = "", status: int = 200):
    from apps.documents.sections import checklist_context

    application = application_get(viewer=request.user, application_id=application_id)  # 404
    if not request.headers.get("HX-Request"):
        return redirect("applications:detail", application.pk)
    data = checklist_context(request.user, application)
    data["error"] = error
    return render(request, "documents/partials/checklist_section.html", {"data": data},
                  status=status)


@require_GET
@login_required
def checklist(request, application_id: int):
    """The checklist section alone, for htmx polling while checks run."""
    from apps.documents.sections import checklist_context

    application = application_get(viewer=request.user, application_id=application_id)  # 404
    return render(request, "documents/partials/checklist_section.html",
                  {"data": checklist_context(request.user, application)})


def _command(request, application_id: int, run):
    """Run a service; its refusal is shown in the section with its status (403/409/400)."""
    try:
        run()
    except DomainError as exc:
        messages = [str(exc.detail), *(str(m) for ms in exc.fields.values() for m in ms)]
        return _checklist_response(request, application_id, error=" ".join(messages),
                                   status=exc.status_code)
    return _checklist_response(request, application_id)


@require_POST
@login_required
def recheck(request, document_id: int):
    from apps.documents.checking import document_recheck

    document = document_get(viewer=request.user, document_id=document_id)  # 404
    return _command(request, document.application_id,
                    lambda: document_recheck(document_id=document.pk, actor=request.user))


@require_POST
@login_required
def waive(request, document_id: int):
    from apps.documents.waivers import document_waive

    document = document_get(viewer=request.user, document_id=document_id)  # 404
    return _command(request, document.application_id, lambda: document_waive(
        document_id=document.pk, actor=request.user, reason=request.POST.get("reason", "")))


@require_POST
@login_required
def requirement_waive(request, application_id: int, requirement_id: int):
    from apps.documents.waivers import requirement_waive as waive_requirement

    application_get(viewer=request.user, application_id=application_id)  # 404
    return _command(request, application_id, lambda: waive_requirement(
        application_id=application_id, requirement_id=requirement_id, actor=request.user,
        reason=request.POST.get("reason", "")))
