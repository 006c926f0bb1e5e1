"""The course-wide commands (scrape_reports, export_reports, import_roster, export_roster) say what is wrong in one
line, a CommandError, and never a traceback: whatever the file, the path or the database does."""

import os
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import UserManager
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from reports_app.models import Group, Membership
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_for_group

ROSTER = (
    "group,study_number,name,email,repo\n"
    "1,s1,Ann Ash,ann@example.com,https://github.com/one/mlops\n"
    "1,s2,Bo Birch,bo@example.com,https://github.com/one/mlops\n"
    "1,s3,Cy Cedar,cy@example.com,https://github.com/one/mlops\n"
)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def pipe(tmp_path) -> Path:
    """A named pipe: opening it waits for the other end, forever when nobody comes."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.timeout(30)
def test_import_roster_refuses_a_pipe_instead_of_waiting_on_it(course, pipe):
    with pytest.raises(CommandError, match=f"^{pipe}: not a regular file$"):
        run("import_roster", str(pipe), "--course", "C1")


@pytest.mark.timeout(30)
def test_export_roster_refuses_a_pipe_instead_of_waiting_on_it(course, pipe):
    with pytest.raises(CommandError, match=f"^{pipe}: is not a regular file$"):
        run("export_roster", "--course", "C1", "--out", str(pipe))
    assert pipe.is_fifo()


def test_export_reports_refuses_to_replace_what_is_not_a_file(course, pipe):
    """The zip is renamed over its target when whole: over a device or a pipe that would replace it."""
    with pytest.raises(CommandError, match=f"^{pipe}: is not a regular file; give the name of the zip file to write$"):
        run("export_reports", "--course", "C1", "--out", str(pipe))
    assert pipe.is_fifo() and [p.name for p in pipe.parent.iterdir()] == ["pipe"]


def test_import_roster_says_in_one_line_when_the_database_fails(course, tmp_path, monkeypatch):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)

    def fails(*args, **kwargs):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(UserManager, "create_user", fails)  # Django's, as the database would make it fail
    with pytest.raises(
        CommandError, match=f"^{path}: the database refused it \\(disk I/O error\\); nothing was imported$"
    ):
        run("import_roster", str(path), "--course", "C1")
    assert not Group.objects.exists() and not Membership.objects.exists()


def test_export_reports_of_a_group_that_cannot_be_rendered_writes_the_rest_and_says_which(
    course, group1, group2, tmp_path
):
    for group, text in ((group1, "1. " * 500 + "deep"), (group2, "Fine words.")):
        report = report_for_group(group)
        question = report.template.questions.get(number=3)
        answer_save(report=report, question=question, text=text, base_version=0, user=None)
    target = tmp_path / "c1.zip"

    out, err = run("export_reports", "--course", "C1", "--out", str(target))

    assert out.splitlines() == [
        f"Wrote {target}: 2 groups, 2 reports with 0 figures; 1 without HTML (CANNOT-RENDER.txt)",
        "cannot render group 1: nested 500 levels deep",
    ]
    assert err == ""
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert "group-001/CANNOT-RENDER.txt" in names and "group-002/report.html" in names
