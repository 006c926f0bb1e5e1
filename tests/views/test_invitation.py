"""Accepting an invitation (views.invitation, invitation_accept): GET shows it, POST accepts it; whatever
refuses it is said only to whoever has the link, and changes nothing."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from reports_app.engine.roster import Member
from reports_app.models import Group, Invitation, Membership
from reports_app.services.reports import report_for_group
from reports_app.services.signup import (
    INVITATION_FULL,
    INVITATION_GONE,
    INVITATION_SEVERAL,
    INVITATION_TAKEN,
    group_signup,
)
from tests.helpers.forms import password_form_fields

PASSWORD = "Quiet-otter-rows-42"
CHOSEN = {"new_password1": PASSWORD, "new_password2": PASSWORD}


def escaped(text: str) -> str:
    return text.replace("'", "&#x27;")


@pytest.fixture
def invited(course, group1, group2):
    """Group 3 of the course, signed up anonymously: ann, ben and cat invited (no accounts). (group, {email: link})"""
    people = [
        Member("ann@example.com", "Ann Holm", "s100001"),
        Member("ben@example.com", "Ben", "s100002"),
        Member("cat@example.com", "Cat", "s100003"),
    ]
    signup = group_signup(course=course, name="Otters", repo_url="https://github.com/o/m", members=people)
    return signup.group, {i.email: reverse("invitation", args=[token]) for i, token in signup.invited}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_looking_at_an_invitation_changes_nothing(client, invited):
    group, links = invited

    response = client.get(links["ann@example.com"])

    assertContains(response, "You, ann@example.com, were invited to group 3 (Otters) of C1")
    assertContains(response, "Accept and join group 3")
    assert not Membership.objects.filter(group=group).exists()
    assert not get_user_model().objects.filter(username="ann@example.com").exists()
    assert Invitation.objects.pending().count() == 3


def test_the_token_is_stored_only_as_its_hash(invited):
    _group, links = invited
    token = links["ann@example.com"].rstrip("/").rsplit("/", 1)[1]

    stored = Invitation.objects.get(email="ann@example.com").token_hash

    assert token not in stored and stored == Invitation.hash_token(token)


@pytest.mark.parametrize("path", ["made-up-token-that-is-long-enough", "x", "a" * 500])
def test_an_unknown_link_says_it_is_not_valid(client, invited, path):
    response = client.get(reverse("invitation", args=[path]))

    assertContains(response, escaped(INVITATION_GONE), status_code=404)


def test_an_invitation_expires_after_the_setting_days(client, invited, settings):
    group, links = invited
    settings.INVITATION_DAYS = 2
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=2, seconds=1))

    response = client.post(links["ann@example.com"], CHOSEN)

    assertContains(response, escaped(INVITATION_GONE), status_code=404)
    assert not Membership.objects.filter(group=group).exists()


def test_the_new_accounts_password_form_names_it_for_password_managers(client, invited):
    _group, links = invited

    page = client.get(links["ann@example.com"]).content.decode()

    assert password_form_fields(page) == [
        ("username", "username", "ann@example.com"),  # the account accepting makes is named by the address
        ("new_password1", "new-password", None),
        ("new_password2", "new-password", None),
    ]


def test_a_password_that_the_validators_refuse_changes_nothing(client, invited):
    _group, links = invited

    response = client.post(links["ann@example.com"], {"new_password1": "ann", "new_password2": "ann"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not get_user_model().objects.filter(username="ann@example.com").exists()
    assert SESSION_KEY not in client.session


def test_an_account_with_a_password_must_log_in_as_itself_to_accept(invited, django_user_model, group2):
    group, links = invited
    ben = django_user_model.objects.create_user("ben@example.com", email="ben@example.com", password="pw-ben")
    link = links["ben@example.com"]

    anonymous = Client().post(link, CHOSEN)
    someone_else = logged_in(django_user_model.objects.get(username="charlie")).post(link)

    for response in (anonymous, someone_else):
        assertContains(response, "log in</a> with that account to accept it")
    assertContains(Client().get(link), f'href="{reverse("login")}?next={link}"')
    ben.refresh_from_db()
    assert ben.check_password("pw-ben") and not Membership.objects.filter(user=ben).exists()

    logged_in(ben).post(link)

    assert Membership.objects.filter(user=ben, group=group).exists()
    assert Invitation.objects.get(email="ben@example.com").accepted_at is not None


def test_someone_in_another_group_of_the_course_by_then_is_told_so_and_nothing_changes(
    invited, group1, django_user_model
):
    _group, links = invited
    alice = django_user_model.objects.get(username="alice")
    Invitation.objects.filter(email="ann@example.com").update(email="alice@example.com")
    alice.email = "alice@example.com"
    alice.save()

    response = logged_in(alice).post(links["ann@example.com"])

    refused = INVITATION_TAKEN.format(number=1, course="C1", invited=3)
    assertContains(response, escaped(refused), status_code=409)
    assert list(Membership.objects.filter(user=alice).values_list("group__number", flat=True)) == [1]
    assert Invitation.objects.get(email="alice@example.com").accepted_at is None


def test_a_roster_account_in_another_group_keeps_having_no_password(invited, group1, django_user_model):
    """Refused, the password chosen through the link is not kept either: accepting changes nothing at all."""
    _group, links = invited
    cat = django_user_model.objects.create_user("cat@example.com", email="cat@example.com")
    Membership.objects.create(user=cat, group=group1)

    response = Client().post(links["cat@example.com"], CHOSEN)

    assert response.status_code == 409
    cat.refresh_from_db()
    assert not cat.has_usable_password()
    assert list(Membership.objects.filter(user=cat).values_list("group__number", flat=True)) == [1]


def test_accepting_gives_the_membership_the_study_number_the_sign_up_gave(client, invited):
    group, links = invited

    client.post(links["ann@example.com"], CHOSEN)

    assert Membership.objects.get(group=group, user__username="ann@example.com").study_number == "s100001"


def test_someone_put_in_the_group_meanwhile_gets_the_study_number_on_accepting_and_keeps_their_own(
    client, invited, django_user_model
):
    """Staff (a roster import) may add an invited person to the group before they accept: they are in it already."""
    group, links = invited
    ben = django_user_model.objects.create_user("ben@example.com", email="ben@example.com")
    cat = django_user_model.objects.create_user("cat@example.com", email="cat@example.com")
    Membership.objects.create(user=ben, group=group)
    Membership.objects.create(user=cat, group=group, study_number="s999999")

    for email in ("ben@example.com", "cat@example.com"):
        assert Client().post(links[email], CHOSEN).status_code == 302

    assert Membership.objects.get(user=ben).study_number == "s100002"
    assert Membership.objects.get(user=cat).study_number == "s999999"


def test_a_full_group_takes_no_one_more(client, invited, django_user_model):
    group, links = invited
    group.course.max_group_size = 3
    group.course.save()
    for name in ("x1", "x2", "x3"):  # staff filled the group in the meantime
        Membership.objects.create(user=django_user_model.objects.create_user(name), group=group)

    response = client.post(links["ann@example.com"], CHOSEN)

    assertContains(response, INVITATION_FULL.format(number=3, size=3, course="C1"), status_code=409)
    assert not get_user_model().objects.filter(username="ann@example.com").exists()


def test_several_accounts_with_the_address_are_not_guessed_between(client, invited, django_user_model):
    group, links = invited
    for name in ("ann1", "ann2"):
        django_user_model.objects.create_user(name, email="ann@example.com")

    response = client.post(links["ann@example.com"], CHOSEN)

    assertContains(response, escaped(INVITATION_SEVERAL.format(email="ann@example.com")), status_code=409)
    assert not Membership.objects.filter(group=group).exists()


def test_the_groups_page_shows_the_invited_as_invited_until_they_accept(invited, django_user_model, staff):
    group, links = invited
    dave = django_user_model.objects.create_user("dave", first_name="Dave")
    Membership.objects.create(user=dave, group=group)
    report_for_group(group)
    dave_client = logged_in(dave)

    before = dave_client.get(reverse("report", args=[group.pk]))

    assertContains(before, "Members: Dave. ann@example.com")
    assertContains(before, 'ben@example.com <span class="badge text-bg-light">invited</span>')
    Client().post(links["ann@example.com"], CHOSEN)

    after = staff.get(reverse("report", args=[group.pk]))

    assertContains(after, "Members: Dave, Ann Holm. ben@example.com")
    assertNotContains(after, "ann@example.com")


def test_accepting_needs_the_csrf_token(invited):
    group, links = invited
    client = Client(enforce_csrf_checks=True)
    client.get(links["ann@example.com"])

    refused = client.post(links["ann@example.com"], CHOSEN)
    accepted = client.post(
        links["ann@example.com"], CHOSEN | {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )

    assert (refused.status_code, accepted.status_code) == (403, 302)
    assert Membership.objects.filter(group=group, user__username="ann@example.com").exists()


def test_the_sign_up_mail_link_leads_to_the_same_page(client, course, mailoutbox):
    course.join_code = "otter-42-river"
    course.save()
    data = {"code": "otter-42-river", "repo_url": "https://github.com/o/m"}
    for i, email in enumerate(["ann@example.com", "ben@example.com", "cat@example.com"], start=1):
        data |= {f"email_{i}": email, f"name_{i}": email[:3], f"study_number_{i}": f"s25000{i}"}
    client.post(reverse("join"), data)

    link = re.search(r"http://testserver(/invitations/\S+/)", mailoutbox[0].body).group(1)

    assertContains(Client().get(link), "Join group 1 of C1")
    assert Group.objects.get().invitations.count() == 3


def test_staff_see_invitations_in_the_admin_read_only(invited, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root")
    admin = logged_in(root)
    invitation = Invitation.objects.get(email="ann@example.com")

    listing = admin.get(reverse("admin:reports_app_invitation_changelist"))
    page = admin.get(reverse("admin:reports_app_invitation_change", args=[invitation.pk]))

    assertContains(listing, "ann@example.com")
    assertNotContains(page, invitation.token_hash)
    assertNotContains(page, 'name="email"')  # read-only
    assert admin.get(reverse("admin:reports_app_invitation_add")).status_code == 403


def test_invitation_days_below_one_are_refused_at_start():
    from tests.helpers.settings import start

    result = start(INVITATION_DAYS="0")

    assert result.returncode != 0 and "INVITATION_DAYS must be 1 or more" in result.stderr
