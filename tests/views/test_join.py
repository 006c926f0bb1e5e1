"""Self sign-up at /join/: a group with its course's join code creates itself; everyone it names is invited.

Nobody but the logged-in student sending the form becomes a member by it: the others get an invitation by mail and
join by accepting it (tests/views/test_invitation.py). No answer from /join/ says whether an address has an account or
which group anyone is in.
"""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from reports_app.forms.accounts import (
    GITHUB_USERNAME_INVALID,
    JOIN_EMAIL_MISSING,
    JOIN_NAME_MISSING,
    JOIN_STUDY_NUMBER_MISSING,
)
from reports_app.models import Course, Group, Invitation, Membership
from reports_app.services.signup import INVITATION_TAKEN, SIGNUP_YOU_TAKEN
from reports_app.views.accounts import JOIN_CODE_WRONG

CODE = "otter-42-river"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")
NEW_PASSWORD = "Quiet-otter-rows-42"


@pytest.fixture
def joinable(course):
    course.join_code = CODE
    course.save()
    return course


THREE = (("ann@example.com", "Ann Holm"), ("ben@example.com", "Ben"), ("cat@example.com", "Cat"))
THREE_INVITED = "An invitation was sent to ann@example.com, ben@example.com, cat@example.com."


def sign_up(client, members=THREE, **fields):
    """POST the join form: the right code, a repo and three members, unless told otherwise. A member is (e-mail,
    name) or (e-mail, name, study number); without one, row i gets s23000i."""
    data = {"code": CODE, "name": "Otters", "repo_url": "https://github.com/otters/mlops"}
    for i, (email, name, *number) in enumerate(members, start=1):
        data |= {f"email_{i}": email, f"name_{i}": name, f"study_number_{i}": number[0] if number else f"s23000{i}"}
    return client.post(reverse("join"), data | fields)


def nothing_created() -> bool:
    return (
        not Group.objects.filter(name="Otters").exists()
        and not Invitation.objects.exists()
        and not get_user_model()
        .objects.filter(username__in=["ann@example.com", "ben@example.com", "cat@example.com"])
        .exists()
    )


def link_to(mailoutbox, email: str) -> str:
    """The path of the invitation link in the (last) mail to `email`."""
    message = [m for m in mailoutbox if m.to == [email]][-1]
    return LINK.search(message.body).group(1)


def accept_with_password(client, link: str):
    return client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


# --- the page ----------------------------------------------------------------------------------------------------


def test_anonymous_gets_the_form_with_a_row_per_member_of_the_largest_group(client, joinable):
    response = client.get(reverse("join"))

    assertTemplateUsed(response, "reports_app/join.html")
    assertContains(response, "a group has 3 to 5 members.")
    assertContains(response, 'name="email_5"')
    assertNotContains(response, 'name="email_6"')
    assertContains(response, 'name="csrfmiddlewaretoken"')


def test_the_form_grows_with_the_largest_group_of_a_course_taking_sign_ups(client, joinable):
    Course.objects.create(code="C2", join_code="other", min_group_size=2, max_group_size=6)
    Course.objects.create(code="C3", min_group_size=1, max_group_size=9)  # no sign-ups: not counted

    response = client.get(reverse("join"))

    assertContains(response, "a group has 2 to 6 members.")
    assertContains(response, 'name="email_6"')
    assertNotContains(response, 'name="email_7"')


def test_a_logged_in_student_of_another_group_is_filled_in_as_the_first_member(charlie, django_user_model):
    django_user_model.objects.filter(username="charlie").update(
        email="charlie@example.com", first_name="Charlie", last_name="Chu"
    )

    response = charlie.get(reverse("join"))

    assert response.context["form"]["email_1"].value() == "charlie@example.com"
    assert response.context["form"]["name_1"].value() == "Charlie Chu"


# --- signing up --------------------------------------------------------------------------------------------------


