"""The template admin: load a template from its file with a preview, edit its rules, compare two versions."""

import html
import re
from html.parser import HTMLParser

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports_app.engine import parsing
from reports_app.forms.admin import RULE_TOO_LARGE, TEMPLATE_TOKEN_REFUSED
from reports_app.models import Question, Report, ReportTemplate
from reports_app.services.templates import MAX_POSITION, template_check_sizes, template_load
from tests.conftest import DEMO_TEMPLATE

LOAD = "admin:reports_app_reporttemplate_load"
COMPARE = "admin:reports_app_reporttemplate_compare"
CHANGELIST = "admin:reports_app_reporttemplate_changelist"

DEMO = DEMO_TEMPLATE.read_text(encoding="utf-8")
# Our modified copy of the demo: Question 4 asks for 150-250 words, a Question 11 is added, the lint item is gone.
EXTRA_QUESTION = (
    "\n### Question 11\n\n> **Which part of the pipeline would you <b>rewrite</b> first?**\n>\n"
    "> Recommended answer length: 50-100 words.\n>\n> Answer:\n\n--- question 11 fill here ---\n"
)
MODIFIED = (
    DEMO.replace(
        "> Recommended answer length: 100-200 words.\n>\n> Example:\n> *Every record",
        "> Recommended answer length: 150-250 words.\n>\n> Example:\n> *Every record",
    ).replace("* [ ] Lint the code as part of every continuous integration run (M17)\n", "")
    + EXTRA_QUESTION
)
MODIFIED_DIFF = [
    "Question 4: question text 'Recommended answer length: 100-200 words.' -> "
    "'Recommended answer length: 150-250 words.'; words 100-200 -> 150-250",
    "Question 11 added: Which part of the pipeline would you <b>rewrite</b> first?",
    "Checklist item removed (Week 2): Lint the code as part of every continuous integration run (M17)",
]


@pytest.fixture
def instructor(django_user_model):
    """Staff without a course (a template belongs to none), so that no template exists before a test loads one."""
    return django_user_model.objects.create_user("instructor", password="pw-instructor", is_staff=True)


@pytest.fixture
def editor(instructor, staff):
    """The instructor with the permissions to load, edit and look at templates (but not superuser)."""
    instructor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reports_app",
            codename__in=[
                "add_reporttemplate",
                "change_reporttemplate",
                "view_reporttemplate",
                "change_question",
                "view_question",
                "view_section",
                "view_checklistitem",
            ],
        )
    )
    return staff


def upload(text: str | bytes, name: str = "demo-v2.md") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8") if isinstance(text, str) else text, "text/markdown")


def preview(client, text: str | bytes, name: str = "demo-v2.md", **fields):
    return client.post(reverse(LOAD), {"file": upload(text, name), "name": "", "checker": "", **fields})


def token_of(response) -> str:
    return response.context["next_form"].initial["source"]


def flat(response) -> str:
    """The page with entities decoded, whitespace collapsed and none left between tags."""
    return re.sub(r">\s+<", "><", " ".join(html.unescape(response.content.decode()).split()))


def change_url(template) -> str:
    return reverse("admin:reports_app_reporttemplate_change", args=[template.pk])


# --- who may --------------------------------------------------------------------------------------------------


def test_anonymous_and_students_are_sent_to_the_admin_login(client, alice, demo_template):
    for url in (reverse(LOAD), reverse(COMPARE), reverse(CHANGELIST), change_url(demo_template)):
        for visitor in (client, alice):
            response = visitor.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login") + "?next=")
    assert client.post(reverse(LOAD), {"file": upload(DEMO)}).status_code == 302
    assert ReportTemplate.objects.count() == 1


def test_staff_without_the_permissions_is_refused(staff, demo_template):
    assert staff.get(reverse(LOAD)).status_code == 403
    assert staff.post(reverse(LOAD), {"file": upload(MODIFIED)}).status_code == 403
    assert staff.get(reverse(COMPARE)).status_code == 403
    assert ReportTemplate.objects.count() == 1


