from django.contrib import admin

from .models import (
    Answer,
    AnswerRevision,
    ChecklistItem,
    ChecklistMark,
    Course,
    Figure,
    Group,
    Membership,
    Question,
    Report,
    ReportTemplate,
)


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ["number", "section", "min_words", "max_words", "min_images", "max_images"]
    readonly_fields = ["number", "section"]
    extra = 0
    can_delete = False


@admin.register(ReportTemplate)
class ReportTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "checker", "loaded_at"]
    readonly_fields = ["content_hash", "loaded_at"]
    inlines = [QuestionInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["template", "position", "week", "text", "modules"]
    list_filter = ["template"]
    list_select_related = ["template"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "template", "deadline"]
    list_select_related = ["template"]
    search_fields = ["code", "title"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["course", "number", "name", "repo_url", "extension"]
    list_filter = ["course"]
    list_select_related = ["course"]
    search_fields = ["name", "repo_url", "memberships__user__username"]
    inlines = [MembershipInline]


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
    fields = ["name", "content_type", "width", "height", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False  # students delete figures on their page, which removes the file too

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["group", "template", "source_label", "imported_at", "updated_at"]
    list_filter = ["group__course", "template"]
    list_select_related = ["group__course", "template"]
    readonly_fields = ["source", "source_label", "layout", "problems", "unplaced", "imported_at"]
    inlines = [AnswerInline, FigureInline]


@admin.register(AnswerRevision)
class AnswerRevisionAdmin(admin.ModelAdmin):
    list_display = ["answer", "version", "kind", "author", "source", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["answer__report__group__course", "answer__question", "author"]
    readonly_fields = ["answer", "version", "kind", "text", "author", "source", "created_at"]


admin.site.register(ChecklistMark)
