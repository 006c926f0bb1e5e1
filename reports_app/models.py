from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from .engine import checks, matching, parsing, rendering


@functools.lru_cache(maxsize=64)
def parse_template_source(source: str) -> parsing.ParsedTemplate:
    """Parsing is pure, so a template's source is parsed once per process."""
    return parsing.parse_template(source)


@functools.lru_cache(maxsize=64)
def template_outline(source: str) -> frozenset:
    return matching.outline_shingles(source)


class Checker(models.TextChoices):
    CLICK = "click", "2022-2024 course checker (click, skips the first 43 characters)"
    TYPER = "typer", "2024- course checker (typer)"


class ReportTemplate(models.Model):
    """One version of the course's report template, as loaded from its markdown file."""

    name = models.CharField(max_length=100, unique=True)
    source = models.TextField()
    content_hash = models.CharField(max_length=64, db_index=True, editable=False)
    checker = models.CharField(max_length=10, choices=Checker.choices, default=Checker.TYPER)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_source(source: str) -> str:
        return hashlib.sha256(source.encode("utf-8")).hexdigest()

    def parsed(self) -> parsing.ParsedTemplate:
        return parse_template_source(self.source)

    def outline(self) -> frozenset:
        return template_outline(self.source)

    def rules(self) -> list[checks.Rule]:
        """The rules as stored (staff may have edited them since loading), in question order."""
        return [q.rule() for q in self.questions.all()]


class Section(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="unique_section_position")]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions", null=True, blank=True)
    number = models.PositiveSmallIntegerField()
    prompt = models.TextField()
    placeholder = models.CharField(max_length=200, blank=True)
    min_words = models.PositiveIntegerField(null=True, blank=True)
    max_words = models.PositiveIntegerField(null=True, blank=True)
    min_images = models.PositiveIntegerField(null=True, blank=True)
    max_images = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="unique_question_number"),
            models.CheckConstraint(
                condition=models.Q(min_words__isnull=True, max_words__isnull=True)
                | models.Q(min_words__isnull=False, max_words__isnull=False, min_words__lte=models.F("max_words")),
                name="question_word_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_images__isnull=True, max_images__isnull=True)
                | models.Q(min_images__isnull=False, max_images__isnull=False, min_images__lte=models.F("max_images")),
                name="question_image_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Question {self.number}"

    def prompt_html(self) -> str:
        return rendering.prompt_html(self.prompt)

    def rule(self) -> checks.Rule:
        words = (self.min_words, self.max_words) if self.min_words is not None else None
        images = (self.min_images, self.max_images) if self.min_images is not None else None
        return checks.Rule(self.number, words, images)


class ChecklistItem(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField()
    week = models.CharField(max_length=100)
    text = models.TextField()
    modules = models.CharField(max_length=100, blank=True, help_text="Module tags, e.g. M5 or M2+M6")

    class Meta:
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="unique_checklist_position")]

    def __str__(self) -> str:
        return self.text


COURSE_CODE_INVALID = (
    "A course code has only letters, digits, '-', '_' and '.' (not first), e.g. 02476-2025: it names files."
)
# A course code is a slug: it goes into file names (exports, downloads), so nothing in it may be a path.
validate_course_code = RegexValidator(r"\A[A-Za-z0-9_-][A-Za-z0-9._-]*\Z", COURSE_CODE_INVALID)


class CourseQuerySet(models.QuerySet):
    def taking_signups(self) -> CourseQuerySet:
        """Courses that have a join code: their groups may sign themselves up at /join/."""
        return self.exclude(join_code="")

    def staffed_by(self, user) -> CourseQuerySet:
        """Courses `user` has a role in (instructor or TA); every course for a superuser."""
        if user.is_superuser:
            return self.all()
        return self.filter(models.Exists(CourseStaff.objects.filter(course=models.OuterRef("pk"), user_id=user.pk)))

    def instructed_by(self, user) -> CourseQuerySet:
        """Courses `user` is an instructor of; every course for a superuser."""
        if user.is_superuser:
            return self.all()
        mine = CourseStaff.objects.filter(course=models.OuterRef("pk"), user_id=user.pk, role=StaffRole.INSTRUCTOR)
        return self.filter(models.Exists(mine))

    def with_role(self, user) -> CourseQuerySet:
        """Each course with `role`: the user's role in it (a superuser's is instructor everywhere)."""
        if user.is_superuser:
            return self.annotate(role=models.Value(StaffRole.INSTRUCTOR.value))
        role = CourseStaff.objects.filter(course=models.OuterRef("pk"), user_id=user.pk).values("role")[:1]
        return self.annotate(role=models.Subquery(role))


