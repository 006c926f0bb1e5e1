"""The authorization matrix: every URL of the site, who may reach it and with what status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from reports_app.models import (
    AnswerRevision,
    Course,
    CourseStaff,
    Figure,
    Group,
    GroupGrader,
    Job,
    Mail,
    QuestionPoints,
    RegradeRequest,
    ReportTemplate,
    StaffRole,
)
from reports_app.selectors.submissions import course_codes
from reports_app.services.answers import answer_save
from reports_app.services.feedback import regrade_request
from reports_app.services.figures import IfExists, figure_add, figure_delete
from reports_app.services.grading import grade_save
from reports_app.services.reports import report_for_group
from tests.conftest import DEMO_TEMPLATE, png_bytes

# staff: is_staff (may log in to the admin) without a role in any course; ta: a TA of the course who grades group 1;
# other_ta: a TA of the course who grades group 2 only; instructor: the course's instructor (tests/conftest.py);
# other_instructor: the instructor of another course. Only the superuser has model permissions.
ROLES = ("anonymous", "outsider", "member", "staff", "superuser", "ta", "other_ta", "instructor", "other_instructor")


USERNAMES = {
    "outsider": "charlie",
    "member": "alice",
    "staff": "staffer",
    "superuser": "root",
    "ta": "tara",
    "other_ta": "theo",
    "instructor": "instructor",
    "other_instructor": "olga",
}


JOIN_CODE = "heron-17-lake"


NEW_PASSWORD = "Quiet-otter-rows-42"


NOT_SECRET = "pw-alice"  # alice's password in tests/conftest.py


DELETED_FIGURE = "gone.png"


ROSTER = "Group nb,Student 1,Student 2,Student 3,github_repo\n7,ann@example.com,ben@example.com,cat@example.com,\n"


@dataclass(frozen=True)
class World:
    """The objects the URLs point at: group 1 (alice, bob) with a report, two versions of answer 1, a figure with an
    earlier version (1) in its history and a deleted figure, DELETED_FIGURE; the course; a finished export job with
    its file."""

    course: Course
    group: Group
    other: Group
    template: ReportTemplate
    revision: AnswerRevision  # version 1 of question 1; the answer is at version 2
    figure: Figure
    job: Job
    regrade: RegradeRequest  # alice's, open, on group 1's question 3 (questions 2 and 3 released, graded)


def make_world(group1: Group, group2: Group, instructor) -> World:
    """The objects of World, and the users of ROLES (each with the password pw-<username>); alice gets an e-mail
    address and the course a join code."""
    django_user_model = get_user_model()
    alice = django_user_model.objects.get(username="alice")
    alice.email = "alice@example.com"
    alice.save()
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-root")
    course = group1.course
    django_user_model.objects.create_user("staffer", password="pw-staffer", is_staff=True)
    for username, group in (("tara", group1), ("theo", group2)):
        ta = django_user_model.objects.create_user(username, password=f"pw-{username}")
        CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
        GroupGrader.objects.create(group=group, user=ta)
    olga = django_user_model.objects.create_user("olga", password="pw-olga", is_staff=True)
    other_course = Course.objects.create(code="C2", title="Course two", template=course.template)
    CourseStaff.objects.create(course=other_course, user=olga, role=StaffRole.INSTRUCTOR)
    course.join_code = JOIN_CODE
    course.save()
    QuestionPoints.objects.create(course=course, number=1, max_points=5)
    report = report_for_group(group1)
    report_for_group(group2)
    question = course.template.questions.get(number=1)
    answer_save(report=report, question=question, text="Our first answer.", base_version=0, user=alice)
    answer_save(report=report, question=question, text="Our second answer.", base_version=1, user=alice)
    figure_add(report=report, data=png_bytes(color="blue"), wanted_name="plot.png", user=alice)
    replace = IfExists.REPLACE
    figure = figure_add(report=report, data=png_bytes(), wanted_name="plot.png", user=alice, if_exists=replace).figure
    deleted = figure_add(report=report, data=png_bytes(color="white"), wanted_name=DELETED_FIGURE, user=alice).figure
    figure_delete(figure=deleted, user=alice)
    job = Job.objects.create(
        kind=Job.Kind.EXPORT,
        course=course,
        created_by=instructor,
        status=Job.Status.DONE,
        finished_at=datetime(2025, 1, 20, 12, 0, tzinfo=UTC),
    )
    job.file.save("c1.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    course.regrades_until = datetime(2100, 1, 1, tzinfo=UTC)
    course.save()
    released = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
    for number in (2, 3):
        QuestionPoints.objects.create(course=course, number=number, max_points=3, released_at=released)
        grade = grade_save(
            group=group1, number=number, items=[], adjustment="2", comment="", base_version=0, user=instructor
        )
    regrade = regrade_request(grade=grade, user=alice, reason="Please look at question 3 again.")
    context = {"group": group1.pk, "what": "question 2", "base_url": "http://testserver"}
    Mail.objects.create(  # the mail server refused it: the outbox offers to send it again
        kind=Mail.Kind.RELEASE, course=course, user=alice, address=alice.email, context=context, status="failed"
    )
    return World(
        course=course,
        group=group1,
        other=group2,
        template=course.template,
        revision=AnswerRevision.objects.get(answer__report=report, version=1),
        figure=figure,
        job=job,
        regrade=regrade,
    )


@dataclass(frozen=True)
class Expect:
    """A status; for a redirect, the path it goes to (a function of the world, read after the request)."""

    status: int
    to: Callable[[World], str] | None = None
    writes: bool = False


def url(name: str, *args: Callable[[World], object]) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[arg(w) for arg in args])


def group_id(w: World) -> int:
    return w.group.pk


def question(w: World) -> int:
    return 1


def failed_mail(w: World) -> int:
    return Mail.objects.get(course=w.course, status=Mail.Status.FAILED).pk


def latest_job_url(w: World) -> str:
    return reverse("job", args=[Job.objects.latest("id").pk])


OK = Expect(200)


FORBIDDEN = Expect(403)


NOT_FOUND = Expect(404)


NOT_ALLOWED = Expect(405)


LOGIN = Expect(302, url("login"))


ADMIN_LOGIN = Expect(302, url("admin:login"))


REFUSED = Expect(302, url("report", group_id))  # a write refused with a message on the report page


ANYONE = len(ROLES)


PUBLIC = (OK,) * ANYONE


ACCOUNT = (LOGIN, *(OK,) * (ANYONE - 1))


NF = NOT_FOUND


#            anonymous outsider member staff superuser ta  other_ta instructor other_instructor
GROUP_PAGE = (LOGIN, NF, OK, NF, OK, OK, NF, OK, NF)  # the group's people, graders and instructors


STAFF_PAGE = (LOGIN, NF, NF, NF, OK, OK, OK, OK, NF)  # the course's staff (a TA sees their groups)


GRADER_PAGE = (LOGIN, NF, NF, NF, OK, OK, NF, OK, NF)  # a submission's graders and the course's instructors


INSTRUCTOR_PAGE = (LOGIN, NF, NF, NF, OK, NF, NF, OK, NF)  # jobs and exports: the course's instructors


AL = ADMIN_LOGIN


# staff need the model permission; TAs do not log in to the admin
ADMIN_PAGE = (AL, AL, AL, FORBIDDEN, OK, AL, AL, FORBIDDEN, FORBIDDEN)


# a course's own admin pages: a course they do not instruct is not found, before any permission is asked
ADMIN_COURSE_PAGE = (AL, AL, AL, NF, OK, AL, AL, FORBIDDEN, NF)


POST_ONLY = (LOGIN, *(NOT_ALLOWED,) * (ANYONE - 1))


def group_write(done: Expect, staff: Expect = REFUSED) -> tuple[Expect, ...]:
    """Members write; those who may look only look (refused, nothing changes); anyone else learns nothing."""
    return (LOGIN, NF, done, NF, staff, staff, NF, staff, NF)


def instructors(done: Expect) -> tuple[Expect, ...]:
    """What the course's instructors (and a superuser) do; everyone else: 404."""
    return tuple(done if expect is OK else expect for expect in INSTRUCTOR_PAGE)


