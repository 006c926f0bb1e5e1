from dataclasses import replace
from itertools import groupby
from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from django_tasks_db.models import DBTaskResult

from . import tasks
from .engine import diffing, parsing, roster
from .forms.admin import (
    AdminLoginForm,
    CourseAdminForm,
    GradersApplyForm,
    GradersUploadForm,
    GroupAdminForm,
    MembershipAdminForm,
    MoveReportsForm,
    QuestionRulesForm,
    RosterApplyForm,
    RosterUploadForm,
    TemplateCompareForm,
    TemplateLoadForm,
)
from .models import (
    Answer,
    AnswerRevision,
    Checker,
    ChecklistItem,
    Course,
    CourseStaff,
    Figure,
    GradeLog,
    Group,
    GroupGrader,
    Invitation,
    Job,
    LoginCounter,
    Membership,
    Question,
    QuestionPoints,
    Report,
    ReportTemplate,
    RubricItem,
    Scrape,
    StaffRole,
)
from .services.deadline_scrapes import deadline_scrapes_plan
from .services.graders import graders_read, graders_set, graders_spread_plan
from .services.grading import question_points_set, rubric_item_set_points
from .services.invitations import invitations_send, members_without_password
from .services.roster import roster_import, roster_read, roster_rows, roster_without_password
from .services.template_moves import course_move_preview, course_reports_move, template_as_stored
from .services.templates import TemplateConflict, template_load

# --- templates: loaded from their file with a preview, rules editable, any two versions compared --------------------