class Course(models.Model):
    code = models.CharField(max_length=50, unique=True, validators=[validate_course_code])
    title = models.CharField(max_length=200, blank=True)
    template = models.ForeignKey(
        ReportTemplate, on_delete=models.PROTECT, related_name="courses", null=True, blank=True
    )
    deadline = models.DateTimeField(null=True, blank=True)
    join_code = models.CharField(
        max_length=40,
        blank=True,
        help_text="Students who have this code may sign their group up themselves; empty: no self sign-up",
    )
    min_group_size = models.PositiveSmallIntegerField(default=3)
    max_group_size = models.PositiveSmallIntegerField(default=5)
    grades_may_exceed = models.BooleanField(
        default=False,
        help_text="A question's score may go below 0 or above its max points; unticked: it is kept within 0..max",
    )
    anonymous_grading = models.BooleanField(
        default=False,
        help_text="TAs grade submissions by code ('Submission 7F3K'), never seeing group numbers, names, members or "
        "repos; instructors may reveal them",
    )
    grades_released_at = models.DateTimeField(
        null=True, blank=True, help_text="When every grade of the course was released to the students; empty: not yet"
    )
    regrades_until = models.DateTimeField(
        null=True, blank=True, help_text="Members may ask for a regrade of a released grade until then; empty: never"
    )
    lms_item_name = models.CharField(
        max_length=100,
        default="Report",
        help_text="The grade item's name in the learning platform (D2L's '<name> Points Grade' column)",
    )

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_group_size__gte=1, min_group_size__lte=models.F("max_group_size")),
                name="course_group_size_range",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def viewer_instructs(self) -> bool:
        """For a course fetched `with_role(user)` (views.access.get_course_for_staff): whether that user instructs it
        (a superuser does)."""
        return getattr(self, "role", None) == StaffRole.INSTRUCTOR


def staff_sees(user) -> models.Q:
    """The groups `user` sees as staff, as a filter on groups: every group of a course they instruct, and the groups
    assigned to them in a course where they have a role still; every group for a superuser. The one rule of scope."""
    if user.is_superuser:
        return models.Q(pk__isnull=False)
    instructs = CourseStaff.objects.filter(
        course=models.OuterRef("course_id"), user_id=user.pk, role=StaffRole.INSTRUCTOR
    )
    grades = GroupGrader.objects.filter(
        group=models.OuterRef("pk"), user_id=user.pk, group__course__staff__user_id=user.pk
    )
    return models.Q(models.Exists(instructs)) | models.Q(models.Exists(grades))


class GroupQuerySet(models.QuerySet):
    def scrapable(self) -> GroupQuerySet:
        """Groups with a repo URL: the ones a scrape of the whole course reads."""
        return self.exclude(repo_url="")

    def visible_to(self, user) -> GroupQuerySet:
        """Groups `user` sees as staff (`staff_sees`)."""
        return self.filter(staff_sees(user))