def test_the_add_button_leads_to_loading_a_file(editor):
    response = editor.get(reverse("admin:reports_app_reporttemplate_add"))
    assert response["Location"] == reverse(LOAD)
    page = editor.get(reverse(CHANGELIST)).content.decode()
    assert f'<a href="{reverse(LOAD)}" class="addlink">Load a template</a>' in page
    assert f'<a href="{reverse(COMPARE)}">Compare two templates</a>' in page


# --- step 1: the preview ----------------------------------------------------------------------------------------


def test_the_preview_shows_the_parsed_template_and_saves_nothing(editor):
    response = preview(editor, DEMO)
    assert response.status_code == 200
    page = flat(response)
    assert "demo-v2.md: 10 questions in 4 sections, 12 checklist items. Not saved yet." in page
    assert "Checker: 2024- course checker (typer) (detected from the file)." in page
    assert "<tr><td>Data handling</td><td>3-5</td></tr>" in page
    assert (
        "<tr><td>6</td><td>Running the pipeline</td><td>100-200</td><td>1-2</td><td>--- question 6 fill here ---</td>"
        "<td>How is the pipeline started, and how do you see whether a run succeeded? Show where you look.<br>"
        "Recommended answer length: 100-200 words + 1 to 2 screenshots.<br>"
        "Example: A run starts when ... . We follow it in ... , where a failed stage shows up as ...</td></tr>"
    ) in page
    assert "<tr><td>1</td><td>Group information</td><td>not checked</td><td>not checked</td>" in page
    assert "<h3>Week 1: 5 items</h3>" in page
    assert "<h3>Week 2: 4 items</h3>" in page
    assert "<h3>Extra: 3 items</h3>" in page
    assert 'name="name" value="demo-v2"' in page  # the file name without .md
    assert "Changes from" not in page  # nothing loaded yet to compare with
    assert ReportTemplate.objects.count() == 0


def test_the_preview_diffs_against_the_latest_loaded_template(editor, demo_template):
    form = editor.get(reverse(LOAD)).content.decode()
    assert f'<option value="{demo_template.pk}" selected>demo</option>' in form

    response = preview(editor, MODIFIED, compare_to=demo_template.pk)
    assert response.context["diff_lines"] == MODIFIED_DIFF
    page = response.content.decode()
    assert "<h2>Changes from demo to demo-v2</h2>" in page
    assert "<li>Question 11 added: Which part of the pipeline would you &lt;b&gt;rewrite&lt;/b&gt; first?</li>" in page
    # The line diff: changed lines with their numbers, escaped; unchanged runs collapsed.
    assert (
        '<tr class="diff-del"><td class="lineno">34</td><td class="lineno"></td><td>- * [ ] Lint the code as part of '
        "every continuous integration run (M17)</td></tr>"
    ) in page
    assert "+ &gt; **Which part of the pipeline would you &lt;b&gt;rewrite&lt;/b&gt; first?**" in page
    assert '<tr class="diff-skip"><td colspan="3">30 unchanged lines</td></tr>' in page
    assert ReportTemplate.objects.count() == 1


def test_the_preview_can_compare_with_another_template_or_none(editor, demo_template):
    other, _ = template_load(name="demo-v2", source=MODIFIED)
    response = preview(editor, MODIFIED, compare_to=other.pk)
    assert response.context["diff_lines"] == []
    assert "This exact text is loaded already, as" in flat(response)
    page = flat(preview(editor, MODIFIED, compare_to=demo_template.pk))
    assert "<li>Question 11 added:" in page
    assert "Changes from" not in flat(preview(editor, MODIFIED, compare_to=""))


def test_a_template_error_shows_its_line_and_saves_nothing(editor):
    broken = DEMO.replace("### Question 2\n", "### Question 3\n", 1)
    response = preview(editor, broken, name="broken.md")
    assert response.status_code == 200
    assert (
        "broken.md is not a usable report template: line 53: Question 3 where Question 2 should be: "
        "questions must be numbered 1, 2, 3, ... in order"
    ) in flat(response)
    assert "Not saved yet" not in flat(response)
    assert ReportTemplate.objects.count() == 0