@dataclass(frozen=True)
class Case:
    """One request to a URL and what each role gets, in the order of ROLES.

    `data(world, user)` is the POST body; `csrf_as` is who posts it in tests/views/test_csrf.py (one who may).
    """

    url: Callable[[World], str]
    expect: tuple[Expect, ...]
    method: str = "get"
    data: Callable[[World, object], dict] = field(default=lambda w, user: {})
    csrf_as: str | None = None

    def __post_init__(self):
        assert len(self.expect) == len(ROLES)
        assert (self.method == "post") == (self.csrf_as is not None), "every POST names who posts it for the CSRF test"


def post(url, expect, csrf_as: str, data=lambda w, user: {}) -> Case:
    return Case(url, expect, method="post", data=data, csrf_as=csrf_as)


def figure_upload(w: World, user) -> dict:
    return {"file": SimpleUploadedFile("new.png", png_bytes(color="green"), "image/png")}


def first_checklist_item(w: World, user) -> dict:
    return {"item": str(w.template.checklist.first().position)}


def join_data(w: World, user) -> dict:
    people = [("ann@example.com", "Ann"), ("ben@example.com", "Ben"), ("cat@example.com", "Cat")]
    data = {"code": JOIN_CODE, "name": "Herons", "repo_url": "https://github.com/herons/mlops"}
    for i, (email, name) in enumerate(people, start=1):
        data |= {f"email_{i}": email, f"name_{i}": name, f"study_number_{i}": f"s24000{i}"}
    return data