class Group(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    repo_url = models.CharField(
        max_length=500, blank=True, help_text="The group's git repository, e.g. https://github.com/owner/name"
    )
    extension = models.DateTimeField(
        null=True, blank=True, help_text="A later deadline for this group only; empty: the course deadline"
    )
    last_scrape = models.ForeignKey(
        "Scrape", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["course", "number"]
        constraints = [models.UniqueConstraint(fields=["course", "number"], name="unique_group_number")]

    def __str__(self) -> str:
        return f"{self.course.code} group {self.number}"

    @property
    def deadline(self) -> datetime | None:
        """When the group's hand-in closes: its extension if it has one, else the course deadline."""
        return self.extension or self.course.deadline

    def is_open(self, now: datetime | None = None) -> bool:
        return self.deadline is None or (now or timezone.now()) < self.deadline


class StaffRole(models.TextChoices):
    INSTRUCTOR = "instructor", "instructor"
    TA = "ta", "TA"


class CourseStaff(models.Model):
    """A user's role in a course: an instructor sees and runs everything of the course, a TA sees only the groups
    assigned to them (GroupGrader). `is_staff` only lets a user log in to the admin; a superuser sees everything."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_roles")
    role = models.CharField(max_length=10, choices=StaffRole.choices, default=StaffRole.TA)

    class Meta:
        verbose_name_plural = "course staff"
        ordering = ["course", "role", "user__username"]
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="unique_course_staff")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()} of {self.course})"


GRADER_NOT_STAFF = "{user} is not a TA or instructor of {course}: give them a role in the course first."


class GroupGrader(models.Model):
    """A group assigned to a grader (a TA or instructor of the group's course); a group may have several."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="graders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graded_groups")

    class Meta:
        ordering = ["group", "user__username"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="unique_group_grader")]

    def __str__(self) -> str:
        return f"{self.user} grades {self.group}"

    def clean(self) -> None:
        if not (self.group_id and self.user_id):
            return  # the form reports the missing field
        if not CourseStaff.objects.filter(course_id=self.group.course_id, user_id=self.user_id).exists():
            raise ValidationError(GRADER_NOT_STAFF.format(user=self.user, course=self.group.course))


# Points are Decimals with 2 places (0.5, 1.25, -2): exact sums, no float rounding in totals.
POINTS = {"max_digits": 6, "decimal_places": 2}
SCORE = {"max_digits": 9, "decimal_places": 2}  # a sum of many items' points


class QuestionPoints(models.Model):
    """A question's max points in a course, by question number (stable when the course switches template versions);
    no row, or no max, and the question is ungraded."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="question_points")
    number = models.PositiveIntegerField()
    max_points = models.DecimalField(
        **POINTS,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Empty: the question is not graded",
    )
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="When this question's grades were released alone; empty: with the course's"
    )

    class Meta:
        verbose_name = "points of a question"
        verbose_name_plural = "points per question"
        ordering = ["course", "number"]
        constraints = [models.UniqueConstraint(fields=["course", "number"], name="unique_question_points")]

    def __str__(self) -> str:
        return f"{self.course} Q{self.number}: {self.max_points if self.max_points is not None else 'ungraded'}"


class RubricItem(models.Model):
    """A reusable line of a question's rubric (Gradescope style): a short text and a point delta, + or -."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="rubric_items")
    number = models.PositiveIntegerField(help_text="The question's number")
    text = models.CharField(max_length=200)
    points = models.DecimalField(**POINTS, help_text="Added to the score when applied; negative takes off")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "number", "position", "pk"]

    def __str__(self) -> str:
        return f"Q{self.number} {self.text} ({self.points:+})"


class Grade(models.Model):
    """A group's grade on one question (by number): rubric items applied, a free adjustment and a comment (markdown,
    stored as typed). Its score is computed from the items' current points (services.grading.score). `version`
    guards against overwriting a newer grade (optimistic locking, as answers do)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="grades")
    number = models.PositiveIntegerField()
    items = models.ManyToManyField(RubricItem, blank=True, related_name="grades")
    adjustment = models.DecimalField(**POINTS, default=0)
    comment = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    revision = models.ForeignKey(
        "AnswerRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The answer's version the grader saw (selectors.graded); empty: the question was not answered",
    )

    class Meta:
        ordering = ["group", "number"]
        constraints = [models.UniqueConstraint(fields=["group", "number"], name="unique_grade")]

    def __str__(self) -> str:
        return f"{self.group} Q{self.number}"

    def comment_html(self) -> str:
        """The comment as pages show it: rendered and sanitized like an answer, within the render budget (past it, the
        text as typed with why). Images in it are not ours to serve: left as written, and nh3 keeps only safe URLs."""
        try:
            return rendering.answer_html(self.comment, figure_url=lambda name: None)
        except rendering.RenderError as error:
            return rendering.unrendered_html(self.comment, str(error), what="The comment")


class GradeLog(models.Model):
    """One change of a grade: who, when, why (kind), and its score and fields before and after. Never changed."""

    class Kind(models.TextChoices):
        CREATED = "created", "graded"
        CHANGED = "changed", "grade changed"
        ITEM_POINTS = "item_points", "rubric item's points changed"
        MAX_POINTS = "max_points", "max points changed"

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="log")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    score_before = models.DecimalField(**SCORE, null=True, blank=True)
    score_after = models.DecimalField(**SCORE)
    before = models.JSONField(default=dict, blank=True)  # {"items": [...], "adjustment": "0.5", "comment": ...}
    after = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)  # e.g. "'Clear plot' 2.00 -> 1.00"

    class Meta:
        verbose_name = "grade log entry"
        verbose_name_plural = "grade log"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.grade}: {self.get_kind_display()} {self.score_before} -> {self.score_after}"


class RegradeRequest(models.Model):
    """A member asking for a regrade of a released grade, with a reason; a grader of the group or an instructor
    answers, and may change the grade (a logged grade save). Never deleted."""

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="regrades")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="regrade_requests"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    score_at_request = models.DecimalField(**SCORE)
    response = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    score_after = models.DecimalField(**SCORE, null=True, blank=True, help_text="The score once answered")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Regrade of {self.grade}" + (" (answered)" if self.answered_at else " (open)")

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    study_number = models.CharField(max_length=20, blank=True)
    github_username = models.CharField(
        max_length=39, blank=True, help_text="The member's GitHub user name: their commits count as theirs"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "group"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class Report(models.Model):
    """A group's report: its answers and marks, following one template version.

    `layout` is set only when the report's text outside its answers differs from the template's (an imported file
    with edited prompts, extra blank lines...); then exports reproduce that file instead of the template's text.
    """

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="report")
    template = models.ForeignKey(ReportTemplate, on_delete=models.PROTECT, related_name="reports")
    source = models.TextField(blank=True, help_text="The last imported file, exactly as read")
    source_label = models.CharField(max_length=200, blank=True)
    source_bytes = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="The last README read from the repo, byte for byte as committed (CRLF, BOM, trailing spaces)",
    )
    source_blob = models.CharField(max_length=64, blank=True, help_text="The git blob id of source_bytes")
    layout = models.JSONField(null=True, blank=True)
    problems = models.JSONField(default=list, blank=True)
    unplaced = models.JSONField(default=list, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Report of {self.group}"

    def layout_parts(self) -> tuple[parsing.Part, ...]:
        return parsing.layout_from_json(self.layout) if self.layout is not None else self.template.parsed().layout

    def readme(self, answers: dict[int, str], marks: dict[int, str]) -> str:
        """The README.md: the template's text (or the imported file's) with `answers` by question number and the
        checklist `marks` by position. The one place a README is rebuilt; callers fetch answers and marks their way."""
        return parsing.render_layout(self.layout_parts(), answers, marks)


class AnswerQuerySet(models.QuerySet):
    def on_own_template(self) -> AnswerQuerySet:
        """Answers to questions of their report's own template (a report moved to another version keeps the others)."""
        return self.filter(question__template_id=models.F("report__template_id"))


