"""CSRF on every POST: each POST request of tests/views/test_authorization.py's table, posted by someone who may, is
refused without a token (403, nothing changes, no mail) and does what the table says with one."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertContains, assertNotContains

from reports_app.views.system import CSRF_REFUSED
from tests.helpers.authorization import (
    NEW_PASSWORD,
    NOT_SECRET,
    ROLES,
    TABLE,
    World,
    client_as,
    make_world,
    outcome,
    send,
    snapshot,
    wanted,
)

RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")

POSTS = [pytest.param(name, case, id=name) for name, cases in TABLE.items() for case in cases if case.method == "post"]
WITHOUT_POST = [name for name, cases in TABLE.items() if all(case.method == "get" for case in cases)]


@pytest.fixture
def world(group1, group2, instructor) -> World:
    return make_world(group1, group2, instructor)


def csrf_client(role: str):
    """A client that checks CSRF as a browser does, logged in as `role`, holding the CSRF cookie a page gave it."""
    client, user = client_as(role, enforce_csrf_checks=True)
    assert client.get(reverse("login")).status_code == 200
    return client, user, client.cookies["csrftoken"].value


@pytest.mark.parametrize(("name", "case"), POSTS)
def test_a_post_without_the_token_is_refused_and_with_it_works(world, mailoutbox, name, case):
    client, user, token = csrf_client(case.csrf_as)
    before = snapshot()

    refused = send(client, case, world, user)

    assertContains(refused, escape(CSRF_REFUSED), status_code=403)
    assert snapshot() == before and mailoutbox == []

    response = send(client, case, world, user, csrfmiddlewaretoken=token)

    assert outcome(response, world, before) == wanted(case.expect[ROLES.index(case.csrf_as)], world)


def test_every_url_that_takes_a_post_is_covered():
    """Only views that never write on POST may lack a POST row (and a CSRF example)."""
    assert {param.values[0] for param in POSTS} == {
        "answer-draft",
        "login",
        "logout",
        "password_change",
        "password_reset",
        "password_reset_confirm",
        "join",
        "invitation",
        "edit-answer",
        "restore-answer",
        "tick-checklist",
        "figures",
        "delete-figure",
        "restore-figure",
        "start-job",
        "rerun-job",
        "admin:reports_app_reporttemplate_load",
        "admin:reports_app_course_import_roster",
        "admin:reports_app_course_move_reports",
        "admin:reports_app_course_assign_graders",
        "request-regrade",
        "answer-regrade",
        "release-grades",
        "grade",
        "reveal-groups",
        "rubric-edit",
        "retry-mails",
    }


@pytest.mark.parametrize("name", WITHOUT_POST)
@pytest.mark.parametrize("role", ["member", "superuser"])
def test_a_view_without_a_post_row_writes_nothing_when_posted_to(world, name, role):
    """Even with a valid token: a view that starts writing on POST must get a POST row in the table."""
    client, _, token = csrf_client(role)
    (case,) = TABLE[name]
    before = snapshot()

    client.post(case.url(world), {"csrfmiddlewaretoken": token})

    assert snapshot() == before


def test_the_checklist_script_sends_the_token_in_a_header(world):
    client, _, token = csrf_client("member")
    checklist = reverse("tick-checklist", args=[world.group.pk])
    item = str(world.template.checklist.first().position)

    refused = client.post(checklist, {"item": item}, headers={"Accept": "application/json"})
    response = client.post(checklist, {"item": item}, headers={"Accept": "application/json", "X-CSRFToken": token})

    assert refused.status_code == 403
    assert response.json() == {"saved": {item: True}}


def test_choosing_a_password_from_a_reset_link_needs_the_token(world, mailoutbox):
    client, _, token = csrf_client("anonymous")
    client.post(reverse("password_reset"), {"email": "alice@example.com", "csrfmiddlewaretoken": token})
    link = RESET_LINK.search(mailoutbox[0].body).group(1)
    set_password = client.get(link)["Location"]
    form = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    refused = client.post(set_password, form)
    alice = get_user_model().objects.get(username="alice")

    assertContains(refused, escape(CSRF_REFUSED), status_code=403)
    assert alice.check_password(NOT_SECRET)

    response = client.post(set_password, form | {"csrfmiddlewaretoken": token})

    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


# --- the text of a refused save comes back --------------------------------------------------------------------------

TYPED = "Typed for an hour, then the tab's token went stale <b>really</b>."


def refused_save(group1, referer: str):
    """alice's editor page, then a save whose token no longer matches (she logged in again in another tab)."""
    client, _, _ = csrf_client("member")
    url = reverse("edit-answer", args=[group1.pk, 2])
    response = client.post(url, {"text": TYPED, "version": 0, "csrfmiddlewaretoken": "x" * 64}, HTTP_REFERER=referer)
    return client, url, response


def test_a_save_refused_by_csrf_gives_the_text_back_in_a_form_that_saves_it(group1):
    client, url, refused = refused_save(group1, referer=f"http://testserver/groups/{group1.pk}/questions/2/")

    assertContains(refused, escape(CSRF_REFUSED), status_code=403)
    assertContains(refused, escape(TYPED), status_code=403)  # in the textarea, escaped
    assertNotContains(refused, "<b>really</b>", status_code=403)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', refused.content.decode()).group(1)
    assert f'action="{url}"' in refused.content.decode()

    saved = client.post(url, {"text": TYPED, "version": 0, "csrfmiddlewaretoken": token})

    assert saved.status_code == 302
    assert client.get(reverse("report", args=[group1.pk])).content.decode().count("really") == 1


def test_a_post_from_another_site_only_shows_the_text_and_offers_no_save(group1):
    _, url, refused = refused_save(group1, referer="https://evil.example/form")

    assertContains(refused, escape(TYPED), status_code=403)
    assert f'action="{url}"' not in refused.content.decode()
    assertContains(refused, "readonly", status_code=403)


def test_a_refused_post_without_text_says_what_happened(group1):
    client, _, _ = csrf_client("member")
    refused = client.post(reverse("tick-checklist", args=[group1.pk]), {"item": "1"})
    assertContains(refused, escape(CSRF_REFUSED), status_code=403)
    assertNotContains(refused, "CSRF verification failed", status_code=403)
