"""The roster: reading both CSV layouts (roster.py, no database), importing them (roster_import) and
exporting them back (roster_rows)."""

import doctest

import pytest
from django.contrib.auth import get_user_model

from reports_app.engine import roster
from reports_app.engine.roster import Member, RosterError, RosterGroup, parse_roster
from reports_app.models import Group, Membership
from reports_app.services.roster import roster_import, roster_read, roster_rows

ALLOWED = ["https://github.com/"]
SAVE_AS = "in Excel, save it as 'CSV UTF-8'"

SHEET = """Group nb,Student 1,Student 2,Student 3,Student 4,Student 5,github_repo
1,Anna@Example.com,bo@example.com,cy@example.com,,,https://github.com/one/mlops
2,dan@example.com,eva@example.com,fay@example.com,gus@example.com,,https://github.com/two/mlops
"""

STUDENTS = """group,study_number,name,email,repo
1,s1001,Anna  Maria Holm,anna@example.com,https://github.com/one/mlops
1,s1002,Bo Berg,bo@example.com,https://github.com/one/mlops
1,s1003,Cy,cy@example.com,
2,s2001,Dan Dahl,dan@example.com,https://github.com/two/mlops
2,s2002,Eva Eng,eva@example.com,
2,s2003,Fay Fisk,fay@example.com,
3,,,,https://github.com/three/mlops
"""


def parse(text: str | bytes, min_size: int = 3, max_size: int = 5) -> roster.Roster:
    data = text.encode() if isinstance(text, str) else text
    return parse_roster(data, min_size=min_size, max_size=max_size, allowed=ALLOWED)


def problems(text: str | bytes, min_size: int = 3, max_size: int = 5) -> list[tuple[int, str]]:
    with pytest.raises(RosterError) as caught:
        parse(text, min_size, max_size)
    return caught.value.problems


def emails(group: RosterGroup) -> list[str]:
    return [member.email for member in group.members]


# --- reading ------------------------------------------------------------------------------------------------------


def test_sign_up_sheet_gives_groups_of_lowercased_emails_with_their_repo():
    result = parse(SHEET)

    assert result.layout == "sheet"
    assert result.groups == (
        RosterGroup(
            1,
            "https://github.com/one/mlops",
            (Member("anna@example.com", line=2), Member("bo@example.com", line=2), Member("cy@example.com", line=2)),
            2,
        ),
        RosterGroup(
            2,
            "https://github.com/two/mlops",
            tuple(Member(f"{name}@example.com", line=3) for name in ("dan", "eva", "fay", "gus")),
            3,
        ),
    )


def test_sheet_header_may_differ_in_case_spaces_and_underscores():
    header = " GROUP  NB ,student_1,Student-2,STUDENT 3 , GitHub Repo "
    result = parse(f"{header}\n7,a@x.dk,b@x.dk,c@x.dk,https://github.com/a/b\n")

    assert [(g.number, emails(g), g.repo_url) for g in result.groups] == [
        (7, ["a@x.dk", "b@x.dk", "c@x.dk"], "https://github.com/a/b")
    ]


def test_student_list_takes_the_repo_from_any_row_and_declares_a_group_without_students():
    result = parse(STUDENTS)

    assert result.layout == "list"
    one, two, three = result.groups
    assert one.members == (
        Member("anna@example.com", "Anna Maria Holm", "s1001", 2),
        Member("bo@example.com", "Bo Berg", "s1002", 3),
        Member("cy@example.com", "Cy", "s1003", 4),
    )
    assert (one.repo_url, two.repo_url, three.repo_url) == (
        "https://github.com/one/mlops",
        "https://github.com/two/mlops",
        "https://github.com/three/mlops",
    )
    assert (three.number, three.members, three.line) == (3, (), 8)