class Answer(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    text = models.TextField(blank=True)
    html = models.TextField(  # noqa: DJ001 - None: not rendered yet; "": an empty answer, rendered
        null=True,
        blank=True,
        editable=False,
        help_text="The answer rendered and sanitized, for our pages; None until a page first shows it (a scrape does "
        "not render)",
    )
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        ordering = ["report", "question__number"]
        constraints = [models.UniqueConstraint(fields=["report", "question"], name="unique_answer")]

    def __str__(self) -> str:
        return f"{self.report} Q{self.question.number}"


class AnswerRevision(models.Model):
    """Every saved version of an answer, and every save that lost a conflict; never deleted.

    A saved revision is version `version` of the answer. A conflict revision is text someone tried to save on top of
    version `version` after a teammate had saved a newer one: kept so that it can be merged or restored, never current.
    """

    class Kind(models.TextChoices):
        SAVED = "saved", "saved"
        CONFLICT = "conflict", "not saved: conflicted with a newer version"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SAVED)
    text = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="web, import: <file>, repo@<sha>, restore of vN")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answer", "-version", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "version"], condition=models.Q(kind="saved"), name="unique_revision_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.answer} v{self.version}" + (" (conflict)" if self.kind == self.Kind.CONFLICT else "")


class Draft(models.Model):
    """What one member has typed in an answer's editor and not saved: autosaved as they type, restored when they open
    the editor again, gone once they save. Not a version: nobody else sees its text, only that its author is editing."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="drafts")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    text = models.TextField(blank=True)
    base_version = models.PositiveIntegerField(help_text="The answer's version the author started from")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["report", "question__number", "author"]
        constraints = [models.UniqueConstraint(fields=["report", "question", "author"], name="unique_draft")]

    def __str__(self) -> str:
        return f"Draft of {self.report} Q{self.question.number} by {self.author}"


class ChecklistMarkQuerySet(models.QuerySet):
    def on_own_template(self) -> ChecklistMarkQuerySet:
        """Marks of checklist items of their report's own template (as answers: the others are kept, not shown)."""
        return self.filter(item__template_id=models.F("report__template_id"))


