"""The Content-Security-Policy our pages carry."""

from django.urls import reverse

from reports_app.middleware import PAGE_CSP


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