class QuestionInline(admin.TabularInline):
    """Each question's word and image rules; what it asks stays as loaded."""

    model = Question
    form = QuestionRulesForm
    fields = ["number", "section", "asks", "min_words", "max_words", "min_images", "max_images"]
    readonly_fields = ["number", "section", "asks"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("section")

    @admin.display(description="question")
    def asks(self, question: Question) -> str:
        return diffing.prompt_text(question.prompt)  # in full; the admin shows a line break as one


def template_diff_context(
    old: tuple[str, parsing.ParsedTemplate, str], new: tuple[str, parsing.ParsedTemplate, str]
) -> dict:
    """What _diff.html shows, from (name, parsed, source) of each: the differences in words and the line diff."""
    return {
        "diff_old": old[0],
        "diff_new": new[0],
        "diff_lines": diffing.template_diff(old[1], new[1]).lines(),
        "line_diff": diffing.line_diff(old[2], new[2]),
    }


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "checker", "loaded_at", "used_by"]
    search_fields = ["name"]
    readonly_fields = ["content_hash", "loaded_at", "sections_outline", "checklist_outline", "source"]
    fieldsets = [
        (None, {"fields": ["name", "checker", "content_hash", "loaded_at", "sections_outline", "checklist_outline"]}),
        ("Source", {"classes": ["collapse"], "fields": ["source"]}),
    ]
    inlines = [QuestionInline]
    actions = ["compare_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_reports=Count("reports", distinct=True), n_courses=Count("courses", distinct=True))
        )

    @admin.display(description="used by")
    def used_by(self, template: ReportTemplate) -> str:
        reports, courses = template.n_reports, template.n_courses
        return f"{reports} report{pluralize(reports)}, {courses} course{pluralize(courses)}"

    # Sections and checklist stay as loaded (the students' ticks point at the items), so they are read from the text.

    @admin.display(description="sections")
    def sections_outline(self, template: ReportTemplate) -> str:
        parsed = template.parsed()
        return "; ".join(
            f"{title} ({diffing.number_ranges(q.number for q in parsed.questions if q.section == title)})"
            for title in parsed.sections
        )

    @admin.display(description="checklist")
    def checklist_outline(self, template: ReportTemplate) -> str:
        parsed = template.parsed()
        weeks = "; ".join(
            f"{week}: {len(list(items))}" for week, items in groupby(parsed.checklist, attrgetter("week"))
        )
        url = reverse("admin:reports_app_checklistitem_changelist") + f"?template__id__exact={template.pk}"
        return format_html('{} (<a href="{}">the {} items</a>)', weeks or "none", url, len(parsed.checklist))

    def get_urls(self):
        return [
            path("load/", self.admin_site.admin_view(self.load_view), name="reports_app_reporttemplate_load"),
            path("compare/", self.admin_site.admin_view(self.compare_view), name="reports_app_reporttemplate_compare"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """A template is loaded from its file, which gives its questions and rules; never typed in."""
        return redirect("admin:reports_app_reporttemplate_load")

    def load_view(self, request):
        """Step 1: the file -> a preview of the parsed template and its differences; step 2 (Save): load it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        latest = ReportTemplate.objects.order_by("-id").first()
        form = TemplateLoadForm(request.POST or None, request.FILES or None, initial={"compare_to": latest})
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "Load a template", "form": form}
        if form.is_valid():
            data = form.cleaned_data
            if "save" in request.POST:
                try:
                    template, created = template_load(
                        name=data["name"], source=data["text"], checker=data["checker"] or None
                    )
                except (TemplateConflict, parsing.TemplateError) as e:
                    context["save_error"] = f"Not saved: {e}."
                else:
                    if created:
                        self.log_addition(request, template, [{"added": {}}])
                        self.message_user(request, f"Loaded the template {template.name}.", messages.SUCCESS)
                    else:
                        self.message_user(
                            request,
                            f"The template {template.name} is loaded already with exactly this text; nothing changed.",
                            messages.WARNING,
                        )
                    return redirect("admin:reports_app_reporttemplate_change", template.pk)
            context.update(self._preview(form))
        return TemplateResponse(request, "admin/reports_app/reporttemplate/load.html", context)

    def _preview(self, form: TemplateLoadForm) -> dict:
        data = form.cleaned_data
        parsed: parsing.ParsedTemplate = data["parsed"]
        checker = data["checker"] or parsed.checker
        context = {
            "preview": parsed,
            "filename": data["filename"],
            "checker_label": Checker(checker).label,
            "checker_detected": not data["checker"],
            "sections": [
                (title, diffing.number_ranges(q.number for q in parsed.questions if q.section == title))
                for title in parsed.sections
            ],
            "questions": [
                {
                    "number": q.number,
                    "section": q.section,
                    "words": diffing.rule_text(q.words),
                    "images": diffing.rule_text(q.images),
                    "placeholder": diffing.excerpt(q.placeholder, 60),
                    "asks": diffing.prompt_text(q.prompt),
                }
                for q in parsed.questions
            ],
            "checklist": [(week, list(items)) for week, items in groupby(parsed.checklist, key=attrgetter("week"))],
            "same_text": ReportTemplate.objects.filter(content_hash=ReportTemplate.hash_source(data["text"])).first(),
            "next_form": TemplateLoadForm(
                initial={
                    "source": form.token(),
                    "name": data["name"],
                    "checker": data["checker"],
                    "compare_to": data["compare_to"],
                }
            ),
        }
        if old := data["compare_to"]:
            new = replace(parsed, checker=checker)  # the checker chosen on the form, as it would be stored
            context |= template_diff_context(
                (old.name, template_as_stored(old), old.source), (data["name"], new, data["text"])
            )
        return context

    def compare_view(self, request):
        """Two stored templates side by side: their rules as stored now, and their sources line by line."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        chosen = "old" in request.GET and "new" in request.GET
        form = TemplateCompareForm(request.GET if chosen else None, initial=request.GET.dict())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Compare two templates",
            "form": form,
        }
        if form.is_valid():
            old, new = form.cleaned_data["old"], form.cleaned_data["new"]
            context |= template_diff_context(
                (old.name, template_as_stored(old), old.source), (new.name, template_as_stored(new), new.source)
            )
        return TemplateResponse(request, "admin/reports_app/reporttemplate/compare.html", context)

    @admin.action(description="Compare the two selected templates", permissions=["view"])
    def compare_selected(self, request, queryset):
        ids = sorted(queryset.values_list("id", flat=True))
        if len(ids) != 2:
            self.message_user(request, "Select exactly two templates to compare.", messages.WARNING)
            return None
        return redirect(f"{reverse('admin:reports_app_reporttemplate_compare')}?old={ids[0]}&new={ids[1]}")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the site writes itself: shown here, never added or changed (deleted only when `deletable`)."""

    deletable = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyAdmin):
    """Read-only: items are loaded with their template, and the students' ticks point at them by position."""

    list_display = ["template", "position", "week", "text", "modules"]
    list_filter = ["template"]
    list_select_related = ["template"]
    search_fields = ["text"]

    # (not deletable either: the template's text would still hold the item, and its README would no longer match)


# --- scope: on top of the model permissions, a user sees only the rows of the courses they instruct ------------------


class CourseScoped:
    """An admin of rows that belong to a course: each user sees (and so may change) only the rows of the courses they
    are an instructor of; a superuser, every row. The model permissions still decide what they may do with them.
    A TA has no course here: they grade on the site, not in the admin."""

    course_path = "course"  # from the row to its course

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(**{f"{self.course_path}__in": Course.objects.instructed_by(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Course and not request.user.is_superuser:
            kwargs["queryset"] = Course.objects.instructed_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm
    extra = 0
    autocomplete_fields = ["user"]


# --- background jobs: started by the actions below, watched on the site's job page ------------------------------------


def jobs_by_course(groups, *, at_deadline: bool) -> list[tuple[Course, dict]]:
    """One scrape per course of the selected groups, each limited to its selected groups."""
    chosen: dict[int, tuple[Course, list[int]]] = {}
    for group in groups.select_related("course").order_by("course", "number"):
        chosen.setdefault(group.course_id, (group.course, []))[1].append(group.pk)
    return [(course, {"groups": ids, "at_deadline": at_deadline}) for course, ids in chosen.values()]


def start_jobs(request, kind: str, runs: list[tuple[Course, dict]]):
    """Queue a job per course; go to its progress page, or list the pages when there are several."""
    started = []
    for course, options in runs:
        try:
            started.append(tasks.job_start(kind=kind, course=course, user=request.user, options=options))
        except tasks.JobBusy as busy:
            messages.error(request, str(busy))
    if not started:
        return None
    if len(started) == 1 and len(runs) == 1:
        return redirect("job", started[0].pk)
    links = format_html_join(", ", '<a href="{}">{}</a>', ((reverse("job", args=[j.pk]), j.course) for j in started))
    messages.success(request, format_html("{} jobs started: {}", len(started), links))
    return None


@admin.register(Job)
class JobAdmin(CourseScoped, ReadOnlyAdmin):
    """Read-only: jobs are started by the course and group actions; their page shows them running."""

    deletable = True

    list_display = ["__str__", "state", "progress", "created_by", "created_at", "finished_at", "page"]
    list_filter = ["kind", "status", "course"]
    list_select_related = ["course", "created_by"]

    @admin.display(description="status", ordering="status")
    def state(self, job: Job) -> str:
        return job.state_label()  # "stopped" for a running job whose worker has gone silent, "stuck on group 7 ..."

    @admin.display(description="done")
    def progress(self, job: Job) -> str:
        return f"{job.done} of {job.total}"

    @admin.display(description="page")
    def page(self, job: Job) -> str:
        return format_html('<a href="{}">follow</a>', reverse("job", args=[job.pk]))


SEND_INVITATIONS_AGAIN = "Send invitations again (members who never chose a password)"


def send_invitations(model_admin: admin.ModelAdmin, request, memberships: list[Membership]) -> None:
    """Queue the invitations (the worker sends them); say how many and, per address, why any was not."""
    site, base_url = get_current_site(request).name, request.build_absolute_uri("/")
    sent = invitations_send(memberships=memberships, base_url=base_url, site_name=site, user=request.user)
    model_admin.message_user(request, sent.summary(), messages.WARNING if sent.failed else messages.SUCCESS)
    for line in sent.failures():
        model_admin.message_user(request, line, messages.ERROR)
    if sent.queued:
        courses = Course.objects.filter(groups__memberships__in=memberships).distinct().order_by("code")
        pages = ((reverse("outbox", args=[course.pk]), course.code) for course in courses)
        links = format_html_join(", ", '<a href="{}">{}</a>', pages)
        model_admin.message_user(request, format_html("Whether they went out: the mails of {}.", links))


class CourseStaffInline(admin.TabularInline):
    """The course's instructors and TAs (a TA sees only the groups assigned to them)."""

    model = CourseStaff
    extra = 0
    autocomplete_fields = ["user"]


class GroupGraderInline(admin.TabularInline):
    """Who grades the group: TAs or instructors of its course (the course page's *Assign graders* does many at once)."""

    model = GroupGrader
    extra = 0
    autocomplete_fields = ["user"]
    verbose_name_plural = "graders"


class QuestionPointsInline(admin.TabularInline):
    """Max points per question number: a row for every question of the course's template (empty: ungraded)."""

    model = QuestionPoints
    extra = 0
    fields = ["number", "max_points", "released_at"]
    readonly_fields = ["released_at"]  # released from the grading page, which mails the students

    def get_formset(self, request, obj=None, **kwargs):
        have = set(obj.question_points.values_list("number", flat=True)) if obj else set()
        numbers = obj.template.questions.values_list("number", flat=True) if obj and obj.template_id else []
        missing = [{"number": number} for number in sorted(set(numbers) - have)]
        kwargs["extra"] = len(missing)
        formset = super().get_formset(request, obj, **kwargs)

        class OnePerQuestion(formset):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, initial=missing, **kwargs)

        return OnePerQuestion


ITEM_IN_USE = "'{item}' is applied in {count} grade(s): set its points to 0 instead of deleting it."


class RubricItemFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and (count := form.instance.grades.count()):
                raise ValidationError(ITEM_IN_USE.format(item=form.instance.text, count=count))


class RubricItemInline(admin.TabularInline):
    """The rubric: reusable items per question number, a short text and points (+ or -, 2 decimals), in order.
    Changing an item's points re-scores every grade that uses it (logged); an item in use cannot be deleted."""

    model = RubricItem
    formset = RubricItemFormSet
    extra = 0
    fields = ["number", "position", "text", "points"]


@admin.register(Course)
class CourseAdmin(CourseScoped, admin.ModelAdmin):
    course_path = "pk"
    form = CourseAdminForm
    list_display = ["code", "title", "template", "deadline"]
    list_select_related = ["template"]
    search_fields = ["code", "title"]
    actions = ["scrape_heads", "scrape_at_deadline", "export_for_grading", "send_invitations", "spread_graders"]
    inlines = [CourseStaffInline, QuestionPointsInline, RubricItemInline]
    readonly_fields = ["grades_released_at"]  # released from the grading page, which mails the students
    fieldsets = [
        (None, {"fields": ["code", "title", "template", "deadline", "join_code", "min_group_size", "max_group_size"]}),
        (
            "Grading",
            {
                "fields": [
                    "anonymous_grading",
                    "grades_may_exceed",
                    "grades_released_at",
                    "regrades_until",
                    "lms_item_name",
                ]
            },
        ),
    ]

    def save_formset(self, request, form, formset, change: bool) -> None:
        """Points and rubric items change through the grading services, which re-score and log the grades."""
        if formset.model is QuestionPoints:
            formset.save(commit=False)
            for row in formset.deleted_objects:
                question_points_set(course=form.instance, number=row.number, max_points=None, user=request.user)
            for row in formset.new_objects + [row for row, _ in formset.changed_objects]:
                question_points_set(
                    course=form.instance, number=row.number, max_points=row.max_points, user=request.user
                )
        elif formset.model is RubricItem:
            for item in formset.save(commit=False):
                if item.pk is None:
                    item.save()
                else:
                    rubric_item_set_points(item=item, points=item.points, user=request.user)
            for item in formset.deleted_objects:
                item.delete()
        else:
            super().save_formset(request, form, formset, change)

    def save_model(self, request, obj: Course, form, change: bool) -> None:
        """Whoever creates a course becomes its instructor (a superuser sees every course without a role); the head
        scrapes at the groups' deadlines are planned again (the deadline may have moved)."""
        super().save_model(request, obj, form, change)
        if not change and not request.user.is_superuser:
            CourseStaff.objects.get_or_create(course=obj, user=request.user, defaults={"role": StaffRole.INSTRUCTOR})
        deadline_scrapes_plan(course=obj)

    @admin.action(description="Spread every group evenly over the course's TAs", permissions=["change"])
    def spread_graders(self, request, queryset):
        for course in queryset:
            try:
                changes = graders_set(course=course, wanted=graders_spread_plan(course=course), only_tas=True)
            except ValueError as error:
                self.message_user(request, f"{course}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"Graders of {course}: {changes.summary()}", messages.SUCCESS)

    @admin.action(description="Scrape every group's repo (branch head)", permissions=["change"])
    def scrape_heads(self, request, queryset):
        return start_jobs(request, Job.Kind.SCRAPE, [(course, {"at_deadline": False}) for course in queryset])

    @admin.action(description="Scrape every group's repo at its deadline", permissions=["change"])
    def scrape_at_deadline(self, request, queryset):
        return start_jobs(request, Job.Kind.SCRAPE, [(course, {"at_deadline": True}) for course in queryset])

    @admin.action(description="Export every group's hand-in for grading", permissions=["view"])
    def export_for_grading(self, request, queryset):
        return start_jobs(request, Job.Kind.EXPORT, [(course, {}) for course in queryset])

    @admin.action(description=SEND_INVITATIONS_AGAIN, permissions=["change"])
    def send_invitations(self, request, queryset):
        send_invitations(self, request, members_without_password(Group.objects.filter(course__in=queryset)))

    # The roster: "Import roster" (upload, preview the changes, Apply) and "Export roster" on the change page.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/roster/import/", view(self.import_roster), name="reports_app_course_import_roster"),
            path("<path:object_id>/roster/export/", view(self.export_roster), name="reports_app_course_export_roster"),
            path("<path:object_id>/move-reports/", view(self.move_reports), name="reports_app_course_move_reports"),
            path("<path:object_id>/graders/", view(self.assign_graders), name="reports_app_course_assign_graders"),
            *super().get_urls(),
        ]

    def _roster_course(self, request, object_id: str) -> Course:
        course = self.get_object(request, unquote(object_id))
        if course is None:
            raise Http404("No such course")
        if not self.has_change_permission(request, course):
            raise PermissionDenied
        return course

    def import_roster(self, request, object_id: str):
        """Step 1: the file -> the changes it would make (a dry run), or its problems by line. Step 2: Apply."""
        course = self._roster_course(request, object_id)
        apply = RosterApplyForm(request.POST if "apply" in request.POST else None, course_id=course.pk)
        uploading = request.method == "POST" and not apply.is_bound
        upload = RosterUploadForm(request.POST, request.FILES) if uploading else RosterUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": course,
            "title": f"Import the roster of {course}",
            "upload": upload,
            "apply": apply,
        }
        try:
            if apply.is_valid():
                payload = apply.cleaned_data["roster"]
                changes = roster_import(
                    course=course,
                    roster=roster_read(course=course, data=payload["text"].encode()),
                    remove_missing=payload["remove_missing"],
                )
                self.message_user(request, f"Roster of {course} imported. {changes.summary()}", messages.SUCCESS)
                if payload.get("invite") and changes.users_created:
                    new = members_without_password(course.groups.all(), usernames=changes.users_created)
                    send_invitations(self, request, new)
                return redirect("admin:reports_app_course_change", course.pk)
            if upload.is_valid():
                data, remove = upload.cleaned_data["file"], upload.cleaned_data["remove_missing"]
                invite = upload.cleaned_data["invite"]
                read = roster_read(course=course, data=data)
                changes = roster_import(course=course, roster=read, dry_run=True, remove_missing=remove)
                context |= {"changes": changes, "invite": invite, "without_password": roster_without_password(read)}
                text = roster.decode(data)
                token = RosterApplyForm.sign(course_id=course.pk, text=text, remove_missing=remove, invite=invite)
                context["apply"] = RosterApplyForm(initial={"roster": token}, course_id=course.pk)
        except roster.RosterError as error:
            context["problems"] = error.problems
        return TemplateResponse(request, "admin/reports_app/course/import_roster.html", context)

    def assign_graders(self, request, object_id: str):
        """Who grades which group: a `group,ta_email` file or *Spread evenly* -> a preview of the changes (or the
        file's problems by line) -> Apply."""
        course = self._roster_course(request, object_id)
        apply = GradersApplyForm(request.POST if "apply" in request.POST else None, course_id=course.pk)
        uploading = request.method == "POST" and "upload" in request.POST
        upload = GradersUploadForm(request.POST, request.FILES) if uploading else GradersUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": course,
            "title": f"Assign the graders of {course}",
            "upload": upload,
            "apply": apply,
            "staff": CourseStaff.objects.filter(course=course).select_related("user"),
        }
        try:
            if apply.is_valid():
                payload = apply.cleaned_data["graders"]
                changes = graders_set(course=course, **self._graders_plan(course, payload))
                self.log_change(request, course, f"Graders assigned: {changes.summary()}")
                self.message_user(request, f"Graders of {course}: {changes.summary()}", messages.SUCCESS)
                return redirect("admin:reports_app_course_change", course.pk)
            payload = None
            if upload.is_valid():
                payload = {"text": roster.decode(upload.cleaned_data["file"])}
            elif request.method == "POST" and "spread" in request.POST:
                payload = {"spread": True}
            if payload is not None:
                context["changes"] = graders_set(course=course, dry_run=True, **self._graders_plan(course, payload))
                context["apply"] = GradersApplyForm(
                    initial={"graders": GradersApplyForm.sign(course_id=course.pk, **payload)}, course_id=course.pk
                )
        except roster.RosterError as error:
            context["problems"] = error.problems
        except ValueError as error:  # no TAs to spread over
            context["problems"] = [(None, str(error))]
        return TemplateResponse(request, "admin/reports_app/course/assign_graders.html", context)

    @staticmethod
    def _graders_plan(course: Course, payload: dict) -> dict:
        """graders_set's `wanted` and `only_tas` for a file's text or a spread."""
        if payload.get("spread"):
            return {"wanted": graders_spread_plan(course=course), "only_tas": True}
        return {"wanted": graders_read(course=course, data=payload["text"].encode()), "only_tas": False}

    def export_roster(self, request, object_id: str) -> HttpResponse:
        """The roster as a student list; with a byte order mark, so that Excel reads names as UTF-8."""
        course = self._roster_course(request, object_id)
        response = HttpResponse(
            roster.roster_csv(roster_rows(course), bom=True), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{slugify(course.code) or "course"}-roster.csv"'
        return response

    # Moving reports to the course's template after it was switched: a preview of where answers go, then Move.

    def change_view(self, request, object_id, form_url="", extra_context=None):
        course = self.get_object(request, unquote(object_id))
        elsewhere = reports_elsewhere(course) if course is not None else 0
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "elsewhere": elsewhere})

    def response_change(self, request, obj: Course):
        """Saved: say so when reports follow another version than the course's template, with the way to move them."""
        if n := reports_elsewhere(obj):
            reports, follow = (f"{n} report", "follows") if n == 1 else (f"{n} reports", "follow")
            url = reverse("admin:reports_app_course_move_reports", args=[obj.pk])
            warning = format_html(REPORTS_ELSEWHERE, reports=reports, follow=follow, template=obj.template, url=url)
            self.message_user(request, warning, messages.WARNING)
        return super().response_change(request, obj)

    def move_reports(self, request, object_id: str):
        """GET: where each report's answers would go on the course's template. POST (Move): move them all."""
        course = self._roster_course(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": course,
            "title": f"Move the reports of {course} to {course.template or 'its template'}",
        }
        if course.template is None:
            context["no_template"] = True
            return TemplateResponse(request, "admin/reports_app/course/move_reports.html", context)
        form = MoveReportsForm(request.POST or None, course_template_id=course.template_id)
        if form.is_valid():
            outcome = course_reports_move(course=course, user=request.user)
            if moved := len(outcome.moved):
                done = f"Moved {moved} report{pluralize(moved)} to {course.template}."
                self.log_change(request, course, done)  # in the course's history
                self.message_user(request, done, messages.SUCCESS)
            elif not outcome.failed:
                self.message_user(request, NOTHING_TO_MOVE.format(template=course.template), messages.INFO)
            for number, why in outcome.failed:
                self.message_user(request, f"The report of group {number} was not moved: {why}", messages.ERROR)
            return redirect("admin:reports_app_course_change", course.pk)
        context |= {
            "preview": course_move_preview(course=course),
            "form": MoveReportsForm(initial={"target": course.template_id}, course_template_id=course.template_id),
            "errors": form.errors.get("target", []),
        }
        return TemplateResponse(request, "admin/reports_app/course/move_reports.html", context)