def test_danish_excel_file_with_bom_semicolons_and_crlf_is_read():
    text = "group;study_number;name;email;repo\r\n4;s4001;Søren Ærø;soren@example.dk;https://github.com/f/g\r\n"
    data = "\ufeff".encode() + (text + "4;s4002;Åse Øst;ase@example.dk;\r\n4;s4003;Ib;ib@example.dk;\r\n").encode()

    (group,) = parse(data).groups

    assert [(m.name, m.email, m.line) for m in group.members] == [
        ("Søren Ærø", "soren@example.dk", 2),
        ("Åse Øst", "ase@example.dk", 3),
        ("Ib", "ib@example.dk", 4),
    ]
    assert group.repo_url == "https://github.com/f/g"


def test_line_numbers_are_file_lines_past_blank_lines_and_quoted_cells_spanning_lines():
    text = 'group,name,email\n\n1,"Anna\nHolm",anna@x.dk\n1,Bo,bo@x.dk\n\n1,Cy,not-an-email\n'

    assert problems(text) == [(7, "'not-an-email' is not an e-mail address")]


def test_every_problem_of_a_file_is_reported_with_its_line():
    text = (
        "group,study_number,name,email,repo\n"  # 1
        "1,s1,Anna,anna@x.dk,https://github.com/one/a\n"  # 2
        "1,s2,Bo,bo@x.dk,https://github.com/one/b\n"  # 3: another repo for group 1
        "one,s3,Cy,cy@x.dk,\n"  # 4: not a number
        "2,s4,Dan,anna@x.dk,\n"  # 5: anna again
        "2,s5,Eva,eva(at)x.dk,\n"  # 6: bad e-mail
        "2,s6,Fay,,\n"  # 7: no e-mail
        "0,s7,Gus,gus@x.dk,\n"  # 8: group 0
        ",s8,Hal,hal@x.dk,\n"  # 9: no group
        "3,s9,Ida,ida@x.dk,http://github.com/three/x\n"  # 10: refused URL; group 3 has one student
        "1,s10,Jo,jo@x.dk,https://token@github.com/one/a\n"  # 11: credentials in the URL
        + "".join(f"4,s1{i},Kai,kai{i}@x.dk,\n" for i in range(6))  # 12-17: group 4 has six
    )

    assert problems(text) == [
        (3, "group 1 has the repo https://github.com/one/a on line 2, and https://github.com/one/b here"),
        (4, "the group number 'one' is not a number"),
        (5, "anna@x.dk is in group 1 on line 2 already"),
        (5, "group 2 has 1 student; a group has 3 to 5"),
        (6, "'eva(at)x.dk' is not an e-mail address"),
        (7, "the e-mail address is missing"),
        (8, "group numbers start at 1"),
        (9, "the group number is missing"),
        (10, "the repo URL must start with https://github.com/"),
        (10, "group 3 has 1 student; a group has 3 to 5"),
        (11, "the repo URL must not contain a user name or password"),
        (12, "group 4 has 6 students; a group has 3 to 5"),
    ]


def test_group_sizes_outside_the_course_range_are_refused_on_the_group_line():
    text = "group nb,student 1,student 2,student 3,github_repo\n1,a@x.dk,b@x.dk,,\n2,c@x.dk,d@x.dk,e@x.dk,\n"

    assert problems(text, min_size=3, max_size=5) == [(2, "group 1 has 2 students; a group has 3 to 5")]
    assert problems(text, min_size=1, max_size=2) == [(3, "group 2 has 3 students; a group has 1 to 2")]


def test_a_sheet_row_per_group_and_a_student_once():
    text = (
        "group nb,student 1,student 2,github_repo\n"
        "1,a@x.dk,b@x.dk,\n"
        "2,c@x.dk,c@x.dk,\n"  # twice in one row
        "1,d@x.dk,e@x.dk,\n"  # group 1 again
    )

    assert problems(text, min_size=1) == [
        (3, "c@x.dk is in group 2 on line 3 already"),
        (4, "group 1 is on line 2 already"),
    ]