def test_a_file_that_is_not_text_is_refused_with_the_reason(editor, settings):
    response = preview(editor, b"# Title\n\xff\xfe", name="latin1.md")
    assert "Not loaded: the file is not UTF-8 text (byte 0xff on line 2); save it as UTF-8." in flat(response)
    settings.REPORT_MAX_BYTES = 2048
    response = preview(editor, DEMO)
    assert "The file is 4 kB; a template may be at most 2 kB." in flat(response)
    response = editor.post(reverse(LOAD), {"name": "", "checker": ""})
    assert "Choose the template&#x27;s markdown file." in response.content.decode()
    assert ReportTemplate.objects.count() == 0


# --- step 2: save ---------------------------------------------------------------------------------------------


def test_save_loads_exactly_the_previewed_text(editor, demo_template):
    token = token_of(preview(editor, MODIFIED))
    response = editor.post(reverse(LOAD), {"source": token, "name": "demo-v2", "checker": "", "save": "Save"})
    template = ReportTemplate.objects.get(name="demo-v2")
    assert response["Location"] == change_url(template)
    assert template.source == MODIFIED
    assert template.checker == "typer"
    assert Question.objects.get(template=template, number=4).rule().words == (150, 250)
    assert template.questions.count() == 11
    assert template.checklist.count() == 11
    assert "Loaded the template demo-v2." in flat(editor.get(response["Location"]))
    assert LogEntry.objects.get().get_change_message() == "Added."


def test_save_takes_the_chosen_name_and_checker(editor):
    token = token_of(preview(editor, DEMO))
    editor.post(reverse(LOAD), {"source": token, "name": "2026 spring", "checker": "click", "save": "Save"})
    assert ReportTemplate.objects.values_list("name", "checker").get() == ("2026 spring", "click")


def test_a_tampered_text_is_refused(editor):
    token = token_of(preview(editor, DEMO))
    forged = token.replace(token.split(":")[0], token.split(":")[0][:-2] + "AA")
    for bad in (forged, "not-a-token"):
        response = editor.post(reverse(LOAD), {"source": bad, "name": "x", "checker": "", "save": "Save"})
        assert response.status_code == 200
        assert html.escape(TEMPLATE_TOKEN_REFUSED) in response.content.decode()
    assert ReportTemplate.objects.count() == 0


def test_a_name_taken_by_other_text_is_refused_and_the_preview_stays(editor, demo_template):
    token = token_of(preview(editor, MODIFIED))
    response = editor.post(reverse(LOAD), {"source": token, "name": "demo", "checker": "", "save": "Save"})
    assert response.status_code == 200
    assert (
        "Not saved: a template named 'demo' is loaded already with other text; load this version under a new name."
    ) in flat(response)
    assert "Not saved yet" in flat(response)
    assert ReportTemplate.objects.count() == 1
    assert ReportTemplate.objects.get().source == DEMO


def test_the_same_text_under_the_same_name_changes_nothing(editor, demo_template):
    token = token_of(preview(editor, DEMO))
    response = editor.post(reverse(LOAD), {"source": token, "name": "demo", "checker": "", "save": "Save"}, follow=True)
    assert response.redirect_chain == [(change_url(demo_template), 302)]
    assert "The template demo is loaded already with exactly this text; nothing changed." in flat(response)
    assert ReportTemplate.objects.count() == 1


# --- the change page: rules editable, the rest as loaded ------------------------------------------------------


class FormFields(HTMLParser):
    """What a browser submits from the form with the given id: inputs, selects, textareas (no buttons, no files)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if tag == "input" and a.get("type") not in ("submit", "file", "button"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.data[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a["name"]
            self.data.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.data[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data


def change_form(client, template) -> dict:
    parser = FormFields("reporttemplate_form")
    parser.feed(client.get(change_url(template)).content.decode())
    return parser.data


def question_field(number: int, field: str) -> str:
    """The form field name of a question's rule field, e.g. questions-3-min_words for Question 4."""
    return f"questions-{number - 1}-{field}"


