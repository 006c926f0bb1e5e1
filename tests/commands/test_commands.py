"""The management commands: their output contract, and a one-line error (never a traceback) for bad input."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports_app.models import Answer, AnswerRevision, ChecklistMark, Report
from tests.helpers.hostile import BRACKETS, NESTED

MINI_TEMPLATE = """# Mini report

Replace each placeholder; run `pip install typer markdown` to check.

## Overall project checklist

### Week 1

* [ ] Set up a repository (M1)
* [ ] Write a long item that wraps onto
    a second line (M2+M3)

## Group information

### Question 1
> **Which group are you?**
>
> Answer:

--- question 1 fill here ---

## Work

### Question 2

> **Describe the pipeline.**
>
> Recommended answer length: 3-5 words.
>
> Answer:

--- question 2 fill here ---

### Question 3

> **Insert 1-2 images of the dashboard.**
>
> Answer:

--- question 3 fill here ---
"""


def filled(q1="7", q2="one two three four", q3="![a](figures/a.png)", marks=("x", " ")) -> str:
    text = MINI_TEMPLATE.replace("* [ ] Set", f"* [{marks[0]}] Set").replace("* [ ] Write", f"* [{marks[1]}] Write")
    for number, answer in ((1, q1), (2, q2), (3, q3)):
        text = text.replace(f"--- question {number} fill here ---", answer)
    return text


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def mini(db, tmp_path):
    path = tmp_path / "mini.md"
    path.write_text(MINI_TEMPLATE)
    run("load_template", str(path), "--name", "mini")
    return path


def write(tmp_path: Path, text: str | bytes, name="report.md") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def test_load_template_reports_what_it_found(db, tmp_path):
    out, _ = run("load_template", write(tmp_path, MINI_TEMPLATE), "--name", "mini")
    assert (
        out.strip()
        == "Loaded template mini: 3 questions in 2 sections, 2 checklist items, 2024- course checker (typer)"
    )


def test_load_template_again_is_a_no_op_and_other_text_under_the_same_name_is_refused(mini, tmp_path):
    out, _ = run("load_template", str(mini), "--name", "mini")
    assert out.startswith("Already loaded: template mini")
    with pytest.raises(CommandError, match="already with other text"):
        run("load_template", write(tmp_path, MINI_TEMPLATE + "\nmore\n", "other.md"), "--name", "mini")


def test_load_template_refuses_duplicate_question_numbers_naming_the_line(db, tmp_path):
    text = MINI_TEMPLATE.replace("### Question 3", "### Question 2")
    with pytest.raises(CommandError, match=r"line 34: Question 2 appears twice \(first on line 24\)"):
        run("load_template", write(tmp_path, text), "--name", "dup")


def test_load_template_refuses_a_file_that_is_no_template(db, tmp_path):
    with pytest.raises(CommandError, match="no '### Question N' headings: this is not a report template"):
        run("load_template", write(tmp_path, "# Just notes\n\nNothing here.\n"), "--name", "notes")


def test_check_report_prints_course_messages_then_the_pass_count(mini, tmp_path):
    out, err = run("check_report", write(tmp_path, filled(q2="too short", q3="no image")))
    assert out.splitlines() == [
        "Question 2 failed check. Expected number of words to be between 3 and 5 but got 2",
        "Question 3 failed check. Expected number of screenshots to be between 1 and 2 but got 0",
        "Total number of questions passed: 1/3",
    ]
    assert err == ""


def test_check_report_of_crlf_file_equals_the_lf_file(mini, tmp_path):
    lf, _ = run("check_report", write(tmp_path, filled(q2="too short"), "lf.md"))
    crlf, _ = run("check_report", write(tmp_path, filled(q2="too short").replace("\n", "\r\n"), "crlf.md"))
    assert crlf == lf


def test_check_report_where_the_course_checker_stops_checks_by_heading_and_says_why(mini, tmp_path):
    broken = filled(q2="one two").replace("> Answer:\n\none two", "> Reply:\n\none two")
    out, err = run("check_report", write(tmp_path, broken))
    assert out.splitlines() == [
        "Question 2 failed check. No answer found",
        "Total number of questions passed: 2/3",
    ]
    assert (
        "The course checker stops on this file (ValueError: Number of answers are different from the expected 3." in err
    )
    assert "Question 2 has no 'Answer:' line" in err


def test_check_report_compat_fails_with_the_course_checkers_message(mini, tmp_path):
    broken = filled().replace("> Answer:\n\none two", "> Reply:\n\none two")
    with pytest.raises(
        CommandError,
        match=r"^ValueError: Number of answers are different from the expected 3\. Have you changed the template\?$",
    ):
        run("check_report", write(tmp_path, broken), "--compat")


def test_check_report_compat_without_any_answer_marker_is_the_typer_index_error(mini, tmp_path):
    text = filled().replace("Answer:", "Reply:")
    with pytest.raises(CommandError, match=r"^IndexError: list index out of range$"):
        run("check_report", write(tmp_path, text), "--compat")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the report is empty"),
        (b"  \n\n", "the report is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the report is binary, not a markdown text file"),
        (
            "# R\n\n### Question 1\n> Answer:\n\nGr\xf8n\n".encode("latin-1"),
            r"not UTF-8 text \(byte 0xf8 on line 6\); save it as UTF-8",
        ),
    ],
    ids=["empty", "blank", "binary", "latin-1"],
)
def test_check_report_bad_files_give_a_one_line_error(mini, tmp_path, content, message):
    with pytest.raises(CommandError, match=message) as error:
        run("check_report", write(tmp_path, content))
    assert "\n" not in str(error.value)


def test_check_report_refuses_a_file_over_the_size_limit(mini, tmp_path, settings):
    settings.REPORT_MAX_BYTES = 1000
    with pytest.raises(CommandError, match=r"the report is 0\.0 MB; the limit is 0\.0 MB \(setting REPORT_MAX_BYTES\)"):
        run("check_report", write(tmp_path, filled(q2="word " * 300)))


def test_check_report_handles_a_five_megabyte_report(mini, tmp_path):
    huge = filled(q2="word " * 1_000_000)
    assert len(huge) > 5_000_000
    out, _ = run("check_report", write(tmp_path, huge))
    assert (
        out.splitlines()[0] == "Question 2 failed check. Expected number of words to be between 3 and 5 but got 1000000"
    )


def test_check_report_without_templates_or_with_an_unknown_one_says_so(db, tmp_path):
    path = write(tmp_path, filled())
    with pytest.raises(CommandError, match="no templates are loaded; run load_template first"):
        run("check_report", path)
    with pytest.raises(CommandError, match=r"no template named 'nope' \(loaded: none\)"):
        run("check_report", path, "--template", "nope")


def test_missing_file_is_a_one_line_error(db, tmp_path):
    with pytest.raises(CommandError, match="No such file or directory"):
        run("check_report", str(tmp_path / "absent.md"))


def test_the_real_command_line_prints_no_traceback_for_a_binary_file(tmp_path):
    path = write(tmp_path, b"\x00\x01\x02binary")
    result = subprocess.run(
        [sys.executable, "manage.py", "check_report", path],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"CommandError: {path}: the report is binary, not a markdown text file"


def test_render_report_is_markdown_of_the_file_minus_front_matter(db, tmp_path):
    import markdown

    text = filled()
    out, _ = run("render_report", write(tmp_path, "---\nlayout: default\n---\n\n" + text))
    assert out == markdown.markdown(text) + "\n"


def test_import_then_export_gives_the_file_back(mini, tmp_path):
    text = filled(q2="one two three\n\n    code block line\n", marks=("X ", " x"))
    run("import_report", write(tmp_path, text), "--course", "C", "--group", "4")
    out, _ = run("export_report", "--course", "C", "--group", "4", "--format", "markdown")
    assert out == text
    report = Report.objects.get(group__course__code="C", group__number=4)
    assert report.template.name == "mini"
    assert report.group.course.template == report.template
    assert [m.checked for m in ChecklistMark.objects.filter(report=report)] == [True, True]


def test_reimport_creates_versions_only_for_changed_answers(mini, tmp_path):
    run("import_report", write(tmp_path, filled(), "a.md"), "--course", "C", "--group", "1")
    run("import_report", write(tmp_path, filled(), "b.md"), "--course", "C", "--group", "1")
    assert AnswerRevision.objects.count() == 3
    run(
        "import_report",
        write(tmp_path, filled(q2="five words are right here"), "c.md"),
        "--course",
        "C",
        "--group",
        "1",
    )
    answer = Answer.objects.get(question__number=2)
    assert (answer.version, answer.text) == (2, "five words are right here")
    assert list(answer.revisions.values_list("version", "source", "text")) == [
        (2, "import: c.md", "five words are right here"),
        (1, "import: a.md", "one two three four"),
    ]


def test_export_formats_html_and_grading(mini, tmp_path):
    run("import_report", write(tmp_path, filled(q1='<script>alert("x")</script> 7')), "--course", "C", "--group", "1")
    html, _ = run("export_report", "--course", "C", "--group", "1", "--format", "html")
    assert "<script>" in html  # the standard hand-in is the course's HTML, unsanitized, as the course renders it
    grading, _ = run("export_report", "--course", "C", "--group", "1", "--format", "grading")
    assert grading.startswith("<!DOCTYPE html>") and "<title>C group 1</title>" in grading
    assert "<script" not in grading and "alert" not in grading


def test_export_of_an_unknown_group_says_so(db):
    with pytest.raises(CommandError, match="group 9 of course 'C' has no report; run import_report first"):
        run("export_report", "--course", "C", "--group", "9")


# --- hostile files: one line on stderr, never a traceback ----------------------------------------------------------

BAD_FILES = {
    "latin-1": ("Gr\xf8n\n".encode("latin-1"), r"the (report|template) is not UTF-8 text \(byte 0xf8 on line 1\)"),
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", r"the (report|template) is binary, not a markdown text file"),
    "directory": (None, r": not a file$"),
    "missing": (..., r": No such file or directory$"),
}
FILE_COMMANDS = {
    "render_report": (),
    "check_report": (),
    "load_template": ("--name", "hostile"),
    "import_report": ("--course", "C", "--group", "1"),
}


def bad_file(tmp_path: Path, kind: str) -> str:
    content = BAD_FILES[kind][0]
    if content is None:
        return str(tmp_path)
    if content is ...:
        return str(tmp_path / "absent.md")
    return write(tmp_path, content)


@pytest.mark.parametrize("kind", BAD_FILES)
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_file_that_cannot_be_read_is_a_one_line_error(mini, tmp_path, command, kind):
    path = bad_file(tmp_path, kind)
    with pytest.raises(CommandError, match=BAD_FILES[kind][1]) as error:
        run(command, path, *FILE_COMMANDS[command])
    assert "\n" not in str(error.value) and str(error.value).startswith(f"{path}: ")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "why"),
    [(NESTED, "nested 500 levels deep"), (BRACKETS, "the renderer took longer than 1 s")],
    ids=["nested", "brackets"],
)
def test_render_report_of_text_that_cannot_be_rendered_says_why_in_one_line(db, tmp_path, short_budget, text, why):
    path = write(tmp_path, filled(q2=text))
    with pytest.raises(CommandError) as error:
        run("render_report", path)
    assert str(error.value) == f"cannot render {path}: {why}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", [NESTED, BRACKETS], ids=["nested", "brackets"])
def test_load_and_check_of_hostile_text_answer_without_rendering(mini, tmp_path, short_budget, text):
    path = write(tmp_path, text)
    with pytest.raises(CommandError, match=r"no '### Question N' headings: this is not a report template$"):
        run("load_template", path, "--name", "hostile")
    out, err = run("check_report", path)
    assert out.splitlines()[-1] == "Total number of questions passed: 0/3"
    assert "The course checker stops on this file" in err


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "why"),
    [(NESTED, "nested 500 levels deep"), (BRACKETS, "the renderer took longer than 1 s")],
    ids=["nested", "brackets"],
)
def test_an_answer_that_cannot_be_rendered_is_imported_as_typed_and_only_its_html_exports_fail(
    mini, tmp_path, short_budget, text, why
):
    from reports_app.engine import rendering
    from reports_app.selectors.report_page import report_page

    path = write(tmp_path, filled(q2=text))
    out, err = run("import_report", path, "--course", "C", "--group", "1")
    assert "3 answers changed, 0 problems" in out
    assert err == ""  # an import renders nothing: the report page does, and shows this answer as typed
    answer = Answer.objects.get(question__number=2)
    assert (answer.text, answer.html) == (text, None)
    report_page(answer.report)
    answer.refresh_from_db()
    assert answer.html == rendering.unrendered_html(text, why, what="Question 2")

    readme, _ = run("export_report", "--course", "C", "--group", "1", "--format", "markdown")
    assert readme == filled(q2=text)
    for format in ("html", "grading"):
        with pytest.raises(CommandError) as error:
            run("export_report", "--course", "C", "--group", "1", "--format", format)
        assert str(error.value) == f"cannot render the report of group 1 of C: {why}"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ, **env},
    )


@pytest.mark.timeout(60)
def test_the_real_command_line_says_why_a_report_cannot_be_rendered_in_one_line(tmp_path):
    nested, brackets = write(tmp_path, NESTED, "nested.md"), write(tmp_path, BRACKETS, "brackets.md")
    result = manage("render_report", nested)
    assert (result.returncode, result.stderr) == (1, f"CommandError: cannot render {nested}: nested 500 levels deep\n")
    result = manage("render_report", brackets, BUDGET_SECONDS="1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == f"CommandError: cannot render {brackets}: the renderer took longer than 1 s\n"


@pytest.mark.parametrize(
    "args",
    [
        ["import_report", "README.md", "--course", "C1", "--group", "99999999999"],
        ["export_report", "--course", "C1", "--group", "0"],
        ["export_report", "--course", "C1", "--group", "9" * 5000],
        ["scrape_reports", "--course", "C1", "--group", "1", "2147483648"],
        ["scrape_reports", "--course", "C1", "--workers", "100000000000"],
        ["export_reports", "--course", "C1", "--out", "x.zip", "--workers", "0"],
        ["clean_media", "--older-than", "99999999999999999999"],
    ],
)
def test_numbers_out_of_range_are_a_one_line_error(db, args):
    with pytest.raises(CommandError, match=r"^Error: argument --[a-z-]+: '[0-9]+' is not a (group )?number"):
        call_command(*args, stdout=StringIO(), stderr=StringIO())