def test_values_without_a_header_and_fields_too_long_are_refused():
    text = (
        "group,name,email,\n"
        "1,Ann,ann@x.dk,stray\n"
        f"1,{'N' * 151},nn@x.dk\n"
        f"1,Bo,{'b' * 150}@x.dk,,extra\n"
        "99999999999,Cy,cy@x.dk\n"
    )

    assert problems(text, min_size=1) == [
        (2, "column 4 has a value ('stray') but no header"),
        (3, "the name is longer than 150 characters"),
        (4, "column 5 has a value ('extra') but no header"),
        (4, f"the e-mail address {'b' * 40}... is longer than 150 characters"),
        (5, "the group number 99999999999 is too large"),
    ]


def test_unknown_header_names_each_column_and_the_two_layouts():
    assert problems("Timestamp,group,e-mail,Team name\n1,a@x.dk,x\n") == [
        (1, "column 1, 'Timestamp', is not a column we know"),
        (1, "column 4, 'Team name', is not a column we know"),
        (1, roster.EXPECTED),
    ]
    assert roster.EXPECTED == (
        "a sign-up sheet has the columns group nb, student 1, ..., student 5, github_repo; "
        "a student list has group, study_number, name, email, repo and optionally github_username"
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("student 1,student 2,github_repo", "there is no group column"),
        ("group,name,repo", "there is no student column (student 1... or email)"),
        ("group,email,Email", "column 3, 'Email', repeats column 2"),
        ("group nb,student 1,email", "a file can't have both email and student columns"),
    ],
)
def test_header_problems(header, message):
    assert problems(f"{header}\n1,a@x.dk,b\n") == [(1, message), (1, roster.EXPECTED)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", (1, "the file is empty")),
        (b"\xef\xbb\xbf\r\n \n", (1, "the file is empty")),
        (b"\n,,,\n", (1, "the file is empty")),
        (b"group,email\n", (1, "the file has a header but no rows below it")),
        (b"\ngroup,email\n\n", (2, "the file has a header but no rows below it")),
        (b"group,email\n1,a@x.dk\n1,S\xf8ren@x.dk\n", (3, f"the file is not UTF-8 text (byte 0xf8); {SAVE_AS}")),
        (b"PK\x03\x04\x00\x00", (1, "the file is binary, not a CSV text file")),
    ],
)
def test_files_that_are_no_roster(data, expected):
    assert problems(data) == [expected]


def test_error_text_has_one_line_per_problem():
    error = RosterError([(3, "b"), (1, "a")])

    assert str(error) == "line 1: a\nline 3: b"


def test_split_name_takes_the_last_word_as_last_name():
    assert roster.split_name(" Anna  Maria Holm ") == ("Anna Maria", "Holm")
    assert roster.split_name("Cy") == ("Cy", "")
    assert roster.split_name("") == ("", "")


def test_docstring_examples_hold():
    assert doctest.testmod(roster).failed == 0


# --- importing ----------------------------------------------------------------------------------------------------


@pytest.fixture
def students(course):
    """The STUDENTS file read for the course (groups of 3 to 5)."""
    return roster_read(course=course, data=STUDENTS.encode())


def site_state(course) -> dict:
    """Everything an import may write, to compare before and after."""
    users = get_user_model().objects.order_by("username")
    return {
        "groups": list(course.groups.order_by("number").values_list("number", "repo_url")),
        "users": list(users.values_list("username", "email", "first_name", "last_name", "password")),
        "members": sorted(
            Membership.objects.filter(group__course=course).values_list(
                "group__number", "user__username", "study_number"
            )
        ),
    }


def test_import_creates_groups_accounts_and_memberships_and_says_so(course, students):
    changes = roster_import(course=course, roster=students)

    assert changes.lines() == [
        "new group 1",
        "new group 2",
        "new group 3",
        *(f"new user {name}@example.com" for name in ("anna", "bo", "cy", "dan", "eva", "fay")),
        *(
            f"group {n}: add {name}@example.com"
            for n, name in ((1, "anna"), (1, "bo"), (1, "cy"), (2, "dan"), (2, "eva"), (2, "fay"))
        ),
    ]
    assert changes.summary() == "3 groups created, 6 users created, 6 members added."
    assert site_state(course)["groups"] == [
        (1, "https://github.com/one/mlops"),
        (2, "https://github.com/two/mlops"),
        (3, "https://github.com/three/mlops"),
    ]
    anna = get_user_model().objects.get(username="anna@example.com")
    assert (anna.email, anna.first_name, anna.last_name) == ("anna@example.com", "Anna Maria", "Holm")
    assert not anna.has_usable_password()
    assert Membership.objects.get(user=anna).study_number == "s1001"
    assert get_user_model().objects.get(username="cy@example.com").get_full_name() == "Cy"


