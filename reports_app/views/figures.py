"""A group's figures: the figures page (upload, also as JSON for a paste or a drop in the editor), serving a figure
and the earlier files in its history, deleting one (undone by restoring it)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from ..engine.figures import FigureRejected
from ..forms.students import FigureForm
from ..models import Figure, FigureVersion
from ..services.figures import (
    FigureAdded,
    FigureExists,
    FigureNotRestorable,
    figure_add,
    figure_delete,
    figure_history,
    figure_restore,
    figure_users,
)
from .access import Access, closes_cleanly, form_refused, get_access, login_required, refuse_write, wants_json

UPLOADED = "Uploaded {name}. Paste {snippet} into an answer to show it."
REPLACED = "Replaced {name} with the new image (version {version}); the old one stays in its history."
ALREADY_THERE = "This image is uploaded already, as {name}."
EXISTS = (
    "A figure named {name} exists. Choose below: replace it (the old one stays in its history) or upload this one "
    "under a new name, then choose the file again."
)
EXISTS_JSON = "A figure named {name} exists: replace it (the old one stays in its history) or upload under a new name."
RESTORED = "Restored {name}."
NOT_RESTORABLE = "{name} cannot be restored while a figure named {other} exists: delete or rename that one first."


def _added_message(added: FigureAdded) -> str:
    figure = added.figure
    if not added.created:
        return ALREADY_THERE.format(name=figure.name)
    if added.replaced:
        return REPLACED.format(name=figure.name, version=figure.version)
    return UPLOADED.format(name=figure.name, snippet=figure.snippet)


@login_required
@closes_cleanly
def figures(request: HttpRequest, group_id: int) -> HttpResponse:
    """The figures page; a POST uploads one (a plain form gets a redirect, the editor's script JSON)."""
    access = get_access(request, group_id)
    form = FigureForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if refused := refuse_write(request, access):
            return refused
        if form.is_valid():
            try:
                added = figure_add(
                    report=access.report,
                    data=form.cleaned_data["file"].read(),
                    wanted_name=form.wanted_name(),
                    user=request.user,
                    if_exists=form.if_exists(),
                )
            except FigureRejected as error:
                form.add_error("file", str(error))
            except FigureExists as error:
                if wants_json(request):
                    return JsonResponse(
                        {"error": EXISTS_JSON.format(name=error.name), "exists": error.name}, status=409
                    )
                form.add_error("replace", EXISTS.format(name=error.name))
            else:
                if wants_json(request):
                    return _added_json(access, added)
                messages.success(request, _added_message(added))
                return redirect("figures", group_id)
        if wants_json(request):
            return form_refused(form)
    return render(request, "reports_app/figures.html", _page_context(request, access, form))


def _added_json(access: Access, added: FigureAdded) -> JsonResponse:
    figure = added.figure
    return JsonResponse(
        {
            "name": figure.name,
            "snippet": figure.snippet,
            "url": reverse("figure", args=[access.group.pk, figure.name]),
            "created": added.created,
            "replaced": added.replaced,
            "message": _added_message(added),
        }
    )


def _page_context(request: HttpRequest, access: Access, form: FigureForm) -> dict:
    figure_list = list(access.report.figures.select_related("uploaded_by"))
    used = figure_users(access.report.answers.select_related("question"))
    history = figure_history(access.report)
    current = {f.name for f in figure_list}
    deleted = sorted(
        (versions[0] for name, versions in history.items() if name not in current),
        key=lambda version: version.archived_at,
        reverse=True,
    )
    just_deleted = request.GET.get("deleted")
    return {
        "access": access,
        "group": access.group,
        "form": form,
        "figures": [(f, used.get(f.name, []), history.get(f.name, [])) for f in figure_list],
        "deleted": deleted,
        "just_deleted": next((v for v in deleted if v.name == just_deleted), None),
    }


def figure_response(file: FieldFile, content_type: str) -> FileResponse:
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
def figure(request: HttpRequest, group_id: int, name: str) -> FileResponse:
    access = get_access(request, group_id)
    found = get_object_or_404(Figure, report=access.report, name=name)
    return figure_response(found.file, found.content_type)


@login_required
def figure_version(request: HttpRequest, group_id: int, name: str, number: int) -> FileResponse:
    """An earlier file of a figure (or of a deleted one), from its history."""
    access = get_access(request, group_id)
    found = get_object_or_404(FigureVersion, report=access.report, name=name, number=number)
    return figure_response(found.file, found.content_type)


@login_required
@closes_cleanly
def delete_figure(request: HttpRequest, group_id: int, name: str) -> HttpResponse:
    """Deletes at once a figure no answer uses, after a confirmation one that is used; either way the figures page
    then offers to undo it (the file stays in the figure's history)."""
    access = get_access(request, group_id)
    found = get_object_or_404(Figure, report=access.report, name=name)
    used_by = figure_users(access.report.answers.select_related("question")).get(name, [])
    if request.method == "POST":
        if refused := refuse_write(request, access):
            return refused
        if not used_by or request.POST.get("confirm") == "yes":
            figure_delete(figure=found, user=request.user)  # the figures page says so, with an Undo button
            return redirect(reverse("figures", args=[group_id]) + "?" + urlencode({"deleted": name}))
    context = {"access": access, "group": access.group, "figure": found, "used_by": used_by}
    return render(request, "reports_app/delete_figure.html", context)


@login_required
@require_POST
@closes_cleanly
def restore_figure(request: HttpRequest, group_id: int, name: str) -> HttpResponse:
    """Undo a delete: the figure's last file becomes the figure again."""
    access = get_access(request, group_id)
    if refused := refuse_write(request, access):
        return refused
    try:
        figure_restore(report=access.report, name=name, user=request.user)
    except FigureVersion.DoesNotExist:
        raise Http404("No deleted figure of that name") from None
    except FigureNotRestorable as error:
        messages.error(request, NOT_RESTORABLE.format(name=name, other=error.name))
    else:
        messages.success(request, RESTORED.format(name=name))
    return redirect("figures", group_id)