def test_sign_up_creates_the_group_and_invites_everyone_named_without_making_anyone_a_member(
    client, joinable, group1, group2
):
    response = sign_up(client)

    assertContains(response, "Group 3 is signed up")
    assertContains(response, THREE_INVITED)
    group = Group.objects.get(course=joinable, number=3)
    assert (group.name, group.repo_url) == ("Otters", "https://github.com/otters/mlops")
    assert list(group.invitations.values_list("email", "name", "accepted_at", "invited_by")) == [
        ("ann@example.com", "Ann Holm", None, None),
        ("ben@example.com", "Ben", None, None),
        ("cat@example.com", "Cat", None, None),
    ]
    assert not Membership.objects.filter(group=group).exists()
    assert not get_user_model().objects.filter(username__endswith="@example.com").exists()  # made on accepting
    assert SESSION_KEY not in client.session  # signing up does not log anyone in


def test_the_group_gets_the_next_number_after_the_highest(client, joinable):
    Group.objects.create(course=joinable, number=7)

    sign_up(client)

    assert Group.objects.get(name="Otters").number == 8


def test_each_person_named_gets_an_invitation_whose_link_makes_a_new_account_a_member(client, joinable, mailoutbox):
    sign_up(client)

    assert sorted(message.to[0] for message in mailoutbox) == ["ann@example.com", "ben@example.com", "cat@example.com"]
    message = next(m for m in mailoutbox if m.to == ["ann@example.com"])
    assert message.subject == "Join group 1 of C1 on testserver"
    assert "Someone signed group 1 (Otters) of C1 up on testserver and named you, ann@example.com, as a member." in (
        message.body
    )

    link = link_to(mailoutbox, "ann@example.com")
    page = client.get(link)
    assertContains(page, "Join group 1 of C1")
    assertContains(page, 'name="new_password1"')
    assert not get_user_model().objects.filter(username="ann@example.com").exists()  # looking changes nothing

    response = accept_with_password(client, link)

    assert response.status_code == 302
    ann = get_user_model().objects.get(username="ann@example.com")
    assert (ann.email, ann.first_name, ann.last_name) == ("ann@example.com", "Ann", "Holm")
    assert Membership.objects.filter(user=ann, group__name="Otters").exists()
    assert client.session[SESSION_KEY] == str(ann.pk)  # accepting logs the new account in
    assert Client().login(username="ann@example.com", password=NEW_PASSWORD)
    assert client.get(link).status_code == 404  # the link works once


def test_a_person_who_lost_the_invitation_gets_a_new_link_from_the_reset_page(client, joinable, mailoutbox):
    sign_up(client)
    old = link_to(mailoutbox, "ben@example.com")
    mailoutbox.clear()

    client.post(reverse("password_reset"), {"email": "Ben@Example.com"})

    (message,) = mailoutbox
    assert message.to == ["ben@example.com"]
    new = LINK.search(message.body).group(1)
    assert Client().get(old).status_code == 404  # only the newest link works
    assert accept_with_password(Client(), new).status_code == 302
    assert Membership.objects.filter(user__username="ben@example.com", group__name="Otters").exists()


def test_a_logged_in_submitter_is_a_member_at_once_and_the_others_are_invited(
    charlie, course, mailoutbox, django_user_model
):
    course.join_code = CODE
    course.save()
    dave = django_user_model.objects.create_user("dave", email="dave@example.com", password="pw-dave")
    dave_client = Client()
    dave_client.force_login(dave)

    response = sign_up(
        dave_client, members=[("Dave@example.com", "Dave"), ("eve@example.com", "Eve"), ("fi@x.dk", "Fi")]
    )

    assert sorted(m.to[0] for m in mailoutbox) == ["eve@example.com", "fi@x.dk"]
    assert "dave signed group 3 (Otters) of C1 up" in mailoutbox[0].body  # named as everywhere (engine.people)
    assert Membership.objects.filter(user=dave, group__number=3).exists()
    assert sorted(Invitation.objects.values_list("email", "invited_by")) == [
        ("eve@example.com", dave.pk),
        ("fi@x.dk", dave.pk),
    ]
    dave.refresh_from_db()
    assert dave.check_password("pw-dave")
    assertContains(response, "You are its first member.")
    assertContains(response, "An invitation was sent to eve@example.com, fi@x.dk.")


