"""The pages of the site itself: the landing page, the health check, the server error page and the page for a form
that failed its CSRF check."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from ..models import Group
from ..selectors.courses import course_counts
from .access import is_course_staff, wants_json

DATABASE_DOWN = "The site cannot reach its database right now (it is probably restarting). Nothing was saved."


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler for an uncaught exception (called inside its `except`). A database that does not answer (it is
    restarting, say) gets a 503 that says so and gives back the text the person sent, so that nothing typed is lost.
    Rendered without the request: its context would query the database again."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        if wants_json(request):  # the page's script keeps the text and says so
            return JsonResponse({"error": DATABASE_DOWN}, status=503, headers={"Retry-After": "30"})
        text = request.POST.get("text", "") if request.method == "POST" else ""
        page = loader.render_to_string("503.html", {"text": text})
        return HttpResponse(page, status=503, headers={"Retry-After": "30"})
    return HttpResponseServerError(loader.render_to_string("500.html"))


CSRF_REFUSED = (
    "The site could not accept what this page sent: the page was opened before a log-in or log-out (in this tab or "
    "another one), or it is very old. Nothing was saved."
)
CSRF_SAVE_AGAIN = " Your text is below, as you sent it: press Save it now to save it, or copy it."
CSRF_COPY = " Your text is below, as you sent it: copy it, open the page again and paste it there."


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF failure view (settings.CSRF_FAILURE_VIEW), instead of its raw page: says what happened and gives
    the text that was sent back. When the form came from one of our own pages, the text comes in a form that posts it
    again with a fresh token; from anywhere else it is only shown, so that no other site can prepare a save."""
    if wants_json(request):  # the page's script fetches a fresh token from `session` and sends again
        return JsonResponse({"error": CSRF_REFUSED, "csrf": True}, status=403)
    text = request.POST.get("text", "") if request.method == "POST" else ""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    ours = bool(source) and url_has_allowed_host_and_scheme(
        source, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    action = request.path if text and ours and request.user.is_authenticated else ""
    context = {
        "text": text,
        "version": request.POST.get("version", "")[:12],
        "action": action,
        "message": CSRF_REFUSED + ((CSRF_SAVE_AGAIN if action else CSRF_COPY) if text else ""),
    }
    return render(request, "403_csrf.html", context, status=403)


@never_cache
def session(request: HttpRequest) -> JsonResponse:
    """For the editor's script, after a save was refused for its session or its CSRF token: whether this browser is
    logged in, and a CSRF token valid now. Other sites cannot read the answer (no CORS), so the token stays ours."""
    return JsonResponse({"authenticated": request.user.is_authenticated, "csrf": get_token(request)})


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
    """A student in one group lands on its report; staff get each course they have a role in, with its counts of the
    groups they see (a fixed number of queries, whatever the number of courses and groups)."""
    groups = list(Group.objects.filter(memberships__user=request.user).select_related("course"))
    staff = is_course_staff(request.user)
    if len(groups) == 1 and not staff:
        return redirect("report", groups[0].pk)
    courses = course_counts(request.user) if staff else []
    return render(request, "reports_app/home.html", {"groups": groups, "courses": courses, "staff": staff})
