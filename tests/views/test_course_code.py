"""Course codes are slugs (they name files): the model refuses others, and so do the admin and import_report."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from reports_app.models import COURSE_CODE_INVALID, Course
from tests.conftest import FIXTURES
from tests.helpers.forms import empty_inlines


@pytest.mark.parametrize("code", ["02476", "MLOps-2025", "mlops_2025.jan", "C1", "x" * 50])
def test_slugs_are_course_codes(db, code):
    Course(code=code).full_clean()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("../x", COURSE_CODE_INVALID),
        ("a/b", COURSE_CODE_INVALID),
        ("a\\b", COURSE_CODE_INVALID),
        (".hidden", COURSE_CODE_INVALID),
        ("..", COURSE_CODE_INVALID),
        ("two words", COURSE_CODE_INVALID),
        ("kursus-ø", COURSE_CODE_INVALID),
        ("x\n", COURSE_CODE_INVALID),
        ("x" * 51, "Ensure this value has at most 50 characters (it has 51)."),
    ],
)
def test_other_course_codes_are_refused(db, code, message):
    with pytest.raises(ValidationError) as caught:
        Course(code=code).full_clean()
    assert caught.value.message_dict["code"] == [message]


def course_form(code: str) -> dict[str, str]:
    """The admin's course form as a browser posts it."""
    return {
        "code": code,
        "title": "Machine learning operations",
        "template": "",
        "deadline_0": "",
        "deadline_1": "",
        "join_code": "",
        "min_group_size": "3",
        "max_group_size": "5",
        "lms_item_name": "Report",
        **empty_inlines("staff", "question_points", "rubric_items"),
    }


def test_the_admin_refuses_a_course_code_that_is_a_path(admin_client):
    response = admin_client.post(reverse("admin:reports_app_course_add"), course_form("../exports-of-others"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"code": [COURSE_CODE_INVALID]}
    assert response.context["adminform"].form["code"].value() == "../exports-of-others"
    assert not Course.objects.exists()


def test_the_admin_takes_a_slug(admin_client):
    response = admin_client.post(reverse("admin:reports_app_course_add"), course_form("02476-2026"))

    assert response.status_code == 302
    assert Course.objects.get().code == "02476-2026"


def test_import_report_refuses_to_create_a_course_whose_code_is_a_path(demo_template):
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_report", str(FIXTURES / "filled.md"), "--course", "../x", "--group", "1", stdout=StringIO()
        )

    assert str(caught.value) == f"course code '../x': {COURSE_CODE_INVALID}"
    assert not Course.objects.exists()


def test_import_report_into_an_existing_course_is_not_checked_again(demo_template):
    Course.objects.create(code="../old", template=demo_template)  # an old row, from before codes were checked
    out = StringIO()

    call_command("import_report", str(FIXTURES / "filled.md"), "--course", "../old", "--group", "1", stdout=out)

    assert out.getvalue().startswith("Imported ")
