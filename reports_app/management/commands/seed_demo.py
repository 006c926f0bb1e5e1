import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from reports_app.models import (
    Course,
    CourseStaff,
    Group,
    GroupGrader,
    Membership,
    QuestionPoints,
    Report,
    RubricItem,
    StaffRole,
)

from ...services.templates import template_load

DEMO_TEMPLATE = Path(__file__).resolve().parents[2] / "demo" / "template.md"
DEMO_COURSE = "DEMO00000"
INSTRUCTOR = ("instructor", "instructor-demo")
TA = ("ta", "ta-demo")
TA_GROUPS = (1, 2)  # the demo TA grades these; group 3 is another TA's, so to them it does not exist
GROUPS = {
    1: [("alice", "s000001"), ("bob", "s000002")],
    2: [("charlie", "s000003"), ("dana", "s000004")],
    3: [("erik", "s000005"), ("frida", "s000006"), ("gustav", "s000007")],
}


POINTS = Decimal("2")  # each demo question's max points
RUBRIC = [
    ("Answers what is asked", Decimal("1.5")),
    ("Specific to the project", Decimal("0.5")),
    ("Off the length rule", Decimal("-0.5")),
]


def password_for(username: str) -> str:
    return f"{username}-demo"


def new_join_code() -> str:
    """A fresh code for the demo course, e.g. 'demo-3fa9c1d2': random, so that no two demo sites share one."""
    return f"demo-{secrets.token_hex(4)}"


class Command(BaseCommand):
    help = (
        "Create the demo course (idempotent): our demo template, an instructor, a TA of two of its three groups of "
        "students and a join code for /join/. Prints the logins and the code."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        template, _ = template_load(name="demo-v1", source=DEMO_TEMPLATE.read_text(encoding="utf-8"))
        course, created = Course.objects.get_or_create(
            code=DEMO_COURSE,
            defaults={
                "title": "Demo project course",
                "template": template,
                "deadline": timezone.now() + timedelta(days=14),
            },
        )
        if not course.join_code:  # kept once set: a code handed out stays valid
            course.join_code = new_join_code()
            course.save(update_fields=["join_code"])
        users = get_user_model().objects
        username, password = INSTRUCTOR
        if not users.filter(username=username).exists():
            users.create_superuser(username, f"{username}@example.com", password)
        for number, members in GROUPS.items():
            group, _ = Group.objects.get_or_create(course=course, number=number, defaults={"name": f"Team {number}"})
            Report.objects.get_or_create(group=group, defaults={"template": course.template or template})
            for name, study_number in members:
                user = users.filter(username=name).first()
                if user is None:
                    user = users.create_user(name, f"{name}@example.com", password_for(name))
                Membership.objects.get_or_create(user=user, group=group, defaults={"study_number": study_number})
        ta = users.filter(username=TA[0]).first() or users.create_user(TA[0], f"{TA[0]}@example.com", TA[1])
        CourseStaff.objects.get_or_create(course=course, user=ta, defaults={"role": StaffRole.TA})
        for group in course.groups.filter(number__in=TA_GROUPS):
            GroupGrader.objects.get_or_create(group=group, user=ta)
        if not course.question_points.exists():  # a rubric to grade with; an instructor's changes are kept
            for number in course.template.questions.values_list("number", flat=True):
                QuestionPoints.objects.create(course=course, number=number, max_points=POINTS)
                for position, (text, points) in enumerate(RUBRIC, start=1):
                    RubricItem.objects.create(course=course, number=number, text=text, points=points, position=position)

        self.stdout.write(f"Demo course {course.code} {'created' if created else 'already there'}. Logins:")
        self.stdout.write(f"  {INSTRUCTOR[0]:10} {INSTRUCTOR[1]:18} staff (admin at /admin/)")
        self.stdout.write(f"  {TA[0]:10} {TA[1]:18} TA of groups {' and '.join(map(str, TA_GROUPS))}")
        for number, members in GROUPS.items():
            for name, _ in members:
                self.stdout.write(f"  {name:10} {password_for(name):18} group {number}")
        self.stdout.write(f"Grading: /courses/{course.pk}/grading/ (every question {POINTS} points, a 3-item rubric)")
        self.stdout.write(f"Join code of {course.code}: {course.join_code} (a group signs itself up at /join/)")