def password_change_data(w: World, user) -> dict:
    old = f"pw-{user.username}" if user else "guess"
    return {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


def template_upload(w: World, user) -> dict:
    return {"file": SimpleUploadedFile("demo-v2.md", DEMO_TEMPLATE.read_bytes(), "text/markdown"), "name": "demo-v2"}


def roster_upload(w: World, user) -> dict:
    return {"file": SimpleUploadedFile("roster.csv", ROSTER.encode(), "text/csv")}


report_url = url("report", group_id)


edit_url = url("edit-answer", group_id, question)


history_url = url("answer-history", group_id, question)


figures_url = url("figures", group_id)


figure_name = lambda w: w.figure.name  # noqa: E731


course_id = lambda w: w.course.pk  # noqa: E731


submission_code = lambda w: course_codes(w.course)[w.group.pk]  # noqa: E731


grade_url = url("grade", course_id, submission_code, question)


job_id = lambda w: w.job.pk  # noqa: E731


WROTE_JOB = Expect(302, latest_job_url, writes=True)


LOGGED_IN = Expect(302, url("home"), writes=True)


TABLE: dict[str, list[Case]] = {
    # accounts (Django's auth views with our templates)
    "login": [
        Case(url("login"), PUBLIC),
        post(
            url("login"),
            (LOGGED_IN,) * ANYONE,
            "anonymous",
            lambda w, user: {"username": "alice", "password": NOT_SECRET},
        ),
    ],
    "logout": [
        Case(url("logout"), (NOT_ALLOWED,) * ANYONE),
        post(
            url("logout"),
            (Expect(302, url("login")), *[Expect(302, url("login"), writes=True)] * (ANYONE - 1)),
            "member",
        ),
    ],
    "password_change": [
        Case(url("password_change"), ACCOUNT),
        post(
            url("password_change"),
            (LOGIN, *[Expect(302, url("password_change_done"), writes=True)] * (ANYONE - 1)),
            "member",
            password_change_data,
        ),
    ],
    "password_change_done": [Case(url("password_change_done"), ACCOUNT)],
    "password_reset": [
        Case(url("password_reset"), PUBLIC),
        # mails a link when the address is known, says the same when it is not; counts a mail against the mail
        # limits either way (login_rate_limit.mail_allowed)
        post(
            url("password_reset"),
            (Expect(302, url("password_reset_done"), writes=True),) * ANYONE,
            "anonymous",
            lambda w, user: {"email": "alice@example.com"},
        ),
    ],
    "password_reset_done": [Case(url("password_reset_done"), PUBLIC)],
    # a made-up link: the page says it is not valid (tests/views/test_csrf.py follows a real link)
    "password_reset_confirm": [
        Case(url("password_reset_confirm", lambda w: "MQ", lambda w: "made-up-token"), PUBLIC),
        post(
            url("password_reset_confirm", lambda w: "MQ", lambda w: "made-up-token"),
            PUBLIC,
            "anonymous",
            lambda w, user: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
    ],
    "password_reset_complete": [Case(url("password_reset_complete"), PUBLIC)],
    # the site
    "home": [
        Case(
            url("home"),
            (LOGIN, Expect(302, lambda w: reverse("report", args=[w.other.pk])), Expect(302, report_url), *[OK] * 6),
        )
    ],
    "healthz": [Case(url("healthz"), PUBLIC)],
    "session": [Case(url("session"), PUBLIC)],
    "join": [
        Case(url("join"), PUBLIC),
        post(url("join"), (Expect(200, writes=True),) * ANYONE, "anonymous", join_data),  # the code is the key
    ],
    # a made-up invitation link: not found for anyone (tests/views/test_invitation.py follows real ones)
    "invitation": [
        Case(url("invitation", lambda w: "made-up-token-that-is-long-enough"), (NOT_FOUND,) * ANYONE),
        post(
            url("invitation", lambda w: "made-up-token-that-is-long-enough"),
            (NOT_FOUND,) * ANYONE,
            "anonymous",
            lambda w, user: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
    ],
    # a group's pages: its members and staff read them, only members write
    "report": [Case(report_url, GROUP_PAGE)],
    "edit-answer": [
        Case(edit_url, GROUP_PAGE),
        post(
            edit_url,
            group_write(Expect(302, report_url, writes=True), staff=FORBIDDEN),
            "member",
            lambda w, user: {"text": "Our third answer.", "version": "2"},
        ),
    ],
    "answer-draft": [
        Case(url("answer-draft", group_id, question), GROUP_PAGE),  # who else is editing: the group's people
        post(
            url("answer-draft", group_id, question),
            group_write(Expect(200, writes=True), staff=FORBIDDEN),
            "member",
            lambda w, user: {"text": "Half of a thought", "version": "2"},
        ),
    ],
    "answer-history": [Case(history_url, GROUP_PAGE)],
    "restore-answer": [
        Case(url("restore-answer", group_id, question, lambda w: w.revision.pk), POST_ONLY),
        post(
            url("restore-answer", group_id, question, lambda w: w.revision.pk),
            group_write(Expect(302, history_url, writes=True)),
            "member",
            lambda w, user: {"version": "2"},
        ),
    ],
    "tick-checklist": [
        Case(url("tick-checklist", group_id), POST_ONLY),
        post(
            url("tick-checklist", group_id),
            group_write(Expect(302, report_url, writes=True)),
            "member",
            first_checklist_item,
        ),
    ],
    "figures": [
        Case(figures_url, GROUP_PAGE),
        post(figures_url, group_write(Expect(302, figures_url, writes=True)), "member", figure_upload),
    ],
    "figure": [Case(url("figure", group_id, figure_name), GROUP_PAGE)],
    "figure-version": [Case(url("figure-version", group_id, figure_name, lambda w: 1), GROUP_PAGE)],
    "restore-figure": [
        Case(url("restore-figure", group_id, lambda w: DELETED_FIGURE), POST_ONLY),
        post(
            url("restore-figure", group_id, lambda w: DELETED_FIGURE),
            group_write(Expect(302, figures_url, writes=True)),
            "member",
        ),
    ],
    "delete-figure": [
        Case(url("delete-figure", group_id, figure_name), GROUP_PAGE),
        post(
            url("delete-figure", group_id, figure_name),
            group_write(Expect(302, figures_url, writes=True)),
            "member",
            lambda w, user: {"confirm": "yes"},
        ),
    ],
    "download-zip": [Case(url("download-zip", group_id), GROUP_PAGE)],
    "download-html": [Case(url("download-html", group_id), GROUP_PAGE)],
    "download-grading": [Case(url("download-grading", group_id), GROUP_PAGE)],
    # staff pages: the course's staff (a TA: their groups' rows); students and other courses' staff get 404
    "dashboard": [Case(url("dashboard", course_id), STAFF_PAGE)],
    "dashboard-csv": [Case(url("dashboard-csv", course_id), STAFF_PAGE)],
    "grading": [Case(url("grading", course_id), STAFF_PAGE)],  # the grading overview: a TA sees their groups
    # jobs and exports: the course's instructors only; anyone else gets 404 (they never learn what runs)
    "start-job": [
        Case(url("start-job", course_id), POST_ONLY),
        post(url("start-job", course_id), instructors(WROTE_JOB), "instructor", lambda w, user: {"kind": "export"}),
    ],
    "course-jobs": [Case(url("course-jobs", course_id), INSTRUCTOR_PAGE)],
    "job": [Case(url("job", job_id), INSTRUCTOR_PAGE)],
    "rerun-job": [
        Case(url("rerun-job", job_id), POST_ONLY),
        post(url("rerun-job", job_id), instructors(WROTE_JOB), "instructor"),
    ],
    "download-job": [Case(url("download-job", job_id), INSTRUCTOR_PAGE)],
    # grading a submission: its graders and the course's instructors; the URL names it by code
    "grade": [
        Case(grade_url, GRADER_PAGE),
        post(
            grade_url,
            tuple(Expect(302, grade_url, writes=True) if e is OK else e for e in GRADER_PAGE),
            "ta",
            lambda w, user: {"items": [], "adjustment": "1", "comment": "Fine", "version": "0"},
        ),
    ],
    "grading-figure": [Case(url("grading-figure", course_id, submission_code, figure_name), GRADER_PAGE)],
    "reveal-groups": [
        Case(url("reveal-groups", course_id), POST_ONLY),
        post(
            url("reveal-groups", course_id),
            instructors(Expect(302, url("grading", course_id), writes=True)),  # a choice kept in the session
            "instructor",
            lambda w, user: {"reveal": "1"},
        ),
    ],
    # a question's rubric, from a grading page: the course's instructors (a TA applies items, never edits them)
    "rubric-edit": [
        Case(url("rubric-edit", course_id, question), POST_ONLY),
        post(
            url("rubric-edit", course_id, question),
            instructors(Expect(302, url("grading", course_id), writes=True)),  # no `next`: the overview
            "instructor",
            lambda w, user: {"action": "add", "text": "Names the baseline", "points": "+1"},
        ),
    ],
    # the course's mails (released grades name groups): its instructors see them and send a failed one again
    "outbox": [Case(url("outbox", course_id), INSTRUCTOR_PAGE)],
    "retry-mails": [
        Case(url("retry-mails", course_id), POST_ONLY),
        post(
            url("retry-mails", course_id),
            instructors(Expect(302, url("outbox", course_id), writes=True)),
            "instructor",
            lambda w, user: {"mail": str(failed_mail(w))},
        ),
    ],
    # grades out name groups and members even under anonymous grading: instructors only (every kind in
    # tests/views/test_grades_out.py)
    "export-grades": [Case(url("export-grades", course_id, lambda w: "grades.csv"), INSTRUCTOR_PAGE)],
    # feedback: the group's people read it (staff preview); members ask for regrades (staff who look are refused on
    # the page, 400), graders of the group and instructors answer them, instructors release
    "feedback": [Case(url("feedback", group_id), GROUP_PAGE)],
    "request-regrade": [
        Case(url("request-regrade", group_id, lambda w: 2), POST_ONLY),
        post(
            url("request-regrade", group_id, lambda w: 2),
            group_write(Expect(302, url("feedback", group_id), writes=True), staff=Expect(400)),
            "member",
            lambda w, user: {"reason": "The plot is in figure 2."},
        ),
    ],
    "answer-regrade": [
        Case(url("answer-regrade", course_id, lambda w: w.regrade.pk), POST_ONLY),
        post(
            url("answer-regrade", course_id, lambda w: w.regrade.pk),
            tuple(
                Expect(302, url("grade", course_id, submission_code, lambda w: 3), writes=True) if e is OK else e
                for e in GRADER_PAGE
            ),
            "ta",
            lambda w, user: {"response": "Looked again: it stands.", "adjustment": "", "comment": ""},
        ),
    ],
    "release-grades": [
        Case(url("release-grades", course_id), POST_ONLY),
        post(
            url("release-grades", course_id),
            instructors(Expect(302, url("grading", course_id), writes=True)),
            "instructor",
            lambda w, user: {"confirm": "1"},
        ),
    ],
    # our admin views: staff need the model's permission, which only the superuser has here
    "admin:reports_app_reporttemplate_load": [
        Case(url("admin:reports_app_reporttemplate_load"), ADMIN_PAGE),
        post(url("admin:reports_app_reporttemplate_load"), ADMIN_PAGE, "superuser", template_upload),  # preview
    ],
    "admin:reports_app_reporttemplate_compare": [Case(url("admin:reports_app_reporttemplate_compare"), ADMIN_PAGE)],
    "admin:reports_app_course_import_roster": [
        Case(url("admin:reports_app_course_import_roster", course_id), ADMIN_COURSE_PAGE),
        post(url("admin:reports_app_course_import_roster", course_id), ADMIN_COURSE_PAGE, "superuser", roster_upload),
    ],
    "admin:reports_app_course_export_roster": [
        Case(url("admin:reports_app_course_export_roster", course_id), ADMIN_COURSE_PAGE)
    ],
    # the preview of a spread writes nothing; Apply is tested in tests/views/test_assign_graders.py
    "admin:reports_app_course_assign_graders": [
        Case(url("admin:reports_app_course_assign_graders", course_id), ADMIN_COURSE_PAGE),
        post(
            url("admin:reports_app_course_assign_graders", course_id),
            ADMIN_COURSE_PAGE,
            "superuser",
            lambda w, user: {"spread": "1"},
        ),
    ],
    # every report follows the course's template already: Move says so and changes nothing
    "admin:reports_app_course_move_reports": [
        Case(url("admin:reports_app_course_move_reports", course_id), ADMIN_COURSE_PAGE),
        post(
            url("admin:reports_app_course_move_reports", course_id),
            (
                *ADMIN_COURSE_PAGE[:4],
                Expect(302, url("admin:reports_app_course_change", course_id)),
                *ADMIN_COURSE_PAGE[5:],
            ),
            "superuser",
            lambda w, user: {"target": str(w.course.template_id)},
        ),
    ],
}


CASES = [pytest.param(name, case, id=f"{name}-{case.method}") for name, cases in TABLE.items() for case in cases]


def client_as(role: str, **kwargs) -> tuple[Client, object]:
    """A fresh client logged in as the role's user (none for anonymous), and that user."""
    client = Client(**kwargs)
    if role == "anonymous":
        return client, None
    user = get_user_model().objects.get(username=USERNAMES[role])
    client.force_login(user)
    return client, user


def send(client: Client, case: Case, w: World, user, **extra):
    if case.method == "get":
        return client.get(case.url(w))
    return client.post(case.url(w), case.data(w, user) | extra)


def snapshot() -> dict[str, list[dict]]:
    """Every row of our tables, the users, the sessions and the task queue: what "nothing changed" compares."""
    models = [*apps.get_app_config("reports_app").get_models(), get_user_model(), Session, DBTaskResult]
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in models}


def outcome(response, w: World, before: dict) -> tuple[int, str | None, bool]:
    """(status, the path a redirect goes to, whether any row changed)."""
    location = urlsplit(response["Location"]).path if response.has_header("Location") else None
    return response.status_code, location, snapshot() != before


def wanted(expect: Expect, w: World) -> tuple[int, str | None, bool]:
    return expect.status, expect.to(w) if expect.to else None, expect.writes