def test_importing_the_same_file_again_changes_nothing_and_says_so(course, students):
    roster_import(course=course, roster=students)
    before = site_state(course)

    changes = roster_import(course=course, roster=students)

    assert not changes.changed
    assert changes.lines() == []
    assert changes.summary() == "Nothing to change: the site matches the file."
    assert site_state(course) == before


def test_dry_run_reports_the_same_changes_and_writes_nothing(course, students):
    before = site_state(course)

    dry = roster_import(course=course, roster=students, dry_run=True)

    assert site_state(course) == before
    assert dry == roster_import(course=course, roster=students)
    assert site_state(course) != before


def test_existing_accounts_are_found_by_user_name_or_by_e_mail_in_any_case(course, django_user_model):
    anna = django_user_model.objects.create_user("Anna@Example.com", password="pw")
    bo = django_user_model.objects.create_user("bo", email="BO@example.com", password="pw")
    data = b"group nb,student 1,student 2,student 3,github_repo\n1,anna@example.com,bo@example.com,cy@example.com,\n"

    changes = roster_import(course=course, roster=roster_read(course=course, data=data))

    assert changes.users_created == ["cy@example.com"]
    assert set(Group.objects.get(course=course, number=1).memberships.values_list("user", flat=True)) == {
        anna.pk,
        bo.pk,
        django_user_model.objects.get(username="cy@example.com").pk,
    }
    bo.refresh_from_db()
    assert bo.check_password("pw")  # an existing account keeps its password


def test_two_accounts_with_one_e_mail_refuse_the_import_and_write_nothing(course, students, django_user_model):
    django_user_model.objects.create_user("bo1", email="bo@example.com")
    django_user_model.objects.create_user("bo2", email="Bo@example.com")
    before = site_state(course)

    with pytest.raises(RosterError) as caught:
        roster_import(course=course, roster=students)

    assert caught.value.problems == [
        (3, "the accounts bo1, bo2 all have the e-mail bo@example.com; merge them in the admin first")
    ]
    assert site_state(course) == before


def test_a_failure_half_way_leaves_nothing_behind(course, students, monkeypatch):
    before = site_state(course)
    real_create = Membership.objects.create
    calls = []

    def failing_create(**kwargs):
        calls.append(kwargs)
        if len(calls) == 4:
            raise RuntimeError("database went away")
        return real_create(**kwargs)

    monkeypatch.setattr(Membership.objects, "create", failing_create)

    with pytest.raises(RuntimeError, match="database went away"):
        roster_import(course=course, roster=students)

    assert len(calls) == 4
    assert site_state(course) == before


def test_repo_and_study_number_changes_are_reported_and_empty_cells_keep_what_is_stored(course, students):
    roster_import(course=course, roster=students)
    changed = STUDENTS.replace("https://github.com/one/mlops", "https://github.com/one/renamed").replace(
        "s2001", "s2999"
    )
    changed = changed.replace("3,,,,https://github.com/three/mlops", "3,,,,")
    changed = changed.replace("1,s1002,Bo Berg", "1,,Bo Berg")

    changes = roster_import(course=course, roster=roster_read(course=course, data=changed.encode()))

    assert changes.lines() == [
        "group 1: repo https://github.com/one/mlops -> https://github.com/one/renamed",
        "group 2: study number of dan@example.com: s2001 -> s2999",
    ]
    assert changes.summary() == "1 repo URL changed, 1 study number changed."
    state = site_state(course)
    assert state["groups"][2] == (3, "https://github.com/three/mlops")
    assert (1, "bo@example.com", "s1002") in state["members"]


