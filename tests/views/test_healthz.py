"""The health check the containers use: the site answers and reaches its database."""

import json
from pathlib import Path

from django.urls import reverse

from tests.helpers.processes import without_database

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_ok_without_logging_in(client, db):
    response = client.get(reverse("healthz"))
    assert (response.status_code, response.content) == (200, b"ok\n")


def test_healthz_is_503_when_the_database_is_unreachable():
    """A site started against a PostgreSQL that is not there (port 1 on this machine refuses at once)."""
    code = (
        "from django.test import Client; r = Client().get('/healthz'); print(r.status_code, r.content.decode().strip())"
    )
    result = without_database(code)
    assert result.stdout.strip().splitlines()[-1] == "503 database unavailable", result.stderr
    assert "Service Unavailable: /healthz" in result.stdout  # logs go to stdout, as containers expect


def test_healthz_is_not_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("login")).status_code == 301


def test_a_save_while_the_database_is_down_gets_a_503_that_gives_the_text_back():
    """Any page: the session lookup fails first. The person is told why, and what they typed is on the page."""
    code = (
        "from django.test import Client; "
        "c = Client(raise_request_exception=False); c.cookies['sessionid'] = 'x' * 32; "
        "r = c.post('/groups/1/questions/1/', {'text': 'Our <b>answer</b>, typed for an hour', 'version': '3'}); "
        "import json; print(json.dumps([r.status_code, r['Retry-After'], r.content.decode()]))"
    )
    result = without_database(code, debug=False)
    status, retry_after, page = json.loads(result.stdout.strip().splitlines()[-1])
    assert (status, retry_after) == (503, "30"), result.stderr
    assert "The site cannot reach its database right now" in page
    assert "Our &lt;b&gt;answer&lt;/b&gt;, typed for an hour</textarea>" in page


def test_other_errors_get_the_500_page(client, db, settings):
    from reports_app.views.system import server_error

    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(client.get(reverse("healthz")).wsgi_request)
    assert response.status_code == 500 and b"Something went wrong on our side" in response.content
