"""Invitations to the accounts a roster makes (services/invitations.py): the admin's Import roster mails each new
account a link to choose its password and says in its preview who gets one; "Send invitations again" mails every
member who never chose a password. The mails are queued in the outbox and go out from the worker (here
`mails_send`, what its task runs); a mail that cannot go out is said per address on the outbox, never a 500."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from reports_app.models import Course, CourseStaff, Group, Mail, Membership, StaffRole
from reports_app.services.invitations import MAIL_LIMITED, NOBODY, invitations_send, members_without_password
from reports_app.services.outbox import mails_send
from reports_app.services.roster import roster_import, roster_read
from tests.helpers.smtp import closed_port, smtp_server

SHEET = (
    "Group nb,Student 1,Student 2,Student 3,github_repo\n"
    "1,anna@example.com,bo@example.com,cy@example.com,https://github.com/one/mlops\n"
    "2,dan@example.com,eva@example.com,bounce@example.com,https://github.com/two/mlops\n"
)
NEW = ["anna@example.com", "bo@example.com", "cy@example.com", "dan@example.com", "eva@example.com"]
LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")
PASSWORD = "Quiet-otter-rows-42"


@pytest.fixture
def manager(instructor):
    """Staff who may change courses and groups."""
    for codename in ("change_course", "view_course", "change_group", "view_group"):
        instructor.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="reports_app")
        )
    client = Client()
    client.force_login(instructor)
    return client


def import_url(course: Course) -> str:
    return reverse("admin:reports_app_course_import_roster", args=[course.pk])


def preview(client, course: Course, **extra):
    upload = SimpleUploadedFile("roster.csv", SHEET.encode(), "text/csv")
    return client.post(import_url(course), {"file": upload, **extra})


def apply(client, course: Course, **extra):
    token = preview(client, course, **extra).context["apply"]["roster"].value()
    return client.post(import_url(course), {"roster": token, "apply": "Apply"}, follow=True)


def shown(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def imported(course: Course) -> None:
    roster_import(course=course, roster=roster_read(course=course, data=SHEET.encode()))


def act(client, model: str, action: str, pks: list[int]):
    url = reverse(f"admin:reports_app_{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


# --- the import --------------------------------------------------------------------------------------------------


def test_the_upload_form_offers_invitations_ticked(manager, course):
    response = manager.get(import_url(course))

    assertContains(response, "Mail each new account an invitation with a link to choose its password")
    assertContains(response, 'name="invite" id="id_invite" checked')


def test_the_preview_names_who_gets_an_invitation_and_that_existing_accounts_get_none(
    manager, course, django_user_model, mailoutbox
):
    django_user_model.objects.create_user("anna@example.com", email="anna@example.com", password="pw-anna")
    django_user_model.objects.create_user("bo@example.com", email="bo@example.com")  # an earlier import: no password

    response = preview(manager, course, invite="on")

    new = "cy@example.com, dan@example.com, eva@example.com, bounce@example.com"
    assertContains(
        response, f"Applying mails 4 invitations, one to each new account, with a link to choose its password: {new}."
    )
    assertContains(response, "Accounts that exist already get none")
    assertContains(response, "1 account in the file has no password yet from an earlier import, and gets no e-mail")
    assertContains(response, 'value="Apply and send 4 invitations"')
    assert mailoutbox == []
    assert not course.groups.exists()


def test_apply_mails_each_new_account_a_link_that_sets_its_password(manager, course, mailoutbox):
    response = apply(manager, course, invite="on")
    assert mailoutbox == []  # nothing from the request
    mails_send()

    assert sorted(m.to[0] for m in mailoutbox) == sorted([*NEW, "bounce@example.com"])
    assert "6 invitations queued; they go out within a minute." in shown(response)
    message = next(m for m in mailoutbox if m.to == ["anna@example.com"])
    assert message.subject == "Choose your password for testserver"
    assert "- group 1 of C1 (Course one)" in message.body
    assert "log in with your e-mail address, anna@example.com" in message.body

    link = LINK.search(message.body).group(1)
    visitor = Client()
    form = visitor.get(link, follow=True)
    assertContains(form, "Choose your password")
    visitor.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert get_user_model().objects.get(username="anna@example.com").check_password(PASSWORD)
    assert Client().login(username="anna@example.com", password=PASSWORD)


def test_without_invitations_nobody_is_mailed_and_the_preview_says_how_they_get_in(manager, course, mailoutbox):
    response = preview(manager, course)

    assertContains(response, "The 6 new accounts get no e-mail")
    assertContains(response, 'value="Apply"')

    apply(manager, course)

    assert mailoutbox == []
    assert Membership.objects.filter(group__course=course).count() == 6


def test_a_mail_server_refusing_one_address_is_said_for_that_address_and_the_others_are_mailed(manager, course):
    with smtp_server(refused={"bounce@example.com"}) as server:
        response = apply(manager, course, invite="on")
        mails_send()

    assert response.status_code == 200
    assert sorted(server.delivered) == sorted(NEW)
    assert shown(response)[1:] == [
        "6 invitations queued; they go out within a minute.",
        f'Whether they went out: the mails of <a href="/courses/{course.pk}/mails/">C1</a>.',
    ]
    (failed,) = Mail.objects.filter(status=Mail.Status.FAILED)
    assert (failed.address, failed.error) == (
        "bounce@example.com",
        "the mail server refused the address (550 no such user here)",
    )
    assert Membership.objects.filter(group__course=course).count() == 6  # the import stands


def test_a_mail_server_that_is_down_is_said_for_every_address_never_a_500(manager, course, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", closed_port(), False
    manager.raise_request_exception = False

    response = apply(manager, course, invite="on")
    mails_send()

    assert response.status_code == 200
    mails = Mail.objects.order_by("address")
    assert {(m.status, m.tries) for m in mails} == {(Mail.Status.QUEUED, 1)}  # tried again later
    assert {m.error for m in mails} == {"the mail server could not be reached (Connection refused)"}
    assert Membership.objects.filter(group__course=course).count() == 6


# --- send invitations again --------------------------------------------------------------------------------------


def test_the_course_action_mails_only_members_who_never_chose_a_password(manager, course, mailoutbox):
    imported(course)
    anna = get_user_model().objects.get(username="anna@example.com")
    anna.set_password("chosen")
    anna.save()
    get_user_model().objects.filter(username="bo@example.com").update(is_active=False)

    response = act(manager, "course", "send_invitations", [course.pk])
    mails_send()

    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        ["cy@example.com", "dan@example.com", "eva@example.com", "bounce@example.com"]
    )
    assert shown(response) == [
        "4 invitations queued; they go out within a minute.",
        f'Whether they went out: the mails of <a href="/courses/{course.pk}/mails/">C1</a>.',
    ]


def test_the_group_action_mails_the_selected_groups_only(manager, course, mailoutbox):
    imported(course)

    act(manager, "group", "send_invitations", [Group.objects.get(course=course, number=2).pk])
    mails_send()

    assert sorted(m.to[0] for m in mailoutbox) == ["bounce@example.com", "dan@example.com", "eva@example.com"]
    assert "- group 2 of C1 (Course one)" in mailoutbox[0].body


def test_an_account_in_several_selected_groups_gets_one_mail_naming_each(manager, course, instructor, mailoutbox):
    imported(course)
    other = Course.objects.create(code="C2", title="Course two")
    CourseStaff.objects.create(course=other, user=instructor, role=StaffRole.INSTRUCTOR)  # the admin shows them both
    group = Group.objects.create(course=other, number=4, name="Fours")
    Membership.objects.create(user=get_user_model().objects.get(username="dan@example.com"), group=group)

    act(manager, "course", "send_invitations", [course.pk, other.pk])
    mails_send()

    (mail,) = [m for m in mailoutbox if m.to == ["dan@example.com"]]
    assert "- group 2 of C1 (Course one)\n- group 4 (Fours) of C2 (Course two)" in mail.body


def test_nobody_to_invite_is_said(manager, group1, mailoutbox):
    response = act(manager, "course", "send_invitations", [group1.course.pk])

    assert shown(response) == [NOBODY]
    assert mailoutbox == []


def test_the_mail_limit_per_recipient_holds_for_staff_too(manager, course, mailoutbox, settings):
    settings.MAIL_MAX_PER_RECIPIENT = 1
    imported(course)
    act(manager, "group", "send_invitations", [Group.objects.get(course=course, number=1).pk])
    mails_send()
    mailoutbox.clear()

    response = act(manager, "group", "send_invitations", [Group.objects.get(course=course, number=1).pk])
    mails_send()

    assert mailoutbox == []
    assert Mail.objects.count() == 3  # none queued the second time
    assert shown(response)[1] == f"Not mailed to anna@example.com, bo@example.com, cy@example.com: {MAIL_LIMITED}."


def test_staff_who_may_only_view_courses_are_not_offered_the_action(instructor, course):
    instructor.user_permissions.add(Permission.objects.get(codename="view_course"))
    client = Client()
    client.force_login(instructor)

    response = client.get(reverse("admin:reports_app_course_changelist"))

    assertContains(response, "Export every group")
    assertNotContains(response, "Send invitations again")


def test_members_without_password_is_one_query(course, django_assert_num_queries):
    imported(course)

    with django_assert_num_queries(1):
        found = members_without_password(course.groups.all())

    assert [m.user.username for m in found] == [*NEW[:3], *NEW[3:], "bounce@example.com"]


def test_an_account_without_an_address_is_said_not_mailed(course, django_user_model, mailoutbox):
    group = Group.objects.create(course=course, number=9)
    Membership.objects.create(user=django_user_model.objects.create_user("nomail"), group=group)

    sent = invitations_send(
        memberships=members_without_password(course.groups.all()), base_url="https://x.example", site_name="x"
    )

    assert (sent.queued, sent.failed) == ([], [("nomail", "the account has no e-mail address")])
    assert not Mail.objects.exists()