def test_members_missing_from_the_file_are_listed_and_kept_unless_asked_to_remove(course, students, group1):
    roster_import(course=course, roster=students)
    course.min_group_size = 2
    course.save()
    smaller = roster_read(course=course, data=STUDENTS.replace("2,s2003,Fay Fisk,fay@example.com,\n", "").encode())

    kept = roster_import(course=course, roster=smaller)

    assert kept.lines() == [
        "group 1: alice is not in the file (kept)",
        "group 1: bob is not in the file (kept)",
        "group 2: fay@example.com is not in the file (kept)",
    ]
    assert not kept.changed
    assert kept.summary() == "Nothing to change; 3 members in the site are not in the file (kept)."
    assert Membership.objects.filter(group__course=course).count() == 8

    removed = roster_import(course=course, roster=smaller, remove_missing=True)

    assert removed.changed
    assert removed.lines()[-1] == "group 2: fay@example.com is not in the file (removed)"
    assert removed.summary() == "3 members removed."
    assert sorted(Membership.objects.filter(group__course=course).values_list("group__number", "user__username")) == [
        (1, "anna@example.com"),
        (1, "bo@example.com"),
        (1, "cy@example.com"),
        (2, "dan@example.com"),
        (2, "eva@example.com"),
    ]
    assert get_user_model().objects.filter(username="fay@example.com").exists()  # the account stays


def test_a_student_moved_to_another_group_joins_it_and_is_listed_in_the_old_one(course, students):
    roster_import(course=course, roster=students)
    course.min_group_size = 2
    course.save()
    moved = STUDENTS.replace("1,s1003,Cy,cy@example.com,", "2,s1003,Cy,cy@example.com,")

    changes = roster_import(course=course, roster=roster_read(course=course, data=moved.encode()), remove_missing=True)

    assert changes.lines() == ["group 2: add cy@example.com", "group 1: cy@example.com is not in the file (removed)"]
    assert list(Membership.objects.filter(user__username="cy@example.com").values_list("group__number", flat=True)) == [
        2
    ]


# --- exporting ----------------------------------------------------------------------------------------------------


def test_export_is_one_row_per_member_by_group_then_e_mail_with_empty_groups_as_a_row(course, students):
    roster_import(course=course, roster=students)
    Group.objects.create(course=course, number=9)

    assert roster_rows(course) == [
        ["1", "s1001", "Anna Maria Holm", "anna@example.com", "https://github.com/one/mlops", ""],
        ["1", "s1002", "Bo Berg", "bo@example.com", "https://github.com/one/mlops", ""],
        ["1", "s1003", "Cy", "cy@example.com", "https://github.com/one/mlops", ""],
        ["2", "s2001", "Dan Dahl", "dan@example.com", "https://github.com/two/mlops", ""],
        ["2", "s2002", "Eva Eng", "eva@example.com", "https://github.com/two/mlops", ""],
        ["2", "s2003", "Fay Fisk", "fay@example.com", "https://github.com/two/mlops", ""],
        ["3", "", "", "", "https://github.com/three/mlops", ""],
        ["9", "", "", "", "", ""],
    ]


def test_export_then_import_changes_nothing(course, students):
    roster_import(course=course, roster=students)
    roster_import(course=course, roster=roster_read(course=course, data=SHEET.encode()))
    before = site_state(course)
    exported = roster.roster_csv(roster_rows(course))

    changes = roster_import(course=course, roster=roster_read(course=course, data=exported.encode()))

    assert exported.startswith(
        '"group","study_number","name","email","repo","github_username"\r\n"1","s1001","Anna Maria Holm",'
    )
    assert changes.lines() == [] and not changes.changed
    assert site_state(course) == before


def test_members_without_an_e_mail_export_their_user_name_and_the_reimport_names_them(course, group1):
    course.min_group_size = 1
    course.save()
    exported = roster.roster_csv(roster_rows(course)).encode()

    with pytest.raises(RosterError) as caught:
        roster_read(course=course, data=exported)

    assert caught.value.problems == [(2, "'alice' is not an e-mail address"), (3, "'bob' is not an e-mail address")]


