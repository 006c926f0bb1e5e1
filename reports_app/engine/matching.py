"""Which loaded template a file follows most closely: 6-word shingles of its text outside the answers, compared
with each template's. Pure Python."""

from __future__ import annotations

from .parsing import ANSWER_MARKER, CHECKBOX, QUESTION_HEADING, line_heading, normalize_newlines

SHINGLE_WORDS = 6
_MARKERS = str.maketrans({c: " " for c in "*_>`#-"})


def outline_shingles(text: str) -> frozenset[tuple[str, ...]]:
    """6-word shingles of a file's text outside the answers, ignoring case, whitespace, marks and markdown markers.

    Each stretch of text between two answers is shingled on its own. Applied to a template and to a report, the
    two sets differ only where the report changed the template's text.
    """
    stretches: list[list[str]] = [[]]
    in_question, inside = False, False
    for line in normalize_newlines(text).split("\n"):
        heading = line_heading(line)
        if heading:
            inside = False
            in_question = bool(QUESTION_HEADING.match(line))
        if inside:
            continue
        stretches[-1].append(CHECKBOX.sub(r"\1[ ]", line))
        if in_question and ANSWER_MARKER in line:
            inside = True
            stretches.append([])
    shingles = set()
    for stretch in stretches:
        words = " ".join(stretch).translate(_MARKERS).casefold().split()
        shingles.update(tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1))
    return frozenset(shingles)


def closest_template(text: str, candidates: list[tuple[object, frozenset]]) -> tuple[object, int] | None:
    """(key, distance) of the template the report follows most closely; ties go to the earliest candidate.

    distance = the template's shingles missing from the report + the report's shingles that belong to some other
    candidate but not to this one. Text the students wrote themselves counts against no template.
    """
    if not candidates:
        return None
    report = outline_shingles(text)
    known = report & frozenset().union(*(shingles for _, shingles in candidates))
    return min(
        ((key, len(shingles - report) + len(known - shingles)) for key, shingles in candidates), key=lambda kd: kd[1]
    )