def test_a_logged_in_submitter_already_in_a_group_of_the_course_is_told_so(alice, joinable, django_user_model):
    django_user_model.objects.filter(username="alice").update(email="alice@example.com")

    response = sign_up(alice, members=[("alice@example.com", "Alice"), *THREE[1:]])

    assert response.context["form"].errors == {"email_1": [SIGNUP_YOU_TAKEN.format(number=1)]}
    assert nothing_created()


def test_an_existing_account_is_invited_and_joins_as_itself_on_accepting(
    client, joinable, django_user_model, mailoutbox
):
    ben = django_user_model.objects.create_user("ben", email="BEN@example.com")  # made by a roster: no password

    sign_up(client)

    assert not Membership.objects.filter(user=ben).exists()
    accept_with_password(client, link_to(mailoutbox, "ben@example.com"))

    assert Membership.objects.get(user=ben).group.name == "Otters"
    assert not django_user_model.objects.filter(username="ben@example.com").exists()
    ben.refresh_from_db()
    assert ben.check_password(NEW_PASSWORD)


def test_an_account_from_another_course_is_invited_by_mail_not_added(client, joinable, django_user_model, mailoutbox):
    """The finding: a join code let anyone put an existing account into their group, without a word to its owner."""
    other = Group.objects.create(course=Course.objects.create(code="OLD"), number=1)
    ann = django_user_model.objects.create_user("ann@example.com", email="ann@example.com", password="pw-ann")
    Membership.objects.create(user=ann, group=other)

    sign_up(client)

    assert list(Membership.objects.filter(user=ann).values_list("group__course__code", flat=True)) == ["OLD"]
    assert [m.to for m in mailoutbox if m.to == ["ann@example.com"]] == [["ann@example.com"]]


def test_a_failure_half_way_leaves_nothing_behind(client, joinable, monkeypatch, mailoutbox):
    real_create = Invitation.objects.create

    def failing_create(**kwargs):
        if kwargs["email"] == "cat@example.com":
            raise RuntimeError("database went away")
        return real_create(**kwargs)

    monkeypatch.setattr(Invitation.objects, "create", failing_create)

    with pytest.raises(RuntimeError, match="database went away"):
        sign_up(client)

    assert nothing_created()
    assert mailoutbox == []


# --- refusals ----------------------------------------------------------------------------------------------------


def test_a_wrong_code_gets_one_generic_message_and_creates_nothing(client, joinable, mailoutbox):
    response = sign_up(client, code="otter-42-rivers")

    assert response.context["form"].errors == {"code": [JOIN_CODE_WRONG]}
    assertContains(response, "This join code is not valid. Check it with your course&#x27;s teachers.")
    assert nothing_created()
    assert mailoutbox == []


def test_a_course_without_a_code_takes_no_sign_ups(client, course):
    assert course.join_code == ""

    for code in ("", " ", "C1"):
        response = sign_up(client, code=code)
        assert response.context["form"].errors["code"] in (["This field is required."], [JOIN_CODE_WRONG])
    assert nothing_created()


def test_the_code_is_compared_whole_and_surrounding_spaces_do_not_matter(client, joinable):
    assert sign_up(client, code=CODE[:-1]).context["form"].errors == {"code": [JOIN_CODE_WRONG]}
    assert sign_up(client, code=f" {CODE} ").status_code == 200
    assert Group.objects.filter(name="Otters").exists()


