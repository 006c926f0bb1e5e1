"""`import_roster --invite`: each account the import makes is mailed a link to choose its password, starting with
SITE_URL (queued in the outbox; the worker or `send_mails` sends them); whatever keeps a mail from going out is
recorded per address, and the import stands."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from reports_app.management.commands.import_roster import INVITE_NEEDS_SITE_URL, NO_NEW_ACCOUNTS
from reports_app.models import Group, Mail, Membership
from tests.helpers.smtp import smtp_server

SHEET = (
    "Group nb,Student 1,Student 2,Student 3,github_repo\n"
    "1,anna@example.com,bo@example.com,cy@example.com,https://github.com/one/mlops\n"
)
PASSWORD = "Quiet-otter-rows-42"


@pytest.fixture
def sheet(tmp_path):
    path = tmp_path / "signup.csv"
    path.write_text(SHEET)
    return str(path)


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = "https://reports.example.com"


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_roster", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_invite_mails_each_new_account_a_link_on_the_site(course, sheet, site_url, mailoutbox):
    out, err = run(sheet, "--course", "C1", "--invite")

    assert out.splitlines()[-1] == "3 invitations queued; they go out within a minute."
    assert err == "" and mailoutbox == []
    sent = StringIO()
    call_command("send_mails", stdout=sent)
    assert sent.getvalue() == "3 sent, 0 to be tried again, 0 failed\n"
    assert sorted(m.to[0] for m in mailoutbox) == ["anna@example.com", "bo@example.com", "cy@example.com"]
    mail = next(m for m in mailoutbox if m.to == ["bo@example.com"])
    assert mail.subject == "Choose your password for reports.example.com"
    path = re.search(r"https://reports\.example\.com(/accounts/reset/\S+/)", mail.body).group(1)
    chooser = Client()
    form = chooser.get(path, follow=True)
    chooser.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert get_user_model().objects.get(username="bo@example.com").check_password(PASSWORD)


def test_without_invite_nobody_is_mailed(course, sheet, site_url, mailoutbox):
    out, _ = run(sheet, "--course", "C1")

    assert "Invitations" not in out
    assert mailoutbox == []


def test_invite_needs_the_sites_address_and_imports_nothing_without_it(course, sheet, mailoutbox, settings):
    settings.SITE_URL = ""

    with pytest.raises(CommandError, match=re.escape(INVITE_NEEDS_SITE_URL)):
        run(sheet, "--course", "C1", "--invite")

    assert not Group.objects.exists()
    assert mailoutbox == []


def test_a_dry_run_says_who_would_be_mailed_and_mails_nobody(course, sheet, mailoutbox, settings):
    settings.SITE_URL = ""  # not needed: nothing is mailed

    out, _ = run(sheet, "--course", "C1", "--invite", "--dry-run")

    assert out.splitlines()[-1] == "Would mail 3 invitations: anna@example.com, bo@example.com, cy@example.com"
    assert mailoutbox == []
    assert not Group.objects.exists()


def test_a_second_import_invites_nobody_and_names_the_accounts_still_without_a_password(
    course, sheet, site_url, mailoutbox
):
    run(sheet, "--course", "C1", "--invite")
    anna = get_user_model().objects.get(username="anna@example.com")
    anna.set_password(PASSWORD)
    anna.save()
    mailoutbox.clear()

    out, _ = run(sheet, "--course", "C1", "--invite")

    assert out.splitlines()[-2:] == [
        NO_NEW_ACCOUNTS,
        "No password yet, and no mail from this import (it invites new accounts only): bo@example.com, cy@example.com",
    ]
    assert mailoutbox == []


def test_a_refused_address_is_recorded_on_its_mail_and_the_import_stands(course, sheet, site_url):
    with smtp_server(refused={"cy@example.com"}) as server:
        run(sheet, "--course", "C1", "--invite")
        call_command("send_mails", stdout=StringIO())

    assert sorted(server.delivered) == ["anna@example.com", "bo@example.com"]
    refused = Mail.objects.get(address="cy@example.com")
    assert (refused.status, refused.error) == (
        Mail.Status.FAILED,
        "the mail server refused the address (550 no such user here)",
    )
    assert Membership.objects.filter(group__course=course).count() == 3