@pytest.mark.parametrize("n_groups", [2, 12])
def test_export_reads_the_roster_in_two_queries_whatever_its_size(
    course, django_user_model, django_assert_num_queries, n_groups
):
    for number in range(1, n_groups + 1):
        group = Group.objects.create(course=course, number=number, repo_url=f"https://github.com/g/{number}")
        for i in range(3):
            user = django_user_model.objects.create_user(f"u{number}-{i}@x.dk", email=f"u{number}-{i}@x.dk")
            Membership.objects.create(user=user, group=group)

    with django_assert_num_queries(2):  # the groups; their memberships with users
        rows = roster_rows(course)

    assert len(rows) == 3 * n_groups


# --- CSV cells Excel would run: written defused (csvfiles), read back as they were --------------------------------

HOSTILE = [  # (study number, name, e-mail) as students may type them, each one a formula to Excel
    ("=1+1", '=HYPERLINK("http://evil.example","x")', "eq@example.com"),
    ("+45 1234", "@SUM(A1) Holm", "+1@example.com"),
    ("-7", "-2+3", "-2@example.com"),
    ("@3", "Otters;=1+1;", "=x@example.com"),
]


def test_a_hostile_roster_is_written_defused_and_reads_back_as_it_was():
    rows = [["1", study, name, email, "https://github.com/one/mlops"] for study, name, email in HOSTILE]

    exported = roster.roster_csv(rows)

    assert exported.splitlines() == [
        '"group","study_number","name","email","repo","github_username"',
        '"1","\'=1+1","\'=HYPERLINK(""http://evil.example"",""x"")","eq@example.com","https://github.com/one/mlops"',
        '"1","\'+45 1234","\'@SUM(A1) Holm","\'+1@example.com","https://github.com/one/mlops"',
        '"1","\'-7","\'-2+3","\'-2@example.com","https://github.com/one/mlops"',
        '"1","\'@3","Otters;=1+1;","\'=x@example.com","https://github.com/one/mlops"',
    ]
    (group,) = parse(exported, min_size=1).groups
    assert [(m.study_number, m.name, m.email) for m in group.members] == HOSTILE


def test_a_quote_is_taken_off_only_before_a_formula_start():
    text = "group,study_number,name,email\n1,'s1,'Connor,'o@example.com\n1,'-1,'=x,'+o@example.com\n"

    (group,) = parse(text, min_size=1).groups

    assert [(m.study_number, m.name, m.email) for m in group.members] == [
        ("'s1", "'Connor", "'o@example.com"),
        ("-1", "=x", "+o@example.com"),
    ]


def test_a_hostile_roster_in_the_site_exports_and_imports_back_with_nothing_changed(course):
    lines = [f'1,"{study}","{name.replace(chr(34), 2 * chr(34))}",{email},' for study, name, email in HOSTILE]
    data = "\n".join(["group,study_number,name,email,repo", *lines]).encode()
    roster_import(course=course, roster=roster_read(course=course, data=data))
    before = site_state(course)
    exported = roster.roster_csv(roster_rows(course))

    changes = roster_import(course=course, roster=roster_read(course=course, data=exported.encode()))

    assert '"\'=HYPERLINK(""http://evil.example"",""x"")"' in exported
    assert changes.lines() == [] and not changes.changed
    assert site_state(course) == before
    assert sorted(before["members"]) == sorted((1, email, study) for study, _, email in HOSTILE)


def test_a_group_number_of_thousands_of_digits_is_a_problem_not_a_crash():
    data = ("group,study_number,name,email,repo\n" + "9" * 5000 + ",s1,A B,a@example.com,\n").encode()
    with pytest.raises(RosterError) as raised:
        parse_roster(data, min_size=1, max_size=5, allowed=["https://github.com/"])
    assert raised.value.problems == [
        (2, "the group number 999999999999999999999999999999999999999999999999999999999... is too large")
    ]