@pytest.mark.parametrize(
    ("members", "field", "message"),
    [
        ([("ann@example.com", "Ann"), ("ben@example.com", "Ben")], None, "A group has 3 to 5 members; you entered 2."),
        (
            [("ann@example.com", "Ann"), ("Ann@Example.com", "Ann B"), ("cat@x.dk", "Cat")],
            "email_2",
            "ann@example.com is entered twice.",
        ),
        ([("ann@example.com", "Ann"), ("ben@example.com", ""), ("cat@x.dk", "Cat")], "name_2", JOIN_NAME_MISSING),
        ([("ann@example.com", "Ann"), ("", "Ben"), ("cat@x.dk", "Cat")], "email_2", JOIN_EMAIL_MISSING),
        (
            [("ann@example.com", "Ann"), ("ben@example.com", "Ben", " "), ("cat@x.dk", "Cat")],
            "study_number_2",
            JOIN_STUDY_NUMBER_MISSING,
        ),
        (
            [("ann@example.com", "Ann", "s1"), ("ben@example.com", "Ben", "S1 "), ("cat@x.dk", "Cat")],
            "study_number_2",
            "S1 is entered twice.",
        ),
        (
            [("ann@example.com", "Ann"), ("ben(at)x.dk", "Ben"), ("cat@x.dk", "Cat")],
            "email_2",
            "Enter a valid email address.",
        ),
    ],
)
def test_member_rows_are_validated(client, joinable, members, field, message):
    response = sign_up(client, members=members)

    assert response.context["form"].errors == {field or "__all__": [message]}
    assertContains(response, message.replace("'", "&#x27;"))
    assert not Group.objects.filter(name="Otters").exists()


def test_a_group_larger_than_the_course_allows_is_refused(client, joinable):
    joinable.max_group_size = 3
    joinable.save()
    Course.objects.create(code="C2", join_code="other")  # groups of up to 5: the form has five rows
    four = [(f"m{i}@example.com", f"M{i}") for i in range(4)]

    response = sign_up(client, members=four)

    assert response.context["form"].errors == {"__all__": ["A group has 3 to 3 members; you entered 4."]}
    assert nothing_created()


def test_the_answer_never_says_which_group_someone_is_in_or_whether_they_have_an_account(
    client, joinable, group1, django_user_model
):
    """The finding: "alice@example.com is already in group 1" told anyone with the code where alice is."""
    django_user_model.objects.filter(username="alice").update(email="alice@example.com")
    known = [("ann@example.com", "Ann"), ("alice@example.com", "Alice"), ("c@x.dk", "C")]
    unknown = [("ann@example.com", "Ann"), ("zed@example.com", "Alice"), ("c@x.dk", "C")]

    about_alice = sign_up(client, members=known)
    about_nobody = sign_up(client, members=unknown, repo_url="https://github.com/otters/other")

    assertContains(about_alice, "An invitation was sent to ann@example.com, alice@example.com, c@x.dk.")
    assertNotContains(about_alice, "already")
    assertNotContains(about_alice, "group 1")
    page = about_alice.content.decode().replace("alice@example.com", "zed@example.com")
    page = page.replace("Group 2", "Group 3").replace("group 2", "group 3")
    assert page.replace("otters/mlops", "otters/other") == about_nobody.content.decode()
    assert not Membership.objects.filter(group__number=2).exists()  # alice is only invited