class ChecklistMark(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="marks")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="marks")
    checked = models.BooleanField(default=False)
    mark = models.CharField(max_length=3, default=" ", help_text="What stands between the brackets in the file")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChecklistMarkQuerySet.as_manager()

    class Meta:
        ordering = ["report", "item__position"]
        constraints = [models.UniqueConstraint(fields=["report", "item"], name="unique_mark")]

    def __str__(self) -> str:
        return f"{self.report} item {self.item.position}: {'x' if self.checked else ' '}"


def figure_upload_to(figure: Figure, filename: str) -> str:
    """Stored names are ours, never the uploader's: `figures/<report>/<random>.<ext>`."""
    return f"figures/{figure.report_id}/{uuid.uuid4().hex}.{figure.name.rsplit('.', 1)[-1]}"


class Figure(models.Model):
    """An image of a report, as `reports/figures/<name>` in the group's repo."""

    class ContentType(models.TextChoices):
        PNG = "image/png", "PNG"
        JPEG = "image/jpeg", "JPEG"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="figures")
    name = models.CharField(max_length=100, help_text="The file name in reports/figures/")
    file = models.FileField(upload_to=figure_upload_to, max_length=200)
    content_type = models.CharField(max_length=20, choices=ContentType.choices)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(
        default=1, help_text="1 for the first file under this name; the earlier files are its FigureVersions"
    )

    class Meta:
        ordering = ["report", "name"]
        constraints = [models.UniqueConstraint(fields=["report", "name"], name="unique_figure_name")]

    def __str__(self) -> str:
        return self.name

    def read_bytes(self) -> bytes:
        """The figure file's bytes (OSError when the file is gone or unreadable)."""
        with self.file.open("rb") as f:
            return f.read()

    @property
    def snippet(self) -> str:
        """What to paste into an answer to show the figure."""
        return f"![{self.name.rsplit('.', 1)[0]}](figures/{self.name})"


