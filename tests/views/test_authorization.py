"""Who may do what: every URL of the site against every kind of visitor, from one table.

`TABLE` maps each URL name to the requests we make to it and what each visitor gets: anonymous, an outsider student
(charlie, group 2), a member (alice, group 1), staff (is_staff, without a role in any course), a superuser, a TA
assigned to group 1, a TA of the course not assigned to it, the course's instructor (is_staff, no model permissions)
and the instructor of another course (tests/helpers/authorization.py ROLES). A URL name missing from the table fails
`test_every_url_is_in_the_table`, so nobody adds a view without deciding who may use it. Every request checks the
database afterwards: a request the table does not mark as writing must leave every row as it was (refused writes
included), and one marked as writing must change something.

tests/views/test_csrf.py posts to every POST request of the same table without and with a CSRF token.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import URLResolver, get_resolver, reverse

from tests.helpers.authorization import (
    CASES,
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


@pytest.fixture
def world(group1, group2, instructor) -> World:
    return make_world(group1, group2, instructor)


# --- what a visitor gets -------------------------------------------------------------------------------------------


# --- the tests -----------------------------------------------------------------------------------------------------


def walk(patterns, namespace: str = "", prefix: str = "") -> list[str]:
    """Every URL name (`namespace:name`), and `route:<route>` for an unnamed pattern outside the admin."""
    names = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += walk(pattern.url_patterns, inner, route)
        elif pattern.name:
            names.append(f"{namespace}{pattern.name}")
        elif not namespace.startswith("admin:"):  # the admin's unnamed ones redirect to its named pages
            names.append(f"route:{route}")
    return names


def admin_generated() -> set[str]:
    """The admin's own URL names: its site pages, each registered model's list, add, change, history and delete,
    and the views of Django's own model admins (a user's password change)."""
    site = {"index", "login", "logout", "password_change", "password_change_done", "autocomplete", "jsi18n"}
    site |= {"view_on_site", "app_list", "auth_user_password_change"}
    models = {
        f"{model._meta.app_label}_{model._meta.model_name}_{view}"
        for model in admin.site._registry
        for view in ("changelist", "add", "history", "delete", "change")
    }
    return {f"admin:{name}" for name in site | models}


def test_every_url_is_in_the_table():
    names = set(walk(get_resolver().url_patterns)) - admin_generated()
    assert sorted(names - TABLE.keys()) == [], "decide who may use these URLs: add them to TABLE"
    assert sorted(TABLE.keys() - names) == [], "these URLs are gone: remove them from TABLE"


@pytest.mark.parametrize(("name", "case"), CASES)
def test_who_may_do_what(world, name, case):
    """Each role in turn, each in a savepoint rolled back afterwards, so every role meets the same world."""
    got, expected = {}, {}
    for role, expect in zip(ROLES, case.expect, strict=True):
        with transaction.atomic():
            client, user = client_as(role)
            before = snapshot()
            got[role] = outcome(send(client, case, world, user), world, before)
            expected[role] = wanted(expect, world)
            transaction.set_rollback(True)
    assert got == expected


def test_an_outsider_cannot_reach_another_groups_objects_through_his_own_group(world):
    """charlie may write to group 2, but group 1's revision and figure are not found under it."""
    client, _ = client_as("outsider")
    other = world.other.pk
    before = snapshot()

    restore = client.post(reverse("restore-answer", args=[other, 1, world.revision.pk]), {"version": "0"})
    figure = client.get(reverse("figure", args=[other, world.figure.name]))
    delete = client.post(reverse("delete-figure", args=[other, world.figure.name]), {"confirm": "yes"})

    assert (restore.status_code, figure.status_code, delete.status_code) == (404, 404, 404)
    assert snapshot() == before
