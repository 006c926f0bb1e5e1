"""engine/readme_file.py: the README bytes handed out for a report, and git's blob id."""

import subprocess

import pytest

from reports_app.engine.readme_file import ReadmeFile, git_blob_id, readme_file

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("data", [b"", b"# R\r\n", BOM + b"a  \r\nb\n", "\u00e6\u00f8\u00e5\n".encode()])
def test_the_blob_id_is_the_one_git_gives(data, tmp_path):
    file = tmp_path / "README.md"
    file.write_bytes(data)
    assert (
        git_blob_id(data)
        == subprocess.run(
            ["git", "hash-object", "--no-filters", str(file)], check=True, capture_output=True, text=True
        ).stdout.strip()
    )


def test_the_committed_file_is_handed_out_while_its_text_is_the_reports():
    committed = BOM + b"# Report \r\nanswer  \r\n"
    assert readme_file("\ufeff# Report \nanswer  \n", committed) == ReadmeFile(committed, committed=True)


def test_a_changed_text_keeps_the_committed_files_crlf_and_bom():
    changed = readme_file("# Report\nnew answer\n", BOM + b"# Report\r\nanswer\r\n")
    assert changed == ReadmeFile(BOM + b"# Report\r\nnew answer\r\n", committed=False)


def test_a_text_that_has_the_bom_already_gets_no_second_one():
    assert readme_file("\ufeffnew\n", BOM + b"old\r\n").data == BOM + b"new\r\n"


def test_lf_stays_lf_and_crlf_wins_only_with_most_lines():
    assert readme_file("a\nb\n", b"x\ny\n").data == b"a\nb\n"
    assert readme_file("a\nb\n", b"x\r\ny\nz\n").data == b"a\nb\n"  # 1 of 3 lines CRLF
    assert readme_file("a\nb\n", b"x\r\ny\r\nz\n").data == b"a\r\nb\r\n"  # 2 of 3


def test_without_a_committed_file_the_text_is_utf8_with_lf():
    assert readme_file("\u00e6 \r\nb", None) == ReadmeFile("\u00e6 \nb".encode(), committed=False)


def test_a_committed_file_that_is_no_text_only_lends_its_line_ends():
    assert readme_file("a\n", b"\xff\xfe\r\n\r\n") == ReadmeFile(b"a\r\n", committed=False)
