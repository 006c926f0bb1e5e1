"""Pages and mails name a person one way (engine.people.person_name, the `person` filter): their full name, else
their user name."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from pytest_django.asserts import assertContains

from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group
from tests.conftest import png_bytes
from tests.helpers.pages import save


@pytest.fixture
def named(group1, django_user_model):
    """alice is Alice Berg, with an e-mail address; bob has no name."""
    user = django_user_model.objects.get(username="alice")
    user.first_name, user.last_name, user.email = "Alice", "Berg", "alice@example.org"
    user.save()
    return user


def test_the_report_its_history_and_its_figures_name_alice_by_name_and_bob_by_user_name(alice, named, group1):
    save(group1, 3, "first words")
    save(group1, 3, "second words", username="bob")
    figure_add(report=report_for_group(group1), data=png_bytes(), wanted_name="plot.png", user=named)

    assertContains(alice.get(reverse("report", args=[group1.pk])), "Members: Alice Berg, bob")
    history = alice.get(reverse("answer-history", args=[group1.pk, 3]))
    assertContains(history, '<td data-label="By">Alice Berg</td>', html=False)
    assertContains(history, '<td data-label="By">bob</td>', html=False)
    assertContains(alice.get(reverse("figures", args=[group1.pk])), "uploaded by Alice Berg")


def test_the_password_reset_mail_greets_the_person_by_name(client, named, mailoutbox):
    client.post(reverse("password_reset"), {"email": "alice@example.org"})

    (message,) = mailoutbox
    assert message.body.startswith("Hello Alice Berg,\n")


def test_the_roster_invitation_greets_an_account_without_a_name_by_its_user_name(django_user_model):
    dave = django_user_model(username="dave", email="dave@example.org")  # no name
    context = {"user": dave, "email": dave.email, "groups": [], "site_name": "x", "link": "", "days": 3}

    body = render_to_string("reports_app/invitation_account_email.txt", context)

    assert body.startswith("Hello dave,\n")  # as pages name dave, not by the address the mail goes to
