"""One rule for repo URLs (repo_urls.check_url) wherever a URL comes in: the admin's group form and /join/ refuse the
same URLs with the same sentence. The roster import is in test_import_roster.py, the scrape in test_scraping.py."""

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from reports_app.engine import repo_urls
from reports_app.models import Group
from tests.helpers.forms import empty_inlines

ESCAPING = "file:///srv/repos/%2e%2e/outside/x.git"  # git reads /srv/outside/x.git
DOTS = "The repo URL must not contain . or .. path segments."


@pytest.fixture(autouse=True)
def _allowed(settings):
    settings.SCRAPE_ALLOWED_URLS = ["https://github.com/", "file:///srv/repos/"]


def sentence(reason: str) -> str:
    return f"{reason[0].upper()}{reason[1:]}."


def group_form(course, repo_url: str, number: int = 5) -> dict[str, str]:
    """The admin's group form as a browser posts it (no members)."""
    return {
        "course": str(course.pk),
        "number": str(number),
        "name": "Otters",
        "repo_url": repo_url,
        "extension_0": "",
        "extension_1": "",
        **empty_inlines("memberships", "graders"),
    }


@pytest.mark.parametrize(
    ("repo_url", "message"),
    [
        ("ext::sh -c x", sentence(repo_urls.URL_SPACES)),
        ("ext::sh", sentence(repo_urls.URL_TRANSPORT)),
        (ESCAPING, DOTS),
        ("file:///srv/repos/..%2Foutside/x.git", sentence(repo_urls.URL_HIDDEN)),
        ("https://me:token@github.com/otters/mlops", sentence(repo_urls.URL_CREDENTIALS)),
        ("file:///srv/repos-evil/x.git", "The repo URL must start with https://github.com/ or file:///srv/repos/."),
    ],
)
def test_the_admin_group_form_refuses_a_url_off_the_rule(admin_client, course, repo_url, message):
    response = admin_client.post(reverse("admin:reports_app_group_add"), group_form(course, repo_url))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"repo_url": [message]}
    assert response.context["adminform"].form["repo_url"].value() == repo_url  # what was typed stays in the form
    assert not Group.objects.filter(number=5).exists()


def test_the_admin_group_form_stores_the_url_as_the_rule_gives_it(admin_client, course):
    response = admin_client.post(
        reverse("admin:reports_app_group_add"), group_form(course, " https://github.com/otters/ml%6Fps ")
    )

    assert response.status_code == 302
    assert Group.objects.get(number=5).repo_url == "https://github.com/otters/mlops"


def test_the_admin_group_form_allows_no_repo_yet(admin_client, course):
    response = admin_client.post(reverse("admin:reports_app_group_add"), group_form(course, ""))

    assert response.status_code == 302
    assert Group.objects.get(number=5).repo_url == ""


def test_the_admin_refuses_changing_a_group_to_an_escaping_url(admin_client, group1):
    group1.repo_url = "https://github.com/one/mlops"
    group1.save()

    response = admin_client.post(
        reverse("admin:reports_app_group_change", args=[group1.pk]),
        group_form(group1.course, ESCAPING, number=1),
    )

    assertContains(response, DOTS)
    group1.refresh_from_db()
    assert group1.repo_url == "https://github.com/one/mlops"


def test_join_refuses_the_escaping_url_with_the_same_sentence(client, course):
    course.join_code = "otter-42-river"
    course.save()
    members = {"email_1": "ann@example.com", "name_1": "Ann", "email_2": "ben@example.com", "name_2": "Ben"}
    members |= {"email_3": "cat@example.com", "name_3": "Cat"}
    members |= {"study_number_1": "s270001", "study_number_2": "s270002", "study_number_3": "s270003"}

    response = client.post(
        reverse("join"), {"code": "otter-42-river", "name": "Otters", "repo_url": ESCAPING, **members}
    )

    assert response.context["form"].errors == {"repo_url": [DOTS]}
    assert response.context["form"]["repo_url"].value() == ESCAPING
    assert not Group.objects.filter(name="Otters").exists()
