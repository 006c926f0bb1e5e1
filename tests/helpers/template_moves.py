"""Two versions of the demo template and a course whose reports follow the older one while the course has been
switched to the newer: what tests/services/test_template_moves.py and tests/views/test_admin_move_reports.py move."""

from django.contrib.auth import get_user_model

from reports_app.models import Course, Group, Report, ReportTemplate
from reports_app.services.answers import answer_save, checklist_set
from reports_app.services.templates import template_load
from tests.conftest import DEMO_TEMPLATE

DEMO = DEMO_TEMPLATE.read_text(encoding="utf-8")
ASK_1 = "> **Which group number did your group get when you registered?**"
ASK_2 = "> **List the student number of every member of the group.**"
ASK_10 = "> **What was the hardest part of the project, and what would you do differently if you started again?**"
NEW_ASK_10 = "> **Which cloud service runs your pipeline, and what does it cost per month?**"
QUESTION_11 = "\n### Question 11\n\n> **Which tool would you leave out next time?**\n>\n> Answer:\n\n"
QUESTION_11 += "--- question 11 fill here ---\n"
DROPPED_ITEM = "Schedule the whole pipeline to run once a day (M19)"
# v1: the demo with an 11th question. v2: the demo with questions 1 and 2 asking each other's question, question 10
# asking something else entirely, and one checklist item gone: v1's question 11 has no place on v2.
V1 = DEMO + QUESTION_11
V2 = (
    DEMO.replace(ASK_1, "@@ASK@@")
    .replace(ASK_2, ASK_1)
    .replace("@@ASK@@", ASK_2)
    .replace(ASK_10, NEW_ASK_10)
    .replace(f"* [ ] {DROPPED_ITEM}\n", "")
)
ANSWERS = {2: "s1, s2", 3: "Weather data.", 4: "--- question 4 fill here ---", 11: "Make"}  # and 1: "We are group N."


def load_versions() -> tuple[ReportTemplate, ReportTemplate]:
    return template_load(name="v1", source=V1)[0], template_load(name="v2", source=V2)[0]


def switched_course(course: Course, groups: list[Group], v1: ReportTemplate, v2: ReportTemplate) -> Course:
    """The groups' reports on v1 with ANSWERS (question 4 still the placeholder) and items 0, 8 (DROPPED_ITEM) and 9
    ticked by alice; then the course is switched to v2, as the admin's course form saves it."""
    alice = get_user_model().objects.get(username="alice")
    for group in groups:
        report = Report.objects.create(group=group, template=v1)
        for number, text in {1: f"We are group {group.number}.", **ANSWERS}.items():
            answer_save(report=report, question=v1.questions.get(number=number), text=text, base_version=0, user=alice)
        checklist_set(report=report, changes={0: True, 8: True, 9: True}, user=alice)
    course.template = v2
    course.save()
    return course