class FigureVersion(models.Model):
    """An earlier file of a report's figure `name`, kept when an upload replaced it or the figure was deleted; the
    Figure row is always the current file. Keyed by report and name rather than by Figure, so that a deleted
    figure keeps its history and can be restored (its last version becomes the Figure again)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="figure_versions")
    name = models.CharField(max_length=100, help_text="The figure's file name in reports/figures/")
    number = models.PositiveIntegerField(help_text="1 for the first file under this name")
    file = models.FileField(upload_to="figures/", max_length=200)
    content_type = models.CharField(max_length=20, choices=Figure.ContentType.choices)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who replaced or deleted it (empty for a scrape)",
    )
    archived_at = models.DateTimeField(auto_now_add=True, help_text="When it was replaced or deleted")

    class Meta:
        ordering = ["report", "name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name", "number"], name="unique_figure_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class Job(models.Model):
    """A background run over a course (scrape its repos, export its reports) whose progress people watch."""

    class Kind(models.TextChoices):
        SCRAPE = "scrape", "scrape repositories"
        EXPORT = "export", "export for grading"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        PROBLEMS = "problems", "done with problems"  # some groups could not be done; each says why
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="jobs")
    options = models.JSONField(default=dict, blank=True, help_text="group ids, at_deadline...")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="What went wrong, or a summary when done")
    file = models.FileField(upload_to="exports/", max_length=200, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The last sign of life of its worker")
    progress_at = models.DateTimeField(null=True, blank=True, help_text="When it last finished or began a step")
    current = models.CharField(max_length=100, blank=True, help_text="What it is working on, e.g. 'group 7'")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.course} #{self.pk}"

    def stalled(self, now: datetime | None = None) -> bool:
        """Running, but its worker has given no sign of life for JOB_STALLED_SECONDS: it was killed, or lost the
        database. Such a job never finishes by itself."""
        last = self.heartbeat_at or self.started_at
        if self.status != self.Status.RUNNING or last is None:
            return False
        return (now or timezone.now()) - last > timedelta(seconds=settings.JOB_STALLED_SECONDS)

    def stuck(self, now: datetime | None = None) -> bool:
        """Running, its worker alive, but no step begun or finished for longer than a group may take
        (JOB_GROUP_SECONDS): something hangs that no budget bounds. Such a job may be run again, as a stopped one."""
        last = self.progress_at or self.started_at
        if self.status != self.Status.RUNNING or last is None or self.stalled(now):
            return False
        slack = settings.JOB_HEARTBEAT_SECONDS  # a step ends at most this long after its budget ran out
        return (now or timezone.now()) - last > timedelta(seconds=settings.JOB_GROUP_SECONDS + slack)

    @property
    def state(self) -> str:
        """The status people see: 'stopped' for a stalled job, 'stuck' for one that makes no progress, else the
        status."""
        if self.stalled():
            return "stopped"
        return "stuck" if self.stuck() else self.status

    def state_label(self) -> str:
        """The state in words: 'stuck on group 7 since 12:03' for a stuck job, else as `state` (status displayed)."""
        state = self.state
        if state == "stuck":
            since = timezone.localtime(self.progress_at or self.started_at).strftime("%H:%M")
            return " ".join(filter(None, ["stuck", self.current, f"since {since}"]))
        return state if state == "stopped" else self.get_status_display()

    def title(self) -> str:
        """What the job does, in words: 'export for grading', 'scrape at the deadline (3 chosen groups)'."""
        if self.kind == self.Kind.EXPORT:
            return "export for grading"
        title = "scrape at the deadline" if self.options.get("at_deadline") else "scrape at the branch head"
        chosen = self.options.get("groups") or []
        return title + (f" ({len(chosen)} chosen group{'' if len(chosen) == 1 else 's'})" if chosen else "")

    @property
    def active(self) -> bool:
        """Queued, or running with its worker alive and moving: its page and lists follow it live."""
        return self.state in (self.Status.QUEUED, self.Status.RUNNING)


class Scrape(models.Model):
    """One fetch of a group's repo: what commit we read, when, and what came of it."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        NO_REPORT = "no_report", "no report"
        PROBLEMS = "problems", "parse problems"
        EMPTY = "empty", "empty repo"
        UNREACHABLE = "unreachable", "repo unreachable"
        REFUSED = "refused", "refused by policy"
        FAILED = "failed", "cannot import"
        TOO_LONG = "too_long", "took too long"
        AUTH_FAILED = "auth_failed", "authentication failed"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="scrapes")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="scrapes")
    repo_url = models.CharField(max_length=500)
    at_deadline = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices)
    message = models.TextField(blank=True, help_text="Why, in a sentence, when the status is not ok")
    problems = models.JSONField(default=list, blank=True, help_text="[line, message] of a report that deviates")
    skipped = models.JSONField(default=list, blank=True, help_text="[path, reason] of files we did not take")
    commit_sha = models.CharField(max_length=64, blank=True)
    commit_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField()
    changed = models.JSONField(default=list, blank=True, help_text="Question numbers whose answer got a new version")
    unchanged = models.BooleanField(default=False, help_text="The commit had been imported already")
    on_time = models.BooleanField(
        default=False,
        help_text="A scrape of the branch head run by the worker at the group's deadline: the commit as the server "
        "saw it then",
    )
    readme_blob = models.CharField(max_length=64, blank=True, help_text="The git blob id of the README read")
    contributors = models.JSONField(
        default=list,
        blank=True,
        help_text="Per git identity, of the commits up to the one read: name, email, commits, first, last, days",
    )
    history_cut = models.BooleanField(
        default=False,
        help_text="The history read stopped before its first commit (too many commits): contributors counts only "
        "the newest ones",
    )

    class Meta:
        ordering = ["group", "-fetched_at", "-id"]
        indexes = [models.Index(fields=["group", "at_deadline", "-fetched_at"], name="scrape_group_deadline")]

    def __str__(self) -> str:
        return f"{self.group} at {self.commit_sha[:10] or '-'}: {self.status}"

    @property
    def is_late(self) -> bool:
        """The commit we read is dated after the group's deadline (only possible when scraping the branch head)."""
        return self.late_for(self.group.deadline)

    def late_for(self, deadline: datetime | None) -> bool:
        return bool(self.commit_at and deadline and self.commit_at > deadline)


