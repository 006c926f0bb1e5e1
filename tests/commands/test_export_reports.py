"""`manage.py export_reports --course CODE --out FILE.zip`: the course export, written whole or not at all."""

import errno
import io
import os
import shutil
import stat
import subprocess
import zipfile

import pytest
from django.core.management import CommandError, call_command

from reports_app.models import Group, Question
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_for_group


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_reports", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def two_reports(course, group1, group2):
    for group in (group1, group2):
        report = report_for_group(group)
        question = Question.objects.get(template=report.template, number=3)
        answer_save(report=report, question=question, text="some words", base_version=0, user=None)
    Group.objects.create(course=course, number=3)
    return course


def test_writes_the_zip_and_prints_a_summary(two_reports, tmp_path):
    target = tmp_path / "c1.zip"
    out, err = run("--course", "C1", "--out", str(target))

    assert out == f"Wrote {target}: 3 groups, 2 reports with 0 figures; 1 with nothing written\n"
    assert err == ""
    with zipfile.ZipFile(target) as archive:
        assert "group-002/report.html" in archive.namelist()
        assert "index.html" in archive.namelist()
    assert [p.name for p in tmp_path.iterdir()] == ["c1.zip"]


def test_progress_per_group_at_verbosity_2(two_reports, tmp_path):
    _, err = run("--course", "C1", "--out", str(tmp_path / "c1.zip"), "--verbosity", "2")
    assert err == "1/3 groups\n2/3 groups\n3/3 groups\n"


def test_a_crash_leaves_no_half_zip_and_keeps_the_old_one(two_reports, tmp_path, monkeypatch):
    """The disk fills up half-way (zipfile's write fails as it would): the zip of yesterday stays, whole."""
    target = tmp_path / "c1.zip"
    target.write_bytes(b"the export of yesterday")
    writestr = zipfile.ZipFile.writestr

    def disk_full_at_group_2(archive, name, *args, **kwargs):
        if getattr(name, "filename", name).startswith("group-002/"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return writestr(archive, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full_at_group_2)
    with pytest.raises(CommandError, match=f"^{target}: not written \\(No space left on device\\)$"):
        run("--course", "C1", "--out", str(target), "--workers", "1")

    assert target.read_bytes() == b"the export of yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["c1.zip"]  # the partial file is gone


@pytest.mark.skipif(shutil.which("unzip") is None, reason="needs Info-ZIP's unzip")
def test_unzip_makes_files_everyone_can_read_whatever_the_umask(two_reports, tmp_path):
    target = tmp_path / "c1.zip"
    run("--course", "C1", "--out", str(target), "--workers", "1")

    out = tmp_path / "out"
    subprocess.run(["sh", "-c", 'umask 077 && unzip -q "$0" -d "$1"', target, out], check=True)

    modes = {str(path.relative_to(out)): stat.filemode(path.stat().st_mode) for path in out.rglob("*")}
    assert modes["group-001"] == modes["group-002"] == "drwxr-xr-x"
    assert modes["group-001/grading.html"] == modes["index.html"] == modes["grades.csv"] == "-rw-r--r--"
    assert {mode for name, mode in modes.items() if "." in name} == {"-rw-r--r--"}


def test_unknown_course_names_the_courses_there_are(course, tmp_path):
    with pytest.raises(CommandError, match=r"^no course with code 'C9' \(courses: C1\)$"):
        run("--course", "C9", "--out", str(tmp_path / "x.zip"))


def test_out_must_be_a_file_in_an_existing_folder(course, tmp_path):
    with pytest.raises(CommandError, match=f"^{tmp_path}: is a folder; give the name of the zip file to write$"):
        run("--course", "C1", "--out", str(tmp_path))
    missing = tmp_path / "nope" / "x.zip"
    with pytest.raises(CommandError, match=f"^{missing}: the folder {missing.parent} does not exist$"):
        run("--course", "C1", "--out", str(missing))
    assert list(tmp_path.iterdir()) == []


def test_workers_must_be_positive(course, tmp_path):
    with pytest.raises(CommandError, match=r"^Error: argument --workers: '0' is not a number of workers \(1 to 256\)$"):
        run("--course", "C1", "--out", str(tmp_path / "x.zip"), "--workers", "0")


def test_a_file_it_cannot_write_is_named(course, tmp_path):
    """A real refusal from the file system: the zip's name fits, the partial file's longer name does not."""
    target = tmp_path / ("x" * 240 + ".zip")
    with pytest.raises(CommandError, match=f"^{target}: not written \\(File name too long\\)$"):
        run("--course", "C1", "--out", str(target), "--workers", "1")
    assert list(tmp_path.iterdir()) == []