def test_the_change_page_says_who_follows_the_template_and_shows_sections_and_checklist(editor, group1, demo_template):
    Report.objects.create(group=group1, template=demo_template)
    page = flat(editor.get(change_url(demo_template)))
    assert (
        "changing a rule changes the verdict of each of them: 1 report now, and 1 course uses it for new reports."
    ) in page
    assert (
        '<div class="readonly">Group information (1-2); Data handling (3-5); Running the pipeline (6-8); '
        "Project reflection (9-10)</div>"
    ) in page
    items = reverse("admin:reports_app_checklistitem_changelist") + f"?template__id__exact={demo_template.pk}"
    assert f'<div class="readonly">Week 1: 5; Week 2: 4; Extra: 3 (<a href="{items}">the 12 items</a>)</div>' in page
    assert (  # the whole question, never cut after its first line
        '<td class="field-asks"><p>Describe how raw data is cleaned before anything else uses it. Which checks reject '
        "a bad record, and what happens to the records that are rejected?<br>"
        "Recommended answer length: 100-200 words.<br>"
        "Example: Every record first passes through ... , which drops rows where ... . Rejected rows are written "
        "to ... so that we can ...</p></td>"
    ) in page
    assert 'name="questions-0-number"' not in page  # what a question is stays as loaded
    assert 'name="questions-3-min_words" value="100"' in page


def test_the_changelist_shows_how_many_reports_and_courses_use_each_template(
    editor, group1, group2, demo_template, django_assert_num_queries
):
    Report.objects.create(group=group1, template=demo_template)
    Report.objects.create(group=group2, template=demo_template)
    template_load(name="demo-v2", source=MODIFIED)
    # session, user, permissions (user, groups), count, count all, templates with their usage
    with django_assert_num_queries(7):
        page = flat(editor.get(reverse(CHANGELIST)))
    assert '<td class="field-used_by">2 reports, 1 course</td>' in page
    assert '<td class="field-used_by">0 reports, 0 courses</td>' in page
    for n in range(3, 8):
        template_load(name=f"demo-v{n}", source=MODIFIED + "\n" * n)
    with django_assert_num_queries(7):
        editor.get(reverse(CHANGELIST))


