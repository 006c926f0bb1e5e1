"""Importing and exporting a course's roster: the admin's Import roster (upload, preview, Apply) and Export roster,
and the commands import_roster and export_roster."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reports_app.engine import roster
from reports_app.forms.admin import ROSTER_SALT, ROSTER_TAMPERED, RosterApplyForm
from reports_app.models import Course, Group, Membership
from reports_app.services.roster import roster_import, roster_read, roster_rows

SHEET = (
    "Group nb,Student 1,Student 2,Student 3,Student 4,Student 5,github_repo\n"
    "1,anna@example.com,bo@example.com,cy@example.com,,,https://github.com/one/mlops\n"
    "2,dan@example.com,eva@example.com,fay@example.com,,,https://github.com/two/mlops\n"
)
BAD_SHEET = (
    "Group nb,Student 1,Student 2,Student 3,github_repo\n"
    "1,anna@example.com,bo@example.com,,https://github.com/one/mlops\n"
    "two,dan@example.com,eva(at)example.com,fay@example.com,https://gitlab.com/two/mlops\n"
)


def members(course: Course) -> list[tuple[int, str]]:
    return sorted(Membership.objects.filter(group__course=course).values_list("group__number", "user__username"))


@pytest.fixture
def manager(instructor, client):
    """Staff who may change courses."""
    instructor.user_permissions.add(Permission.objects.get(codename="change_course"))
    client.force_login(instructor)
    return client


def import_url(course: Course) -> str:
    return reverse("admin:reports_app_course_import_roster", args=[course.pk])


def export_url(course: Course) -> str:
    return reverse("admin:reports_app_course_export_roster", args=[course.pk])


def upload(client, course: Course, text: str | bytes, **extra):
    data = text.encode() if isinstance(text, str) else text
    return client.post(import_url(course), {"file": SimpleUploadedFile("roster.csv", data, "text/csv"), **extra})


# --- admin: who may ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [import_url, export_url])
def test_anonymous_is_sent_to_the_admin_login(client, course, url):
    response = client.get(url(course))

    assertRedirects(response, f"{reverse('admin:login')}?next={url(course)}")


@pytest.mark.parametrize("url", [import_url, export_url])
def test_a_student_is_sent_to_the_admin_login_and_nothing_is_imported(alice, course, url):
    response = alice.get(url(course))
    upload(alice, course, SHEET)

    assertRedirects(response, f"{reverse('admin:login')}?next={url(course)}")
    assert not Group.objects.filter(course=course, number=2).exists()


@pytest.mark.parametrize("url", [import_url, export_url])
def test_staff_without_change_permission_on_courses_is_refused(staff, course, url):
    response = staff.get(url(course))
    posted = upload(staff, course, SHEET)

    assert response.status_code == 403
    assert posted.status_code == 403
    assert not course.groups.exists()


def test_an_unknown_course_is_404(manager, course):
    assert manager.get(reverse("admin:reports_app_course_import_roster", args=[course.pk + 1])).status_code == 404


def test_the_course_change_page_has_the_import_and_export_buttons(manager, course):
    response = manager.get(reverse("admin:reports_app_course_change", args=[course.pk]))

    assertContains(response, f'<a href="{import_url(course)}">Import roster</a>', html=True)
    assertContains(response, f'<a href="{export_url(course)}">Export roster</a>', html=True)


# --- admin: import -----------------------------------------------------------------------------------------------


def test_import_page_offers_the_upload(manager, course):
    response = manager.get(import_url(course))

    assertContains(response, 'type="file"')
    assertContains(response, "Groups of 3 to 5 students.")
    assertNotContains(response, 'name="apply"')


def test_upload_previews_the_changes_and_writes_nothing(manager, course):
    response = upload(manager, course, SHEET)

    assertContains(response, "Applying this file will make these changes. Nothing is written yet.")
    assertContains(response, "<li>new group 1</li>", html=True)
    assertContains(response, "<li>group 2: add fay@example.com</li>", html=True)
    assertContains(response, "2 groups created, 6 users created, 6 members added.")
    assertContains(response, 'name="apply"')
    assert not course.groups.exists()
    assert not Membership.objects.exists()


def test_apply_imports_what_the_preview_showed_and_says_what_changed(manager, course):
    token = upload(manager, course, SHEET).context["apply"]["roster"].value()

    response = manager.post(import_url(course), {"roster": token, "apply": "Apply"}, follow=True)

    assertRedirects(response, reverse("admin:reports_app_course_change", args=[course.pk]))
    assertContains(response, "Roster of C1 imported. 2 groups created, 6 users created, 6 members added.")
    assert list(course.groups.values_list("number", "repo_url")) == [
        (1, "https://github.com/one/mlops"),
        (2, "https://github.com/two/mlops"),
    ]
    assert len(members(course)) == 6


def test_the_same_file_again_previews_nothing_to_change_and_offers_no_apply(manager, course):
    roster_import(course=course, roster=roster_read(course=course, data=SHEET.encode()))

    response = upload(manager, course, SHEET)

    assertContains(response, "Nothing to change: the site matches the file.")
    assertNotContains(response, 'name="apply"')


def test_remove_missing_is_carried_from_the_preview_to_apply(manager, course, group1):
    response = upload(manager, course, SHEET, remove_missing="on")
    assertContains(response, "<li>group 1: alice is not in the file (removed)</li>", html=True)
    token = response.context["apply"]["roster"].value()

    manager.post(import_url(course), {"roster": token, "apply": "Apply"})

    assert not Membership.objects.filter(user__username__in=["alice", "bob"]).exists()


def test_a_bad_file_shows_every_problem_with_its_line_and_writes_nothing(manager, course):
    response = upload(manager, course, BAD_SHEET)

    assertContains(response, "Nothing was imported: the file has 4 problems.")
    assert response.context["problems"] == [
        (2, "group 1 has 2 students; a group has 3 to 5"),
        (3, "the group number 'two' is not a number"),
        (3, "the repo URL must start with https://github.com/"),
        (3, "'eva(at)example.com' is not an e-mail address"),
    ]
    assertContains(response, "<tr><td>3</td><td>the group number &#x27;two&#x27; is not a number</td></tr>", html=True)
    assertNotContains(response, 'name="apply"')
    assert not course.groups.exists()


def test_a_file_over_one_megabyte_is_refused_before_reading(manager, course):
    response = upload(manager, course, SHEET + "#" * roster.MAX_BYTES)

    assertContains(response, "The file is 1.0 MB; a roster may be at most 1.0 MB.")
    assert not course.groups.exists()


def test_a_tampered_roster_is_refused_at_apply_and_nothing_is_imported(manager, course):
    token = upload(manager, course, SHEET).context["apply"]["roster"].value()
    value, signature = token.rsplit(":", 1)
    tampered = signing.dumps(
        {"course": course.pk, "text": SHEET.replace("anna", "mallory"), "remove_missing": False}, salt="other"
    )

    for bad in (f"{value}x:{signature}", tampered, "not signed at all"):
        response = manager.post(import_url(course), {"roster": bad, "apply": "Apply"})
        assertContains(response, ROSTER_TAMPERED)

    assert not course.groups.exists()


def test_a_roster_signed_for_another_course_is_refused(manager, course):
    other = Course.objects.create(code="C2")
    token = RosterApplyForm.sign(course_id=other.pk, text=SHEET, remove_missing=False)

    response = manager.post(import_url(course), {"roster": token, "apply": "Apply"})

    assertContains(response, ROSTER_TAMPERED)
    assert not Group.objects.exists()


def test_the_signed_roster_uses_its_own_salt(manager, course):
    token = upload(manager, course, SHEET).context["apply"]["roster"].value()

    payload = signing.loads(token, salt=ROSTER_SALT)
    assert payload == {"course": course.pk, "text": SHEET, "remove_missing": False, "invite": False}


# --- admin: export -----------------------------------------------------------------------------------------------


def test_export_downloads_the_student_list_for_excel(manager, course):
    roster_import(course=course, roster=roster_read(course=course, data=SHEET.encode()))

    response = manager.get(export_url(course))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="c1-roster.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith(
        '\ufeff"group","study_number","name","email","repo","github_username"\r\n"1","","","anna@example.com",'
        '"https://github.com/one/'
    )
    assert len(text.splitlines()) == 7


def test_exported_file_uploaded_again_changes_nothing(manager, course):
    roster_import(course=course, roster=roster_read(course=course, data=SHEET.encode()))
    exported = manager.get(export_url(course)).content

    response = upload(manager, course, exported)

    assert response.context["changes"].lines() == []
    assertContains(response, "Nothing to change: the site matches the file.")


# --- commands ----------------------------------------------------------------------------------------------------


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def sheet_file(tmp_path):
    path = tmp_path / "signup.csv"
    path.write_text(SHEET)
    return str(path)


def test_import_roster_prints_each_change_then_the_summary(course, sheet_file):
    out, err = run("import_roster", sheet_file, "--course", "C1")

    assert out.splitlines() == [
        "new group 1",
        "new group 2",
        *(f"new user {n}@example.com" for n in ("anna", "bo", "cy", "dan", "eva", "fay")),
        *(f"group 1: add {n}@example.com" for n in ("anna", "bo", "cy")),
        *(f"group 2: add {n}@example.com" for n in ("dan", "eva", "fay")),
        "2 groups created, 6 users created, 6 members added.",
    ]
    assert err == ""
    assert members(course) == [
        (1, "anna@example.com"),
        (1, "bo@example.com"),
        (1, "cy@example.com"),
        (2, "dan@example.com"),
        (2, "eva@example.com"),
        (2, "fay@example.com"),
    ]


def test_import_roster_twice_says_nothing_changed(course, sheet_file):
    run("import_roster", sheet_file, "--course", "C1")

    out, _ = run("import_roster", sheet_file, "--course", "C1")

    assert out == "Nothing to change: the site matches the file.\n"


def test_import_roster_dry_run_prints_the_changes_and_writes_nothing(course, sheet_file):
    out, _ = run("import_roster", sheet_file, "--course", "C1", "--dry-run")

    assert out.splitlines()[:2] == ["Dry run: nothing was written.", "new group 1"]
    assert out.splitlines()[-1] == "2 groups created, 6 users created, 6 members added."
    assert not course.groups.exists()


def test_import_roster_lists_missing_members_and_removes_them_only_when_asked(course, group1, sheet_file):
    out, _ = run("import_roster", sheet_file, "--course", "C1")
    assert "group 1: alice is not in the file (kept)" in out.splitlines()
    assert out.splitlines()[-1] == (
        "1 group created, 1 repo URL changed, 6 users created, 6 members added; "
        "2 members in the site are not in the file (kept)."
    )
    assert Membership.objects.filter(user__username="alice").exists()

    out, _ = run("import_roster", sheet_file, "--course", "C1", "--remove-missing")

    assert out.splitlines() == [
        "group 1: alice is not in the file (removed)",
        "group 1: bob is not in the file (removed)",
        "2 members removed.",
    ]
    assert not Membership.objects.filter(user__username="alice").exists()


def test_import_roster_errors_name_file_and_line_and_exit_non_zero(course, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_SHEET)

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_roster", str(path), "--course", "C1", stdout=out, stderr=err)

    assert str(caught.value) == f"{path}: 4 problems; nothing was imported"
    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        f"{path}: line 2: group 1 has 2 students; a group has 3 to 5",
        f"{path}: line 3: the group number 'two' is not a number",
        f"{path}: line 3: the repo URL must start with https://github.com/",
        f"{path}: line 3: 'eva(at)example.com' is not an e-mail address",
    ]
    assert out.getvalue() == ""
    assert not course.groups.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--course", "C1"], "missing.csv: No such file or directory"),
        (["{sheet}", "--course", "NOPE"], "no course with code 'NOPE' (courses: C1)"),
    ],
)
def test_import_roster_refuses_a_missing_file_or_course(course, sheet_file, args, message):
    with pytest.raises(CommandError, match=f"^{re.escape(message)}$"):
        run("import_roster", *(a.replace("{sheet}", sheet_file) for a in args))


def test_import_roster_refuses_a_file_over_one_megabyte(course, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(SHEET + "#" * roster.MAX_BYTES)

    with pytest.raises(CommandError, match=r"big.csv: the file is 1.0 MB; a roster may be at most 1.0 MB$"):
        run("import_roster", str(path), "--course", "C1")


def test_export_roster_writes_the_student_list_to_stdout(course, sheet_file):
    run("import_roster", sheet_file, "--course", "C1")

    out, err = run("export_roster", "--course", "C1")

    assert out == roster.roster_csv(roster_rows(course))
    assert out.splitlines()[:2] == [
        '"group","study_number","name","email","repo","github_username"',
        '"1","","","anna@example.com","https://github.com/one/mlops",""',
    ]
    assert err == ""


def test_export_roster_to_a_file_then_import_it_changes_nothing(course, sheet_file, tmp_path):
    run("import_roster", sheet_file, "--course", "C1")
    target = tmp_path / "out.csv"

    out, err = run("export_roster", "--course", "C1", "--out", str(target))
    again, _ = run("import_roster", str(target), "--course", "C1")

    assert out == ""
    assert err == f"Wrote 6 rows of C1 to {target}\n"
    assert again == "Nothing to change: the site matches the file.\n"


def test_export_roster_of_an_unknown_course_is_an_error(db):
    with pytest.raises(CommandError, match=r"^no course with code 'NOPE' \(courses: none\)$"):
        run("export_roster", "--course", "NOPE")


# --- cells Excel would run, and repo URLs that leave the allowed folder -----------------------------------------

HOSTILE_LIST = (
    "group,study_number,name,email,repo\n"
    '1,=1+1,"=HYPERLINK(""http://evil.example"",""x"")",eq@example.com,https://github.com/one/mlops\n'
    "1,+45 1234,@SUM(A1),+1@example.com,\n"
    '1,-7,"Otters;=1+1;",-2@example.com,\n'
)
HOSTILE_EXPORT = [  # by group, then e-mail; every cell quoted, every formula start behind a '
    '"group","study_number","name","email","repo","github_username"',
    '"1","\'+45 1234","\'@SUM(A1)","\'+1@example.com","https://github.com/one/mlops",""',
    '"1","\'-7","Otters;=1+1;","\'-2@example.com","https://github.com/one/mlops",""',
    '"1","\'=1+1","\'=HYPERLINK(""http://evil.example"",""x"")","eq@example.com","https://github.com/one/mlops",""',
]


@pytest.fixture
def hostile(course):
    roster_import(course=course, roster=roster_read(course=course, data=HOSTILE_LIST.encode()))
    return course


def test_admin_export_defuses_what_students_typed_and_its_upload_changes_nothing(manager, hostile):
    exported = manager.get(export_url(hostile)).content

    assert exported.decode("utf-8").removeprefix("\ufeff").splitlines() == HOSTILE_EXPORT
    response = upload(manager, hostile, exported)
    assert response.context["changes"].lines() == []
    assertContains(response, "Nothing to change: the site matches the file.")


def test_export_roster_command_defuses_what_students_typed_and_reads_back_unchanged(hostile, tmp_path):
    out, _ = run("export_roster", "--course", "C1")
    target = tmp_path / "out.csv"
    run("export_roster", "--course", "C1", "--out", str(target))
    again, _ = run("import_roster", str(target), "--course", "C1")

    assert out.splitlines() == HOSTILE_EXPORT
    assert again == "Nothing to change: the site matches the file.\n"


def test_import_roster_refuses_a_repo_url_whose_escapes_leave_the_allowed_folder(course, tmp_path, settings):
    settings.SCRAPE_ALLOWED_URLS = ["file:///srv/repos/"]
    path = tmp_path / "escaping.csv"
    path.write_text(
        "Group nb,Student 1,Student 2,Student 3,github_repo\n"
        "1,anna@example.com,bo@example.com,cy@example.com,file:///srv/repos/%2e%2e/outside/x.git\n"
    )

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("import_roster", str(path), "--course", "C1", stdout=out, stderr=err)

    assert err.getvalue() == f"{path}: line 2: the repo URL must not contain . or .. path segments\n"
    assert not course.groups.exists()


def test_the_admin_import_refuses_it_too(manager, course, settings):
    settings.SCRAPE_ALLOWED_URLS = ["file:///srv/repos/"]
    sheet = "group,email,repo\n1,anna@example.com,file:///srv/repos/x/%2E%2E/%2e%2e/y.git\n"
    course.min_group_size = 1
    course.save()

    response = upload(manager, course, sheet)

    assert response.context["problems"] == [(2, "the repo URL must not contain . or .. path segments")]
    assert not course.groups.exists()


# --- GitHub user names ------------------------------------------------------------------------------------------------

GITHUB_LIST = (
    "group,study_number,name,email,repo,GitHub user name\n"
    "1,s1,Anna Berg,anna@example.com,https://github.com/one/mlops,anna-b\n"
    "1,s2,Bo Holm,bo@example.com,,\n"
    "1,s3,Cy Dahl,cy@example.com,,Cy99\n"
)


def test_a_github_user_name_column_sets_the_members_and_the_export_reads_back_unchanged(course):
    changes = roster_import(course=course, roster=roster_read(course=course, data=GITHUB_LIST.encode()))
    assert changes.members_added == [(1, "anna@example.com"), (1, "bo@example.com"), (1, "cy@example.com")]
    names = dict(Membership.objects.values_list("user__username", "github_username"))
    assert names == {"anna@example.com": "anna-b", "bo@example.com": "", "cy@example.com": "Cy99"}

    exported = roster.roster_csv(roster_rows(course)).encode()
    assert (
        exported.splitlines()[1] == b'"1","s1","Anna Berg","anna@example.com","https://github.com/one/mlops","anna-b"'
    )
    again = roster_import(course=course, roster=roster_read(course=course, data=exported))
    assert not again.changed

    changed = GITHUB_LIST.replace(",anna-b", ",anna-berg").encode()
    changes = roster_import(course=course, roster=roster_read(course=course, data=changed))
    assert changes.lines() == ["group 1: GitHub user name of anna@example.com: anna-b -> anna-berg"]
    assert changes.summary() == "1 GitHub user name changed."


def test_a_github_user_name_against_githubs_rule_is_a_problem_with_its_line(course):
    bad = GITHUB_LIST.replace(",Cy99", ",-cy_99").encode()

    with pytest.raises(roster.RosterError) as error:
        roster_read(course=course, data=bad)

    assert error.value.problems == [(4, roster.GITHUB_USERNAME_INVALID.format(value="-cy_99"))]
