"""The fixture cast: a demo template, a course, its instructor, alice and bob in group 1, charlie in group 2, and
test clients logged in as each of them (`alice`, `bob`, `charlie`, `staff`)."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEMO_TEMPLATE = Path(__file__).resolve().parents[1] / "reports_app" / "demo" / "template.md"


def read_fixture(name: str) -> str:
    """One of our own test reports in tests/fixtures, filled in against the demo template."""
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def demo_template(db):
    from reports_app.services.templates import template_load

    template, _ = template_load(name="demo", source=DEMO_TEMPLATE.read_text(encoding="utf-8"))
    return template


@pytest.fixture
def course(demo_template):
    from reports_app.models import Course

    return Course.objects.create(code="C1", title="Course one", template=demo_template)


@pytest.fixture
def instructor(django_user_model, course):
    """The course's instructor (may log in to the admin, without model permissions)."""
    from reports_app.models import CourseStaff, StaffRole

    user = django_user_model.objects.create_user("instructor", password="pw-instructor", is_staff=True)
    CourseStaff.objects.create(course=course, user=user, role=StaffRole.INSTRUCTOR)
    return user


@pytest.fixture
def group1(course, django_user_model):
    from reports_app.models import Group, Membership

    group = Group.objects.create(course=course, number=1, name="One")
    for name in ("alice", "bob"):
        user = django_user_model.objects.create_user(name, password=f"pw-{name}")
        Membership.objects.create(user=user, group=group)
    return group


@pytest.fixture
def group2(course, django_user_model):
    from reports_app.models import Group, Membership

    group = Group.objects.create(course=course, number=2, name="Two")
    user = django_user_model.objects.create_user("charlie", password="pw-charlie")
    Membership.objects.create(user=user, group=group)
    return group


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Uploaded figures go to a fresh folder per test; passwords hash fast (the real hasher costs ~0.3 s a login)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def budget_of(settings):
    """`budget_of(seconds)`: renders get that long, not BUDGET_SECONDS' 5 (in settings and in `bounded`, as apps.py
    sets it); restored after the test."""
    from reports_app.engine import bounded

    memory, recursion = settings.BUDGET_MEMORY_MB * 1024**2, settings.BUDGET_RECURSION
    old = bounded.Budget(settings.BUDGET_SECONDS, memory, recursion)

    def set_budget(seconds: int) -> None:
        settings.BUDGET_SECONDS = seconds
        bounded.configure(bounded.Budget(seconds, memory, recursion))

    yield set_budget
    bounded.configure(old)


@pytest.fixture
def parser_breaks_on_boom(monkeypatch):
    """The report parser raises on a report holding BOOM, as any code may on input nobody foresaw."""
    from reports_app.engine import parsing
    from tests.helpers.repos import BOOM

    parse = parsing.parse_report

    def breaks(text, *args, **kwargs):
        if BOOM in text:
            raise ValueError("the parser gave up")
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(parsing, "parse_report", breaks)


@pytest.fixture
def short_budget(budget_of):
    """Renders get 1 s, not BUDGET_SECONDS' 5; restored after."""
    budget_of(1)


def client_for(username: str):
    """A test client logged in as `username` (created by the fixtures above)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def alice(group1):
    return client_for("alice")


@pytest.fixture
def bob(group1):
    return client_for("bob")


@pytest.fixture
def charlie(group2):
    return client_for("charlie")


@pytest.fixture
def staff(instructor):
    return client_for("instructor")


def image_bytes(format: str, width: int, height: int, color: str) -> bytes:
    """A real image file made with Pillow."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format)
    return buffer.getvalue()


def png_bytes(width: int = 4, height: int = 3, color: str = "red") -> bytes:
    return image_bytes("PNG", width, height, color)


def jpeg_bytes(width: int = 4, height: int = 3, color: str = "blue") -> bytes:
    return image_bytes("JPEG", width, height, color)
