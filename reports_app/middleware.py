"""Headers every page of ours carries, and requests refused before any view reads them."""

import codecs

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

# Our pages load scripts and styles from our own static files only; nothing may frame them or post elsewhere.
# Inline style attributes stay allowed (a progress bar's width); inline scripts and event handlers never are.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Adds PAGE_CSP to HTML responses that set no policy of their own (figures and downloads set stricter ones).

    The admin is left to Django: its pages are not ours to vouch for.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request):
        response = self.get_response(request)
        is_html = response.get("Content-Type", "").startswith("text/html")
        if is_html and "Content-Security-Policy" not in response and not request.path.startswith(self.admin_prefix):
            response["Content-Security-Policy"] = PAGE_CSP
        return response


# --- requests whose form is not UTF-8 ------------------------------------------------------------------------------

FORM_NOT_UTF8 = (
    "This request says its form is in a character set other than UTF-8 (or in one that does not exist), so nothing "
    "in it was read and nothing was saved. Send the form again from the site's own page: it sends UTF-8.\n"
)


class Request(WSGIRequest):
    """Django's request, except that a Content-Type header Django cannot read is recorded instead of raised: an RFC
    2231 `charset*=` naming an unknown encoding makes Django raise ValueError before any middleware runs, which the
    WSGI server answers with a 500. RequestEncodingMiddleware refuses such a request. (course/wsgi.py uses it.)"""

    unreadable_content_type = False

    def _set_content_type_params(self, meta) -> None:
        try:
            super()._set_content_type_params(meta)
        except ValueError:
            self.content_type, self.content_params, self.unreadable_content_type = "", {}, True


def _is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


class RequestEncodingMiddleware:
    """Refuses (400, saying why) a request whose Content-Type names a character set other than UTF-8, one that does
    not exist, or cannot be read at all. Our pages send UTF-8 only; Django would refuse some such forms with a bare
    400, silently ignore an unknown set, or decode a multipart form with the wrong one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = request.content_params.get("charset")
        if getattr(request, "unreadable_content_type", False) or (charset is not None and not _is_utf8(charset)):
            return HttpResponse(FORM_NOT_UTF8, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


# --- no copies of private pages ------------------------------------------------------------------------------------

PRIVATE_CACHE_CONTROL = "private, no-store"


class PrivatePagesMiddleware:
    """`Cache-Control: private, no-store` on every answer that may be someone's own: to a logged-in visitor (who has a
    session cookie), one that logs in (sets it), and any answer to a form sent (it may show what was typed back).
    Neither the browser nor anything between may keep a copy of a report, a download or a staff page. Public pages
    (the login page, /healthz, static files served by WhiteNoise before this runs) keep their own headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = settings.SESSION_COOKIE_NAME
        if request.method not in ("GET", "HEAD") or session in request.COOKIES or session in response.cookies:
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response
