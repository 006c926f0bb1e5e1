"""Self sign-up at /join/: a group with its course's join code creates itself; new members get a password link."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from reports_app.forms import JOIN_EMAIL_MISSING, JOIN_NAME_MISSING
from reports_app.models import Course, Group, Membership
from reports_app.views import JOIN_CODE_WRONG

CODE = "otter-42-river"
LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "Quiet-otter-rows-42"


@pytest.fixture
def joinable(course):
    course.join_code = CODE
    course.save()
    return course


THREE = (("ann@example.com", "Ann Holm"), ("ben@example.com", "Ben"), ("cat@example.com", "Cat"))


def sign_up(client, members=THREE, **fields):
    """POST the join form: the right code, a repo and three members, unless told otherwise."""
    data = {"code": CODE, "name": "Otters", "repo_url": "https://github.com/otters/mlops"}
    for i, (email, name) in enumerate(members, start=1):
        data |= {f"email_{i}": email, f"name_{i}": name}
    return client.post(reverse("join"), data | fields)


def nothing_created() -> bool:
    return (
        not Group.objects.filter(name="Otters").exists()
        and not get_user_model()
        .objects.filter(username__in=["ann@example.com", "ben@example.com", "cat@example.com"])
        .exists()
    )


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


def test_sign_up_creates_the_group_accounts_and_memberships(client, joinable, group1, group2):
    response = sign_up(client)

    assertContains(response, "Group 3 is signed up")
    group = Group.objects.get(course=joinable, number=3)
    assert (group.name, group.repo_url) == ("Otters", "https://github.com/otters/mlops")
    members = Membership.objects.filter(group=group).select_related("user").order_by("user__username")
    assert [(m.user.username, m.user.email, m.user.first_name, m.user.last_name) for m in members] == [
        ("ann@example.com", "ann@example.com", "Ann", "Holm"),
        ("ben@example.com", "ben@example.com", "Ben", ""),
        ("cat@example.com", "cat@example.com", "Cat", ""),
    ]
    assert not any(m.user.has_usable_password() for m in members)
    assert SESSION_KEY not in client.session  # signing up does not log anyone in


def test_the_group_gets_the_next_number_after_the_highest(client, joinable):
    Group.objects.create(course=joinable, number=7)

    sign_up(client)

    assert Group.objects.get(name="Otters").number == 8


def test_each_new_member_gets_a_link_to_choose_a_password_that_works(client, joinable, mailoutbox):
    response = sign_up(client)

    assert sorted(message.to[0] for message in mailoutbox) == ["ann@example.com", "ben@example.com", "cat@example.com"]
    message = next(m for m in mailoutbox if m.to == ["ann@example.com"])
    assert message.subject == "Group 1 of C1: choose your password for testserver"
    assert "You were signed up as a member of group 1 of C1 on testserver." in message.body
    assert "Your user name is ann@example.com." in message.body
    assertContains(
        response,
        "We sent an e-mail with a link to choose a password to ann@example.com, ben@example.com, cat@example.com.",
    )

    confirm = client.get(LINK.search(message.body).group(1))
    client.post(confirm["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    ann = get_user_model().objects.get(username="ann@example.com")
    assert ann.check_password(NEW_PASSWORD)
    assert Client().login(username="ann@example.com", password=NEW_PASSWORD)


def test_a_member_who_lost_the_mail_gets_a_new_link_from_the_reset_page(client, joinable, mailoutbox):
    sign_up(client)
    mailoutbox.clear()

    client.post(reverse("password_reset"), {"email": "Ben@Example.com"})

    (message,) = mailoutbox
    assert message.to == ["ben@example.com"]
    assert LINK.search(message.body)


def test_a_logged_in_member_with_a_password_gets_no_mail(charlie, course, mailoutbox, django_user_model):
    course.join_code = CODE
    course.save()
    dave = django_user_model.objects.create_user("dave", email="dave@example.com", password="pw-dave")
    dave_client = Client()
    dave_client.force_login(dave)

    response = sign_up(
        dave_client, members=[("dave@example.com", "Dave"), ("eve@example.com", "Eve"), ("fi@x.dk", "Fi")]
    )

    assert sorted(m.to[0] for m in mailoutbox) == ["eve@example.com", "fi@x.dk"]
    assert Membership.objects.filter(user=dave, group__number=3).exists()
    dave.refresh_from_db()
    assert dave.check_password("pw-dave")
    assertContains(response, "We sent an e-mail with a link to choose a password to eve@example.com, fi@x.dk.")


def test_an_existing_account_without_a_group_joins_instead_of_a_new_one(client, joinable, django_user_model):
    ben = django_user_model.objects.create_user("ben", email="BEN@example.com")

    sign_up(client)

    assert Membership.objects.get(user=ben).group.name == "Otters"
    assert not django_user_model.objects.filter(username="ben@example.com").exists()


def test_a_failure_half_way_leaves_nothing_behind(client, joinable, monkeypatch, mailoutbox):
    real_create = Membership.objects.create

    def failing_create(**kwargs):
        if kwargs["user"].username == "cat@example.com":
            raise RuntimeError("database went away")
        return real_create(**kwargs)

    monkeypatch.setattr(Membership.objects, "create", failing_create)

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


def test_a_member_already_in_a_group_of_the_course_is_named(client, joinable, group1, django_user_model):
    django_user_model.objects.filter(username="alice").update(email="alice@example.com")

    response = sign_up(client, members=[("ann@example.com", "Ann"), ("Alice@example.com", "Alice"), ("c@x.dk", "C")])

    assert response.context["form"].errors == {"email_2": ["alice@example.com is already in group 1."]}
    assert nothing_created()


def test_a_member_of_a_group_of_another_course_may_sign_up(client, joinable, django_user_model):
    other = Group.objects.create(course=Course.objects.create(code="OLD"), number=1)
    ann = django_user_model.objects.create_user("ann@example.com", email="ann@example.com")
    Membership.objects.create(user=ann, group=other)

    sign_up(client)

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


def test_every_problem_is_shown_at_once(client, joinable, group1, django_user_model):
    django_user_model.objects.filter(username="bob").update(email="bob@example.com")
    group1.repo_url = "https://github.com/otters/mlops"
    group1.save()

    response = sign_up(client, members=[("bob@example.com", "Bob"), ("cat@example.com", "Cat")])

    assert response.context["form"].errors == {
        "__all__": ["A group has 3 to 5 members; you entered 2."],
        "email_1": ["bob@example.com is already in group 1."],
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