def test_claiming_a_classmate_does_not_keep_them_from_their_real_group(client, joinable, mailoutbox):
    """The finding: a sign-up naming someone without an account made it and put it in the claimer's group, so their
    own group's sign-up then met "already in group 1". Now both invite them, and they choose by accepting."""
    sign_up(client, members=[("mallory@x.dk", "Mallory"), ("dan@example.com", "Dan"), ("m2@x.dk", "M2")])

    real = sign_up(
        Client(),
        members=[("dan@example.com", "Dan"), ("eva@example.com", "Eva"), ("fay@example.com", "Fay")],
        name="Real",
        repo_url="https://github.com/real/mlops",
    )

    assertContains(real, "Group 2 is signed up")
    claimed, invited = (LINK.search(m.body).group(1) for m in mailoutbox if m.to == ["dan@example.com"])
    dan_client = Client()
    accept_with_password(dan_client, invited)
    dan = get_user_model().objects.get(username="dan@example.com")
    assert [m.group.name for m in dan.memberships.all()] == ["Real"]

    refused = dan_client.post(claimed, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    taken = INVITATION_TAKEN.format(number=2, course="C1", invited=1)
    assertContains(refused, taken.replace("'", "&#x27;"), status_code=409)
    assert [m.group.name for m in dan.memberships.all()] == ["Real"]


def test_a_member_of_a_group_of_another_course_may_join(client, joinable, django_user_model, mailoutbox):
    other = Group.objects.create(course=Course.objects.create(code="OLD"), number=1)
    ann = django_user_model.objects.create_user("ann@example.com", email="ann@example.com", password="pw-ann")
    Membership.objects.create(user=ann, group=other)
    sign_up(client)
    ann_client = Client()
    ann_client.force_login(ann)

    ann_client.post(link_to(mailoutbox, "ann@example.com"))

    assert Membership.objects.filter(user=ann, group__name="Otters").exists()


@pytest.mark.parametrize(
    ("repo_url", "message"),
    [
        ("http://github.com/otters/mlops", "The repo URL must start with https://github.com/."),
        ("https://gitlab.com/otters/mlops", "The repo URL must start with https://github.com/."),
        ("https://me:token@github.com/otters/mlops", "The repo URL must not contain a user name or password."),
        ("", "This field is required."),
    ],
)
def test_the_repo_url_must_be_allowed(client, joinable, repo_url, message):
    response = sign_up(client, repo_url=repo_url)

    assert response.context["form"].errors == {"repo_url": [message]}
    assert nothing_created()


@pytest.mark.parametrize(
    "repo_url",
    ["https://github.com/otters/mlops", "https://github.com/Otters/MLOps.git", "https://github.com/otters/mlops/"],
)
def test_a_repo_of_another_group_of_the_course_is_refused(client, joinable, group1, repo_url):
    group1.repo_url = "https://github.com/otters/mlops"
    group1.save()

    response = sign_up(client, repo_url=repo_url)

    assert response.context["form"].errors == {"repo_url": ["This repo is the repo of group 1 already."]}
    assert nothing_created()


def test_every_problem_is_shown_at_once_and_none_is_about_another_person(client, joinable, group1, django_user_model):
    django_user_model.objects.filter(username="bob").update(email="bob@example.com")
    group1.repo_url = "https://github.com/otters/mlops"
    group1.save()

    response = sign_up(client, members=[("bob@example.com", "Bob"), ("cat@example.com", "Cat")])

    assert response.context["form"].errors == {
        "__all__": ["A group has 3 to 5 members; you entered 2."],
        "repo_url": ["This repo is the repo of group 1 already."],
    }


def test_a_post_without_the_csrf_token_is_refused(joinable):
    client = Client(enforce_csrf_checks=True)

    response = sign_up(client)

    assert response.status_code == 403
    assert nothing_created()


def test_sign_up_is_closed_after_the_course_deadline(client, joinable, mailoutbox):
    joinable.deadline = datetime(2024, 1, 2, 11, 0, tzinfo=UTC)
    joinable.save()

    response = sign_up(client)

    assertContains(response, "The hand-in closed on Jan. 2, 2024, noon; ask the course staff to add your group.")
    assert nothing_created() and not mailoutbox


def test_a_mail_server_that_refuses_leaves_the_sign_up_and_says_so(client, joinable, settings):
    """A real SMTP connection to a port nobody listens on: refused at once, as a mail server that is down."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 0, 5

    response = sign_up(client)

    assertContains(response, "Group 1 is signed up")
    assertContains(response, "The mail to ann@example.com, ben@example.com, cat@example.com could not be sent just now")
    assert Invitation.objects.filter(group__number=1).count() == 3


# --- linked, study numbers, every problem at once ------------------------------------------------------------------


def test_the_login_page_links_to_the_join_page(client):
    response = client.get(reverse("login"))

    assertContains(response, f'<a class="touch-link" href="{reverse("join")}">Sign your group up</a>', html=True)


def test_the_home_page_of_someone_without_a_group_links_to_the_join_page(django_user_model):
    loner = Client()
    loner.force_login(django_user_model.objects.create_user("loner", password="pw-loner"))

    response = loner.get(reverse("home"))

    assertContains(response, f'<a href="{reverse("join")}">Sign your group up</a>', html=True)


def test_each_member_row_asks_for_a_study_number(client, joinable):
    response = client.get(reverse("join"))

    for i in range(1, 6):
        assertContains(
            response, f'<label for="id_study_number_{i}" class="form-label">Member {i}: study number</label>', html=True
        )
    assertNotContains(response, 'name="study_number_6"')


def test_study_numbers_are_stored_on_the_memberships_the_submitters_at_once_the_others_on_accepting(
    course, mailoutbox, django_user_model
):
    course.join_code = CODE
    course.save()
    dave = django_user_model.objects.create_user("dave", email="dave@example.com", password="pw-dave")
    dave_client = Client()
    dave_client.force_login(dave)
    sign_up(
        dave_client,
        members=[
            ("dave@example.com", "Dave", "s111111"),
            ("eve@example.com", "Eve", " s222222 "),
            ("fi@x.dk", "Fi", "s333333"),
        ],
    )

    assert Membership.objects.get(user=dave).study_number == "s111111"
    assert Invitation.objects.get(email="eve@example.com").study_number == "s222222"

    accept_with_password(Client(), link_to(mailoutbox, "eve@example.com"))

    assert Membership.objects.get(user__username="eve@example.com").study_number == "s222222"


def test_mistakes_in_the_rows_do_not_hide_a_wrong_code(client, joinable):
    response = sign_up(client, code="otter-41-river", members=[("ann@example.com", ""), *THREE[1:]])

    assert response.context["form"].errors == {"name_1": [JOIN_NAME_MISSING], "code": [JOIN_CODE_WRONG]}
    assert nothing_created()


def test_mistakes_in_the_rows_do_not_hide_the_courses_own_problems(client, joinable, group1):
    group1.repo_url = "https://github.com/otters/mlops"
    group1.save()
    rows = [("ann@example.com", "Ann", ""), ("ben(at)x.dk", "Ben"), ("cat@example.com", "Cat"), ("dan@x.dk", "D")]
    rows += [("eve@x.dk", "E"), ("fi@x.dk", "F")]
    Course.objects.create(code="C2", join_code="other", max_group_size=6)  # the form has six rows

    response = sign_up(client, members=rows)

    assert response.context["form"].errors == {
        "study_number_1": [JOIN_STUDY_NUMBER_MISSING],
        "email_2": ["Enter a valid email address."],
        "__all__": ["A group has 3 to 5 members; you entered 6."],
        "repo_url": ["This repo is the repo of group 1 already."],
    }
    assert nothing_created()


def test_a_form_with_mistakes_and_an_invalid_repo_url_shows_both(client, joinable):
    response = sign_up(client, members=[("ann@example.com", "")], repo_url="https://gitlab.com/a/b")

    assert response.context["form"].errors == {
        "name_1": [JOIN_NAME_MISSING],
        "repo_url": ["The repo URL must start with https://github.com/."],
        "__all__": ["A group has 3 to 5 members; you entered 1."],
    }


# --- GitHub user names: optional, GitHub's rule, carried to the membership -------------------------------------------


@pytest.mark.parametrize("github", ["-otter", "otter-", "ot--ter", "ot_ter", "o" * 40, "ot ter"])
def test_a_github_user_name_against_githubs_rule_gets_a_form_error_and_keeps_what_was_typed(client, joinable, github):
    response = sign_up(client, github_username_2=github)

    assert response.status_code == 200
    assert response.context["form"].errors == {"github_username_2": [GITHUB_USERNAME_INVALID]}
    assertContains(response, GITHUB_USERNAME_INVALID)
    assertContains(response, 'value="ben@example.com"')  # nothing typed is lost
    assert nothing_created()


def test_a_github_user_name_goes_with_the_invitation_to_the_membership(client, joinable, mailoutbox):
    sign_up(client, github_username_1="Ann-Holm42")

    assert Invitation.objects.get(email="ann@example.com").github_username == "Ann-Holm42"
    assert Invitation.objects.get(email="ben@example.com").github_username == ""
    accept_with_password(client, link_to(mailoutbox, "ann@example.com"))
    assert Membership.objects.get(user__username="ann@example.com").github_username == "Ann-Holm42"
