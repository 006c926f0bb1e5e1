"""What reports_app/middleware.py does: the Content-Security-Policy our pages carry, forms not in UTF-8 refused,
Cache-Control on every private answer."""

import io

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import reverse

from course.wsgi import application
from reports_app.middleware import FORM_NOT_UTF8, PAGE_CSP, PRIVATE_CACHE_CONTROL
from reports_app.models import Answer, ChecklistMark
from tests.helpers.authorization import CASES, ROLES, World, client_as, make_world, send


def test_our_pages_carry_the_policy(alice, group1):
    response = alice.get(reverse("report", args=[group1.pk]))
    assert response["Content-Security-Policy"] == PAGE_CSP
    assert "script-src 'self';" in PAGE_CSP and "'unsafe-inline'" not in PAGE_CSP.split("script-src")[1].split(";")[0]


def test_the_login_page_carries_it_too(client, db):
    assert client.get(reverse("login"))["Content-Security-Policy"] == PAGE_CSP


def test_a_download_keeps_its_own_stricter_policy(alice, group1):
    response = alice.get(reverse("download-html", args=[group1.pk]))
    assert response["Content-Security-Policy"] == "sandbox"


def test_the_admin_is_left_to_django(admin_client):
    assert "Content-Security-Policy" not in admin_client.get(reverse("admin:index"))


def test_non_html_responses_get_no_page_policy(client, db):
    assert "Content-Security-Policy" not in client.get(reverse("healthz"))


# --- forms not in UTF-8: refused with why, before anything reads them ---------------------------------------------

FORM_TYPES = [
    "application/x-www-form-urlencoded; charset=nonexistent-charset",
    "application/x-www-form-urlencoded; charset=utf-32",
    "multipart/form-data; boundary=B0UNDARY; charset=utf-32",
    "multipart/form-data; boundary=B0UNDARY; charset=nonexistent-charset",
]


def form_body(content_type: str, fields: dict[str, str]) -> bytes:
    """The fields as a form of that type, their bytes in UTF-32 (which no UTF-8 reading decodes)."""
    if content_type.startswith("multipart/"):
        parts = [
            b'--B0UNDARY\r\nContent-Disposition: form-data; name="'
            + name.encode()
            + b'"\r\n\r\n'
            + value.encode("utf-32")
            + b"\r\n"
            for name, value in fields.items()
        ]
        return b"".join(parts) + b"--B0UNDARY--\r\n"
    return "&".join(f"{name}={value}" for name, value in fields.items()).encode("utf-32")


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_a_form_not_in_utf8_is_refused_with_why_and_nothing_is_saved(alice, group1, content_type):
    alice.raise_request_exception = False
    posts = [
        (Client(raise_request_exception=False), reverse("login"), {"username": "alice", "password": "pw-alice"}),
        (Client(raise_request_exception=False), reverse("join"), {"code": "x", "repo_url": "https://github.com/a/b"}),
        (alice, reverse("edit-answer", args=[group1.pk, 3]), {"text": "Typed in another charset.", "version": "0"}),
        (alice, reverse("tick-checklist", args=[group1.pk]), {"item": "2"}),
    ]
    for client, url, fields in posts:
        response = client.generic("POST", url, form_body(content_type, fields), content_type=content_type)
        assert (response.status_code, response.content.decode()) == (400, FORM_NOT_UTF8), url
    assert not Answer.objects.exists() and not ChecklistMark.objects.filter(checked=True).exists()
    assert "_auth_user_id" not in Client().session


def test_a_form_in_utf8_is_read_as_usual(alice, group1):
    url = reverse("edit-answer", args=[group1.pk, 3])
    body = "text=Ærlig+talt+%E2%80%94+ja&version=0".encode()
    response = alice.generic("POST", url, body, content_type="application/x-www-form-urlencoded; charset=UTF-8")
    assert response.status_code == 302
    assert Answer.objects.get().text == "Ærlig talt — ja"


def wsgi_post(path: str, content_type: str, body: bytes) -> tuple[str, bytes]:
    """A POST through course/wsgi.py's application, as gunicorn makes it: (status line, body)."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
    }
    started = []
    # as Django's test client does: the test's database connection is not closed around the request
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, lambda status, headers, exc_info=None: started.append(status))
        try:
            return started[0], b"".join(chunks)
        finally:
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_content_type_django_cannot_read_is_refused_not_a_server_error(db):
    """An RFC 2231 charset naming no encoding makes Django raise while it builds the request, before any middleware:
    the WSGI server would answer 500. Our request class records it and the middleware refuses it."""
    status, body = wsgi_post(
        reverse("login"), "application/x-www-form-urlencoded; charset*=nonexistent-charset''utf-8", b"username=a"
    )
    assert (status, body.decode()) == ("400 Bad Request", FORM_NOT_UTF8)


# --- Cache-Control: no copies of private pages ---------------------------------------------------------------------


@pytest.fixture
def world(group1, group2, instructor) -> World:
    return make_world(group1, group2, instructor)


@pytest.mark.parametrize(("name", "case"), CASES)
def test_every_answer_to_a_logged_in_visitor_says_keep_no_copy(world, name, case):
    """Every URL of the authorization matrix, as each logged-in role: pages, refusals, redirects and downloads."""
    got = {}
    for role in ROLES[1:]:
        with transaction.atomic():
            client, user = client_as(role)
            got[role] = send(client, case, world, user).get("Cache-Control")
            transaction.set_rollback(True)
    assert got == dict.fromkeys(ROLES[1:], PRIVATE_CACHE_CONTROL)


def test_logging_in_and_sending_a_form_say_it_too(client, group1):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response["Cache-Control"] == PRIVATE_CACHE_CONTROL
    assert Client().post(reverse("join"), {"code": "wrong"})["Cache-Control"] == PRIVATE_CACHE_CONTROL


def test_public_pages_keep_their_own_headers(client, db):
    assert client.get(reverse("login"))["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    for url in (reverse("healthz"), reverse("join")):
        response = client.get(url)
        assert response.status_code == 200 and "Cache-Control" not in response, url
    # static files are answered by WhiteNoise, before PrivatePagesMiddleware sees the request
    middleware = settings.MIDDLEWARE
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") < middleware.index(
        "reports_app.middleware.PrivatePagesMiddleware"
    )
