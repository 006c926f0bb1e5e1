"""The pages of the site itself: the landing page, the health check and the server error page."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader

from ..models import Course, Group


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler for an uncaught exception (called inside its `except`). A database that does not answer (it is
    restarting, say) gets a 503 that says so and gives back the text the person sent, so that nothing typed is lost.
    Rendered without the request: its context would query the database again."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        text = request.POST.get("text", "") if request.method == "POST" else ""
        page = loader.render_to_string("503.html", {"text": text})
        return HttpResponse(page, status=503, headers={"Retry-After": "30"})
    return HttpResponseServerError(loader.render_to_string("500.html"))


def healthz(request: HttpRequest) -> HttpResponse:
    """For the container's health check: 200 when the site answers and reaches its database, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    groups = list(Group.objects.filter(memberships__user=request.user).select_related("course"))
    if len(groups) == 1 and not request.user.is_staff:
        return redirect("report", groups[0].pk)
    courses = Course.objects.prefetch_related("groups") if request.user.is_staff else Course.objects.none()
    return render(request, "reports_app/home.html", {"groups": groups, "courses": courses})