def test_edited_rules_are_saved(editor, demo_template):
    data = change_form(editor, demo_template)
    data |= {
        question_field(4, "min_words"): "120",
        question_field(4, "max_words"): "220",
        question_field(3, "min_words"): "",
        question_field(3, "max_words"): "",
        question_field(10, "min_images"): "1",
        question_field(10, "max_images"): "1",
    }
    response = editor.post(change_url(demo_template), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    rules = {rule.number: rule for rule in demo_template.rules()}
    assert rules[4].words == (120, 220)
    assert rules[3].words is None
    assert rules[10].images == (1, 1)
    assert rules[5].words == (200, 300)


@pytest.mark.parametrize(
    ("number", "values", "field", "message"),
    [
        (4, {"min_words": "300"}, "min_words", "The minimum number of words (300) is more than the maximum (200)."),
        (
            1,
            {"min_words": "10", "max_words": ""},
            "max_words",
            "Give both a minimum and a maximum number of words, or neither (then words are not checked).",
        ),
        (
            6,
            {"min_images": ""},
            "min_images",
            "Give both a minimum and a maximum number of images, or neither (then images are not checked).",
        ),
        (6, {"min_images": "3"}, "min_images", "The minimum number of images (3) is more than the maximum (2)."),
    ],
)
def test_an_impossible_rule_is_a_form_error_and_nothing_changes(editor, demo_template, number, values, field, message):
    before = demo_template.rules()
    data = change_form(editor, demo_template)
    data |= {question_field(number, name): value for name, value in values.items()}
    data[question_field(5, "max_words")] = "350"  # a valid edit in the same save is not saved either
    response = editor.post(change_url(demo_template), data)
    assert response.status_code == 200
    questions = response.context["inline_admin_formsets"][0].formset
    assert questions.errors[number - 1].get_json_data() == {field: [{"message": message, "code": ""}]}
    assert html.escape(message) in response.content.decode()
    assert demo_template.rules() == before


def make_template(questions: int, items: int) -> ReportTemplate:
    """A template of our own with `questions` questions in two sections and `items` checklist items."""
    checklist = "".join(f"* [ ] Item number {i}\n" for i in range(items))
    body = "".join(
        (f"## Part {n // 20}\n\n" if n % 20 == 1 else "")
        + f"### Question {n}\n\n> **Question {n}?**\n>\n> Recommended answer length: 10-{n + 10} words.\n>\n"
        f"> Answer:\n\n--- question {n} fill here ---\n\n"
        for n in range(1, questions + 1)
    )
    template, _ = template_load(
        name=f"made {questions}", source=f"# Made\n\n## Checklist\n\n### Week 1\n\n{checklist}\n{body}"
    )
    return template


def test_the_change_page_queries_do_not_grow_with_questions(editor, django_assert_num_queries):
    small, large = make_template(3, 2), make_template(40, 30)
    # session, user, the template with its usage counts, permissions (user's, groups'), questions with their sections
    with django_assert_num_queries(6):
        editor.get(change_url(small))
    with django_assert_num_queries(6):
        response = editor.get(change_url(large))
    assert 'name="questions-39-max_words" value="50"' in response.content.decode()


def test_checklist_items_are_listed_read_only_in_constant_queries(editor, demo_template, django_assert_num_queries):
    url = reverse("admin:reports_app_checklistitem_changelist")
    large = make_template(3, 80)
    # session, user, permissions (user's, groups'), templates for the filter, count, count all, items with template
    with django_assert_num_queries(8):
        page = flat(editor.get(url, {"template__id__exact": demo_template.pk}))
    assert '<td class="field-text">Schedule the whole pipeline to run once a day (M19)</td>' in page
    assert "12 checklist items" in page
    assert "Add checklist item" not in page
    with django_assert_num_queries(8):
        page = flat(editor.get(url, {"template__id__exact": large.pk}))
    assert "80 checklist items" in page


# --- compare ---------------------------------------------------------------------------------------------------


def test_compare_lists_the_differences_of_the_stored_rules(editor, demo_template):
    new, _ = template_load(name="demo-v2", source=MODIFIED)
    Question.objects.filter(template=new, number=6).update(min_images=2, max_images=3)  # edited after loading
    response = editor.get(reverse(COMPARE), {"old": demo_template.pk, "new": new.pk})
    assert response.context["diff_lines"] == [
        *MODIFIED_DIFF[:1],
        "Question 6: images 1-2 -> 2-3",
        *MODIFIED_DIFF[1:],
    ]
    page = flat(response)
    assert "<h2>Changes from demo to demo-v2</h2>" in page
    assert "<li>Question 6: images 1-2 -> 2-3</li>" in page
    assert "+ > Recommended answer length: 150-250 words." in page


def test_compare_of_a_template_with_itself_says_so(editor, demo_template):
    page = flat(editor.get(reverse(COMPARE), {"old": demo_template.pk, "new": demo_template.pk}))
    assert "No differences in the questions, their rules, the sections, the checklist or the checker." in page
    assert "The two sources are identical." in page


def test_compare_without_a_choice_shows_the_form_preselected(editor, demo_template):
    page = editor.get(reverse(COMPARE), {"new": demo_template.pk}).content.decode()
    assert f'<option value="{demo_template.pk}" selected>demo</option>' in page
    assert "Changes from" not in page
    assert "This field is required" not in page


def test_the_compare_action_needs_exactly_two_templates(editor, demo_template):
    new, _ = template_load(name="demo-v2", source=MODIFIED)
    action = {"action": "compare_selected", "_selected_action": [new.pk, demo_template.pk]}
    response = editor.post(reverse(CHANGELIST), action)
    assert response["Location"] == f"{reverse(COMPARE)}?old={demo_template.pk}&new={new.pk}"
    response = editor.post(reverse(CHANGELIST), action | {"_selected_action": [new.pk]}, follow=True)
    assert "Select exactly two templates to compare." in flat(response)


def test_the_change_page_links_to_compare(editor, demo_template):
    page = editor.get(change_url(demo_template)).content.decode()
    assert f'<a href="{reverse(COMPARE)}?new={demo_template.pk}">Compare with another template</a>' in page


# --- numbers and lengths the database cannot hold: refused in the preview, naming the line -----------------------

LONG_TITLE = "Data handling" + " and more data handling" * 9  # 220 characters: a section title may have 200
LONG_WEEK = "Week 2:" + " tests" * 20  # 127 characters: a checklist heading may have 100
LONG_TAGS = "(" + "+".join(f"M{n}" for n in range(1, 41)) + ")"  # 150 characters of tags: 100 fit
TOO_LARGE = [
    (
        DEMO.replace(
            "length: 100-200 words.\n>\n> Example:", "length: 1-99999999999999999999999 words.\n>\n> Example:"
        ),
        "line 81: Question 4 asks for more than 100000 words; a rule may ask for at most 100000",
    ),
    (
        DEMO.replace("100-200 words + 1 to 2 screenshots", "100-200 words + 1 to 100001 screenshots"),
        "line 109: Question 6 asks for more than 100000 images; a rule may ask for at most 100000",
    ),
    (
        DEMO.replace("length: 200-300 words.", "length: 300-200 words."),
        "line 96: Question 5 asks for 300-200 words: the minimum is more than the maximum",
    ),
    (
        DEMO.replace("## Data handling\n", f"## {LONG_TITLE}\n"),
        "line 64: the section title has 220 characters; a section title may have at most 200",
    ),
    (
        DEMO.replace("### Week 2\n", f"### {LONG_WEEK}\n"),
        "line 30: the checklist heading has 127 characters; a checklist heading may have at most 100",
    ),
    (
        DEMO.replace("with continuous integration (M17)", f"with continuous integration {LONG_TAGS}"),
        "line 33: the module tags of this checklist item have 150 characters; they may have at most 100",
    ),
]


@pytest.mark.parametrize(("text", "message"), TOO_LARGE)
def test_a_template_the_database_cannot_hold_is_refused_in_the_preview_naming_the_line(editor, text, message):
    response = preview(editor, text, name="big.md")
    assert response.status_code == 200
    assert f"big.md is not a usable report template: {message}" in flat(response)
    assert "Not saved yet" not in flat(response)
    with pytest.raises(parsing.TemplateError, match=re.escape(message)):
        template_load(name="big", source=text)
    assert ReportTemplate.objects.count() == 0


def test_a_template_within_the_limits_loads(editor):
    """The largest rule, a 200-character title, a 100-character heading and 100 characters of tags all fit."""
    tags = "+".join(["M1"] * 32) + "+M123"
    text = (
        DEMO.replace("length: 200-400 words.", "length: 200-100000 words.")
        .replace("## Data handling\n", f"## {'d' * 200}\n")
        .replace("### Week 2\n", f"### {'w' * 100}\n")
        .replace("(M17)\n", f"({tags})\n", 1)
    )
    assert "big.md is not" not in flat(preview(editor, text, name="big.md"))
    template, created = template_load(name="at the limits", source=text)
    assert created and template.sections.filter(title="d" * 200).exists()
    assert Question.objects.get(template=template, number=9).rule().words == (200, 100000)
    assert template.checklist.filter(week="w" * 100).count() == 4
    assert template.checklist.filter(modules=tags).count() == 1 and len(tags) == 100


@pytest.mark.parametrize("value", [str(10**25), "100001"])
def test_a_rule_edited_above_the_largest_is_a_form_error_and_nothing_changes(editor, demo_template, value):
    before = demo_template.rules()
    data = change_form(editor, demo_template) | {question_field(4, "max_words"): value}
    response = editor.post(change_url(demo_template), data)
    assert response.status_code == 200
    questions = response.context["inline_admin_formsets"][0].formset
    assert questions.errors[3].get_json_data() == {"max_words": [{"message": RULE_TOO_LARGE, "code": "max_value"}]}
    assert value in response.content.decode()  # what was typed stays in the form
    assert demo_template.rules() == before
    data[question_field(4, "max_words")] = "100000"
    assert editor.post(change_url(demo_template), data).status_code == 302
    assert Question.objects.get(template=demo_template, number=4).rule().words == (100, 100000)


def test_more_checklist_items_than_the_database_numbers_are_refused_naming_the_first_too_many():
    items = "".join(f"* [ ] Item {i}\n" for i in range(MAX_POSITION + 1))
    text = f"# Many\n\n### Week 1\n\n{items}\n### Question 1\n\n> Answer:\n\nx\n"
    with pytest.raises(parsing.TemplateError) as refused:
        template_check_sizes(parsing.parse_template(text), text)
    assert str(refused.value) == f"line {5 + MAX_POSITION}: a template may have at most 32767 checklist items"