NOTHING_TO_MOVE = "Nothing to move: every report of the course follows {template} already."
REPORTS_ELSEWHERE = (
    '{reports} of this course {follow} another version than its template, {template}. <a href="{url}">Move them to '
    "{template}</a>: the next page shows where each answer goes before anything moves."
)


def reports_elsewhere(course: Course) -> int:
    """How many reports of the course follow another template version than the course's."""
    if course.template_id is None:
        return 0
    return Report.objects.filter(group__course=course).exclude(template_id=course.template_id).count()


@admin.register(Group)
class GroupAdmin(CourseScoped, admin.ModelAdmin):
    form = GroupAdminForm
    list_display = ["course", "number", "name", "repo_url", "extension", "last_scrape_status"]
    list_filter = ["course", "last_scrape__status"]
    list_select_related = ["course", "last_scrape"]
    search_fields = ["name", "repo_url", "memberships__user__username"]
    inlines = [MembershipInline, GroupGraderInline]
    actions = ["scrape_heads", "scrape_at_deadline", "send_invitations"]

    @admin.action(description="Scrape the selected groups' repos (branch head)", permissions=["change"])
    def scrape_heads(self, request, queryset):
        return start_jobs(request, Job.Kind.SCRAPE, jobs_by_course(queryset, at_deadline=False))

    @admin.action(description="Scrape the selected groups' repos at their deadline", permissions=["change"])
    def scrape_at_deadline(self, request, queryset):
        return start_jobs(request, Job.Kind.SCRAPE, jobs_by_course(queryset, at_deadline=True))

    @admin.action(description=SEND_INVITATIONS_AGAIN, permissions=["change"])
    def send_invitations(self, request, queryset):
        send_invitations(self, request, members_without_password(queryset))

    def save_model(self, request, obj: Group, form, change: bool) -> None:
        """The head scrapes at the course's deadlines are planned again: the extension or the repo URL may have
        changed."""
        super().save_model(request, obj, form, change)
        deadline_scrapes_plan(course=obj.course)

    @admin.display(description="last scrape", ordering="last_scrape__status")
    def last_scrape_status(self, group: Group) -> str:
        return group.last_scrape.get_status_display() if group.last_scrape else "-"


