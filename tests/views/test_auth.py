"""The account pages: Django's auth views at accounts/ with our templates in templates/registration/."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects, assertTemplateUsed

from tests.helpers.forms import password_form_fields

INVALID_LINK = "This password reset link is invalid or has already been used."
WRONG_PASSWORD = "Please enter a correct e-mail or user name and password."
NEW_PASSWORD = "Quiet-otter-rows-42"
RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def alice(group1, django_user_model):
    user = django_user_model.objects.get(username="alice")
    user.email = "alice@example.com"
    user.save()
    return user


def request_reset_link(client, mailoutbox, email: str) -> str:
    """Ask for a reset email and return the path of the link in it."""
    client.post(reverse("password_reset"), {"email": email})
    (message,) = mailoutbox
    return RESET_LINK.search(message.body).group(1)


def reset_password(client, link: str, password: str):
    """Follow a reset link (Django swaps the token for a session and redirects) and set a new password."""
    response = client.get(link)
    assert response.status_code == 302
    return client.post(response["Location"], {"new_password1": password, "new_password2": password})


# --- log in ------------------------------------------------------------------------------------------------------


def test_login_page_has_labelled_fields_and_a_reset_link(client):
    response = client.get(reverse("login"))

    assertTemplateUsed(response, "registration/login.html")
    html = response.content.decode()
    assert 'for="id_username"' in html
    assert 'for="id_password"' in html
    username_input = re.search(r'<input[^>]*id="id_username"[^>]*>', html).group(0)
    assert "autofocus" in username_input
    assert f'action="{reverse("login")}"' in html
    assertContains(
        response, f'<a class="touch-link" href="{reverse("password_reset")}">Forgot your password?</a>', html=True
    )


def test_login_fields_are_marked_for_password_managers(client):
    page = client.get(reverse("login")).content.decode()

    assert password_form_fields(page) == [("username", "username", None), ("password", "current-password", None)]


def test_login_page_carries_next_into_the_form(client):
    response = client.get(reverse("login"), {"next": "/groups/1/"})

    assertContains(response, '<input type="hidden" name="next" value="/groups/1/">', html=True)


def test_correct_password_logs_in_and_redirects_home(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_wrong_password_shows_an_error_and_does_not_log_in(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    assertContains(response, WRONG_PASSWORD)
    assert SESSION_KEY not in client.session


def test_login_follows_a_local_next(client, alice, group1):
    target = reverse("report", kwargs={"group_id": group1.pk})

    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice", "next": target})

    assert response.status_code == 302
    assert response["Location"] == target


def test_login_ignores_an_external_next(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "pw-alice", "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(alice.pk)


# --- log out -----------------------------------------------------------------------------------------------------


def test_logout_by_get_is_refused_and_keeps_the_user_logged_in(client, alice):
    client.force_login(alice)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_logout_by_post_logs_out_and_redirects_to_login(client, alice):
    client.force_login(alice)

    response = client.post(reverse("logout"))

    assertRedirects(response, reverse("login"))
    assert SESSION_KEY not in client.session


# --- change password ---------------------------------------------------------------------------------------------


def test_anonymous_password_change_redirects_to_login(client):
    response = client.get(reverse("password_change"))

    assertRedirects(response, f"{reverse('login')}?next={reverse('password_change')}")


def test_password_change_saves_the_new_password_and_keeps_the_user_logged_in(client, alice):
    client.force_login(alice)
    assertContains(client.get(reverse("password_change")), 'for="id_old_password"')

    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-alice", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assertRedirects(response, reverse("password_change_done"))
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_password_change_form_names_the_account_for_password_managers(client, alice):
    client.force_login(alice)

    response = client.get(reverse("password_change"))

    assert password_form_fields(response.content.decode()) == [
        ("username", "username", "alice"),  # hidden: a password manager stores the new password under it
        ("old_password", "current-password", None),
        ("new_password1", "new-password", None),
        ("new_password2", "new-password", None),
    ]
    assertContains(response, '<p id="account">Account: <strong>alice</strong></p>', html=True)


def test_password_change_with_a_wrong_old_password_changes_nothing(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assertContains(response, "Your old password was entered incorrectly.")
    alice.refresh_from_db()
    assert alice.check_password("pw-alice")


# --- reset password ----------------------------------------------------------------------------------------------


def test_password_reset_sends_one_email_with_a_link(client, alice, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})

    assertRedirects(response, reverse("password_reset_done"))
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@example.com"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Reset your password for testserver"
    assert "Hello alice," in message.body
    assert RESET_LINK.search(message.body)


def test_reset_link_lets_the_user_set_a_new_password_and_log_in_with_it(client, alice, mailoutbox):
    link = request_reset_link(client, mailoutbox, "alice@example.com")

    response = reset_password(client, link, NEW_PASSWORD)

    assertRedirects(response, reverse("password_reset_complete"))
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    response = client.post(reverse("login"), {"username": "alice", "password": NEW_PASSWORD})
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_reset_link_form_names_the_account_for_password_managers(client, alice, mailoutbox):
    link = request_reset_link(client, mailoutbox, "alice@example.com")

    form_page = client.get(client.get(link)["Location"])

    assert password_form_fields(form_page.content.decode()) == [
        ("username", "username", "alice"),
        ("new_password1", "new-password", None),
        ("new_password2", "new-password", None),
    ]


def test_password_reset_for_an_unknown_email_sends_nothing_and_shows_the_same_page(client, alice, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assertRedirects(response, reverse("password_reset_done"))
    assert mailoutbox == []


def test_used_reset_link_shows_the_invalid_link_message(client, alice, mailoutbox):
    link = request_reset_link(client, mailoutbox, "alice@example.com")
    reset_password(client, link, NEW_PASSWORD)

    response = client.get(link)

    assertContains(response, INVALID_LINK)
    assertNotContains(response, 'name="new_password1"')


def test_tampered_reset_link_shows_the_invalid_link_message(client, alice, mailoutbox):
    link = request_reset_link(client, mailoutbox, "alice@example.com")
    tampered = link.rsplit("/", 2)[0] + "/not-a-real-token/"

    response = client.get(tampered)

    assertContains(response, INVALID_LINK)
    assertNotContains(response, 'name="new_password1"')
    alice.refresh_from_db()
    assert alice.check_password("pw-alice")


# --- every page --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "template"),
    [
        ("login", "registration/login.html"),
        ("password_change", "registration/password_change_form.html"),
        ("password_change_done", "registration/password_change_done.html"),
        ("password_reset", "registration/password_reset_form.html"),
        ("password_reset_done", "registration/password_reset_done.html"),
        ("password_reset_complete", "registration/password_reset_complete.html"),
    ],
)
def test_account_page_renders_our_template_with_one_h1(client, alice, url_name, template):
    client.force_login(alice)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assertTemplateUsed(response, template)
    assertTemplateUsed(response, "base.html")  # ours, not the admin's templates of the same name
    assert response.content.decode().count("<h1") == 1


def test_an_e_mail_user_name_logs_in_typed_with_capitals(client, django_user_model):
    django_user_model.objects.create_user("ann@example.com", password="pw-ann-1234")

    response = client.post(reverse("login"), {"username": " Ann@Example.COM", "password": "pw-ann-1234"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(django_user_model.objects.get(username="ann@example.com").pk)


def test_user_names_differing_only_in_case_each_need_their_exact_name(client, django_user_model):
    django_user_model.objects.create_user("Kim", password="pw-kim-upper")
    django_user_model.objects.create_user("kim", password="pw-kim-lower")

    assert client.post(reverse("login"), {"username": "KIM", "password": "pw-kim-upper"}).status_code == 200
    assert client.post(reverse("login"), {"username": "Kim", "password": "pw-kim-upper"}).status_code == 302


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_the_login_forms_ask_for_an_e_mail_or_user_name(client, url_name):
    response = client.get(reverse(url_name))

    label = re.search(r'<label[^>]*for="id_username"[^>]*>(.*?)</label>', response.content.decode(), re.S).group(1)
    assert re.sub(r"<span.*?</span>|\s+", " ", label).strip().rstrip(":") == "E-mail or user name"


def test_an_account_named_otherwise_logs_in_with_its_e_mail(client, alice):
    response = client.post(reverse("login"), {"username": "Alice@Example.com", "password": "pw-alice"})

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_an_e_mail_that_several_accounts_have_logs_nobody_in(client, alice, django_user_model):
    django_user_model.objects.create_user("alice2", email="alice@example.com", password="pw-alice")

    response = client.post(reverse("login"), {"username": "alice@example.com", "password": "pw-alice"})

    assertContains(response, WRONG_PASSWORD)
    assert SESSION_KEY not in client.session