class CommitSeen(models.Model):
    """When the site first saw a commit of a group's repo (a scrape read it, at the branch head or at a deadline by
    its date): the server's clock, not the commit's own date, which whoever commits may set to anything."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="commits_seen")
    sha = models.CharField(max_length=64)
    committed_at = models.DateTimeField(help_text="The commit's own (committer) date")
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "commits seen"
        ordering = ["group", "first_seen_at"]
        constraints = [models.UniqueConstraint(fields=["group", "sha"], name="unique_commit_seen")]

    def __str__(self) -> str:
        return f"{self.group} {self.sha[:10]} first seen {self.first_seen_at:%Y-%m-%d %H:%M}"


class ScheduledScrape(models.Model):
    """A scrape of a group's branch head planned for its deadline (a django-tasks task run at `due_at`). A deadline
    moved plans a new one; a task whose `due_at` is no longer the group's deadline does nothing when it runs."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="scheduled_scrapes")
    due_at = models.DateTimeField()
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    scrape = models.ForeignKey(Scrape, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["group", "due_at"]
        constraints = [models.UniqueConstraint(fields=["group", "due_at"], name="unique_scheduled_scrape")]

    def __str__(self) -> str:
        return f"{self.group} at {self.due_at:%Y-%m-%d %H:%M}" + (" (done)" if self.done_at else "")


class InvitationQuerySet(models.QuerySet):
    def pending(self, now: datetime | None = None) -> InvitationQuerySet:
        """Not accepted yet, and not expired (`INVITATION_DAYS` after they were made)."""
        oldest = (now or timezone.now()) - timedelta(days=settings.INVITATION_DAYS)
        return self.filter(accepted_at__isnull=True, created_at__gt=oldest)


class Invitation(models.Model):
    """Someone named on a group's sign-up, who joins the group only by accepting with the link mailed to them
    (services.signup.invitation_accept). The link's token is stored as its sha256 only."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=150, help_text="In lower case")
    name = models.CharField(max_length=150, blank=True, help_text="As the sign-up gave it; names a new account")
    study_number = models.CharField(max_length=20, blank=True, help_text="As the sign-up gave it; the membership's")
    github_username = models.CharField(max_length=39, blank=True, help_text="As the sign-up gave it; the membership's")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["group", "email"]

    def __str__(self) -> str:
        return f"{self.email} (invited)"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(days=settings.INVITATION_DAYS)


class LoginCounter(models.Model):
    """Failed logins for one user name or one client address, in the database so that every worker process shares
    them. Rules and writes: login_rate_limit.py."""

    class Scope(models.TextChoices):
        USERNAME = "username", "user name"
        ADDRESS = "address", "client address"
        JOIN = "join", "sign-ups from a client address"
        MAIL_TO = "mail_to", "mails to an e-mail address"
        MAIL_FROM = "mail_from", "mails asked for from a client address"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    key = models.CharField(max_length=255, help_text="The user name as typed, in lower case; or the client's address")
    failures = models.PositiveIntegerField(default=0, help_text="Attempts in this window not (yet) successful")
    window_start = models.DateTimeField(db_index=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="unique_login_counter")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}: {self.failures}"


class Mail(models.Model):
    """A mail the site is to send, queued by what causes it (a release, an invitation, a regrade request) in the same
    transaction and sent by the worker (services/outbox.py). It holds the mail's intent, not its text: the text is
    written when it is sent, so an invitation's password-set link is made then and never stored."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "invitation to choose a password"
        RELEASE = "release", "grades released"
        REGRADE = "regrade", "regrade request"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, null=True, blank=True, related_name="mails")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254, help_text="The address it goes to, as the account had it when queued")
    context = models.JSONField(default=dict, blank=True, help_text="What the mail says: ids and words, no secrets")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    tries = models.PositiveSmallIntegerField(default=0, help_text="Sends that failed")
    error = models.CharField(max_length=300, blank=True, help_text="Why the last try failed, for staff")
    due_at = models.DateTimeField(
        default=timezone.now, help_text="A queued mail goes out from then on (after a failure, or a worker's claim)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="mail_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.address}: {self.status}"
