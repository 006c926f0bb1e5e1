"""The engine against the course's own material in ../shared: every template version and every seed report.

../shared is beside the checkout in development and CI; a user's fresh clone does not have it, so these tests skip.
"""

import json
import re
from io import StringIO
from pathlib import Path

import markdown
import pytest
from django.core.management import call_command

from reports_app.engine import checks, matching, parsing, rendering

from .conftest import SHARED

pytestmark = pytest.mark.skipif(
    not (SHARED / "templates").is_dir(), reason="../shared (course reference material) is absent"
)

TEMPLATE_FILES = sorted((SHARED / "templates").glob("*.md")) + sorted((SHARED / "templates").glob("unmirrored/*.md"))
TEMPLATE_FILES = [f for f in TEMPLATE_FILES if f.name != "NOTES.md"]
SEEDS = sorted((SHARED / "seeds").glob("*.md"))


def template_key(path: Path) -> str:
    return path.stem if path.parent.name == "templates" else f"{path.parent.name}/{path.stem}"


def read(path: Path) -> str:
    return parsing.decode_text(path.read_bytes())


@pytest.fixture(scope="module")
def constraints():
    return json.loads((SHARED / "templates" / "constraints.json").read_text())


@pytest.fixture(scope="module")
def golden_index():
    return json.loads((SHARED / "golden" / "index.json").read_text())


@pytest.fixture(scope="module")
def parsed_templates():
    return {template_key(f).replace("/", "_"): (parsing.parse_template(read(f)), read(f)) for f in TEMPLATE_FILES}


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=template_key)
def test_every_template_version_yields_the_course_checkers_constraint_table(path, constraints):
    parsed = parsing.parse_template(read(path))
    reportpy = constraints["_template_to_reportpy"][template_key(path)]["reportpy"]
    table = constraints[reportpy]
    assert len(parsed.questions) == table["n_answers"]
    for question in parsed.questions:
        expected = table["questions"][str(question.number)]
        assert [
            list(question.words) if question.words else None,
            list(question.images) if question.images else None,
        ] == [
            expected["words"],
            expected["images"],
        ], f"Question {question.number}"
    assert parsed.checker == ("click" if table["cli"] == "click" else "typer")


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=template_key)
def test_every_template_version_round_trips_through_its_layout(path):
    text = read(path)
    parsed = parsing.parse_template(text)
    placeholders = {q.number: q.placeholder for q in parsed.questions}
    assert parsing.render_layout(parsed.layout, placeholders, {}) == text
    assert all(q.placeholder == f"--- question {q.number} fill here ---" or q.number == 31 for q in parsed.questions)


def test_checklist_sizes_per_version_match_the_notes(parsed_templates):
    notes = (SHARED / "templates" / "NOTES.md").read_text()
    for name, (parsed, _) in parsed_templates.items():
        row = re.search(
            rf"^\| {re.escape(name.split('_', 1)[-1] if name.startswith('unmirrored') else name)}\.md \|.*$",
            notes,
            re.M,
        )
        if row is None or "none" in row.group(0).split("|")[4]:
            assert name.startswith("unmirrored") or not parsed.checklist
            continue
        total = int(re.search(r"\(= (\d+)\)", row.group(0)).group(1))
        assert len(parsed.checklist) == total, name


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_seed_picks_the_golden_template_and_gives_the_golden_messages(seed, parsed_templates, golden_index):
    text = read(seed)
    meta = golden_index[seed.stem]
    key, _ = matching.closest_template(
        text, [(k, matching.outline_shingles(src)) for k, (_, src) in parsed_templates.items()]
    )
    assert key == meta["template_version"]
    template = parsed_templates[key][0]
    rules = [checks.Rule(q.number, q.words, q.images) for q in template.questions]
    result = checks.check_text(text, rules, checks.CHECKERS[template.checker])
    golden = [
        line.strip() for line in (SHARED / "golden" / f"{seed.stem}.check.txt").read_text().splitlines() if line.strip()
    ]
    expected_messages = [line for line in golden if not line.startswith("Total number")]
    assert result.messages == expected_messages
    if meta["pass_count_line"]:
        assert result.lines()[-1] == meta["pass_count_line"]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_seed_round_trips_byte_for_byte_and_renders_like_markdown(seed, parsed_templates, golden_index):
    text = read(seed)
    template = parsed_templates[golden_index[seed.stem]["template_version"]][0]
    parsed = parsing.parse_report(text, template)
    assert parsing.render_layout(parsed.layout, parsed.answers, parsed.marks) == text
    assert rendering.standard_html(text) == markdown.markdown(parsing.split_front_matter(text)[1])


def test_seed_golden_html_is_the_course_renderer_minus_43_characters():
    """The course's own report.html drops the first 43 characters; ours drops exactly the front matter."""
    seed = next(s for s in SEEDS if (SHARED / "golden" / f"{s.stem}.html").exists())
    text = read(seed)
    golden = (SHARED / "golden" / f"{seed.stem}.html").read_text(encoding="utf-8")
    assert golden.rstrip("\n") == markdown.markdown(text[43:]).rstrip("\n")


def test_commands_import_and_export_a_seed_unchanged(db):
    for path in TEMPLATE_FILES:
        call_command("load_template", str(path), "--name", template_key(path).replace("/", "_"), stdout=StringIO())
    seed = next(s for s in SEEDS if s.stem.startswith("001"))
    call_command("import_report", str(seed), "--course", "SHARED", "--group", "1", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("export_report", "--course", "SHARED", "--group", "1", "--format", "markdown", stdout=out)
    assert out.getvalue() == read(seed)