@admin.register(Scrape)
class ScrapeAdmin(CourseScoped, ReadOnlyAdmin):
    course_path = "group__course"
    """Read-only: each row records what one fetch of a group's repo read, and what came of it."""

    list_display = ["group", "status", "commit_sha", "commit_at", "at_deadline", "unchanged", "fetched_at"]
    list_filter = ["status", "at_deadline", "group__course"]
    list_select_related = ["group__course"]
    search_fields = ["repo_url", "commit_sha", "message"]


class AnswerInline(admin.TabularInline):
    """Read-only: answers change through the student pages or an import, which keep every version."""

    model = Answer
    fields = ["question", "text", "version", "updated_by", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class FigureInline(admin.TabularInline):
    model = Figure
    fields = ["name", "version", "content_type", "width", "height", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False  # students delete figures on their page, which keeps the file in the figure's history

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(CourseScoped, ReadOnlyAdmin):
    """Read-only: a report is started by its group's first visit or import, moves to another template version from
    its course's page (which moves its answers too), and goes with its group; deleting it alone would take every
    version of every answer with it."""

    course_path = "group__course"
    list_display = ["group", "template", "source_label", "imported_at", "updated_at"]
    list_filter = ["group__course", "template"]
    list_select_related = ["group__course", "template"]
    readonly_fields = ["group", "template", "source", "source_label", "layout", "problems", "unplaced", "imported_at"]
    inlines = [AnswerInline, FigureInline]


@admin.register(AnswerRevision)
class AnswerRevisionAdmin(CourseScoped, ReadOnlyAdmin):
    """Read-only: every version of every answer, never deleted (the answer's history page restores any of them)."""

    course_path = "answer__report__group__course"
    list_display = ["answer", "version", "kind", "author", "source", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["answer__report__group__course", "answer__question", "author"]
    readonly_fields = ["answer", "version", "kind", "text", "author", "source", "created_at"]


# Internal tables stay out of the admin: checklist marks (the report page ticks them, within the deadline), drafts,
# figure versions (the figures page shows and restores them), and the task queue's results (a Job is what people
# follow, on its page).
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

# The admin's login counts failed logins in the same counters as the site's login page.
admin.site.login_form = AdminLoginForm


@admin.register(GradeLog)
class GradeLogAdmin(CourseScoped, ReadOnlyAdmin):
    """Every change of a grade, kept: who, when, the score and the fields before and after."""

    course_path = "grade__group__course"
    list_display = ["at", "grade", "kind", "user", "score_before", "score_after", "note"]
    list_filter = ["kind", "grade__group__course"]
    list_select_related = ["grade__group__course", "user"]
    search_fields = ["grade__group__name", "user__username", "note"]


@admin.register(LoginCounter)
class LoginCounterAdmin(ReadOnlyAdmin):
    """Failed logins per user name and address, sign-ups and mails per address; deleting a row lifts its lockout."""

    deletable = True

    list_display = ["scope", "key", "failures", "window_start", "locked_until"]
    list_filter = ["scope"]
    search_fields = ["key"]
    readonly_fields = ["scope", "key", "failures", "window_start", "locked_until"]


@admin.register(Invitation)
class InvitationAdmin(CourseScoped, ReadOnlyAdmin):
    """Invitations sent by sign-ups, read-only: who was invited to which group, and whether they accepted. Deleting
    one withdraws it (its link stops working)."""

    deletable = True

    course_path = "group__course"
    list_display = ["email", "group", "invited_by", "created_at", "accepted_at"]
    list_filter = ["group__course", ("accepted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["group__course", "invited_by"]
    search_fields = ["email", "name"]
    readonly_fields = ["group", "email", "name", "study_number", "invited_by", "created_at", "accepted_at"]
