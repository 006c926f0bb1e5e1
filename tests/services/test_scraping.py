"""scraping.fetch_reports against real git repos made in the test (file:// URLs, allowed only here)."""

import hashlib
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports_app import scraping
from reports_app.engine.repo_urls import (
    URL_BACKSLASH,
    URL_CREDENTIALS,
    URL_DASH,
    URL_DOTS,
    URL_HIDDEN,
    URL_MISSING,
    URL_NOT_UTF8,
    URL_QUERY,
    URL_SPACES,
    URL_TRANSPORT,
    RepoRefused,
    check_url,
)
from reports_app.models import Answer
from reports_app.scraping import ODD_NAME, RepoEmpty, RepoUnreachable, fetch_reports
from reports_app.services.scrapes import group_scrape
from tests.conftest import png_bytes, read_fixture
from tests.helpers.repos import JAN_10, JAN_20, Symlink, empty_repo, make_repo, noise, sha_of


def fetch(
    url: str,
    tmp_path: Path,
    *,
    before: datetime | None = None,
    allowed: list[str] | None = None,
    workdir: Path | None = None,
    timeout: int = 30,
    **limits,
) -> scraping.Fetched:
    """fetch_reports with a fresh work folder, file:// URLs below tmp_path allowed and generous limits by default."""
    if workdir is None:
        workdir = tmp_path / f"work-{time.perf_counter_ns()}"
        workdir.mkdir()
    options = {"max_bytes": 10_000_000, "max_report_bytes": 1_000_000, "max_figure_bytes": 1_000_000}
    options = options | {"max_figures": 200} | limits
    allowed = [f"file://{tmp_path}/"] if allowed is None else allowed
    return fetch_reports(url, allowed=allowed, before=before, workdir=workdir, timeout=timeout, **options)


@pytest.fixture
def report_text() -> bytes:
    return read_fixture("filled.md").encode()


@pytest.fixture
def two_commits(tmp_path, report_text):
    """A course repo: a first report on Jan 10, a second version and a figure on Jan 20, plus project files."""
    return make_repo(
        tmp_path,
        "two",
        [
            (JAN_10, {"reports/README.md": b"first version\n", "src/train.py": b"print('train')\n"}),
            (JAN_20, {"reports/README.md": report_text, "reports/figures/runs.png": png_bytes()}),
        ],
    )


# --- which commit -------------------------------------------------------------------------------------------------


def test_head_reads_the_last_commit_of_the_default_branch(tmp_path, two_commits, report_text):
    fetched = fetch(two_commits, tmp_path)

    assert fetched.commit_sha == sha_of(two_commits)
    assert fetched.commit_at == datetime(2025, 1, 20, 12, tzinfo=UTC)
    assert fetched.readme == report_text
    assert fetched.figures == {"runs.png": png_bytes()}
    assert fetched.skipped == []


def test_at_a_deadline_reads_the_last_commit_dated_before_it(tmp_path, two_commits):
    fetched = fetch(two_commits, tmp_path, before=datetime(2025, 1, 15, tzinfo=UTC))

    assert fetched.commit_sha == sha_of(two_commits, "HEAD~1")
    assert fetched.commit_at == datetime(2025, 1, 10, 12, tzinfo=UTC)
    assert fetched.readme == b"first version\n"
    assert fetched.figures == {}


def test_a_commit_dated_exactly_at_the_deadline_counts(tmp_path, two_commits):
    fetched = fetch(two_commits, tmp_path, before=datetime(2025, 1, 20, 12, tzinfo=UTC))

    assert fetched.commit_sha == sha_of(two_commits)


def test_no_commit_before_the_deadline_is_an_empty_repo(tmp_path, two_commits):
    with pytest.raises(RepoEmpty) as caught:
        fetch(two_commits, tmp_path, before=datetime(2025, 1, 1, 9, 30, tzinfo=UTC))
    assert str(caught.value) == "no commit on the default branch is dated before the deadline (2025-01-01 09:30 UTC)"


@pytest.mark.parametrize("before", [None, datetime(2025, 1, 15, tzinfo=UTC)])
def test_a_repo_without_commits_is_empty(tmp_path, before):
    with pytest.raises(RepoEmpty) as caught:
        fetch(empty_repo(tmp_path), tmp_path, before=before)
    assert str(caught.value) == "the repo has no commits"


@pytest.mark.parametrize("before", [None, datetime(2025, 1, 15, tzinfo=UTC)])
def test_a_server_without_filter_support_works_the_same(tmp_path, report_text, before):
    url = make_repo(
        tmp_path,
        "plain",
        [
            (JAN_10, {"reports/README.md": b"first version\n"}),
            (JAN_20, {"reports/README.md": report_text, "reports/figures/runs.png": png_bytes()}),
        ],
        allow_filter=False,
    )

    fetched = fetch(url, tmp_path, before=before)

    assert fetched.readme == (report_text if before is None else b"first version\n")
    assert fetched.figures == ({"runs.png": png_bytes()} if before is None else {})


@pytest.mark.parametrize("before", [None, datetime(2025, 1, 25, tzinfo=UTC)])
def test_only_reports_is_downloaded_and_nothing_is_checked_out(tmp_path, report_text, before):
    url = make_repo(
        tmp_path,
        "big",
        [
            (JAN_10, {"data/raw.bin": noise(3_000_000, 1), "reports/README.md": b"draft\n"}),
            (JAN_20, {"models/model.pt": noise(2_000_000, 2), "reports/README.md": report_text}),
        ],
    )
    workdir = tmp_path / "work"
    workdir.mkdir()

    fetched = fetch(
        url,
        tmp_path,
        allowed=["file://"],
        before=before,
        workdir=workdir,
        max_bytes=10_000_000,
        max_report_bytes=1_000_000,
        max_figure_bytes=1_000_000,
    )

    assert fetched.readme == report_text
    downloaded = sum(p.stat().st_size for p in workdir.rglob("*") if p.is_file())
    assert downloaded < 200_000  # the 5 MB of data and model files stayed on the server
    assert [p.name for p in workdir.rglob("*") if p.name in ("reports", "README.md", "data")] == []


# --- what is read of reports/ --------------------------------------------------------------------------------------


def test_a_repo_without_reports_gives_nothing(tmp_path):
    url = make_repo(tmp_path, "noreports", [(JAN_10, {"README.md": b"# our project\n", "src/a.py": b"x = 1\n"})])

    fetched = fetch(url, tmp_path)

    assert (fetched.readme, fetched.figures, fetched.skipped) == (None, {}, [])


def test_symlinks_are_skipped_and_their_targets_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret contents")
    url = make_repo(
        tmp_path,
        "links",
        [
            (
                JAN_10,
                {
                    "reports/README.md": Symlink(str(secret)),
                    "reports/figures/passwd.png": Symlink("/etc/passwd"),
                    "reports/figures/secret.png": Symlink(str(secret)),
                },
            )
        ],
    )

    fetched = fetch(url, tmp_path)

    assert fetched.readme is None
    assert fetched.figures == {}
    assert fetched.skipped == [
        ("reports/README.md", "a symbolic link; only regular files are read"),
        ("reports/figures/passwd.png", "a symbolic link; only regular files are read"),
        ("reports/figures/secret.png", "a symbolic link; only regular files are read"),
    ]


def test_figures_folder_that_is_a_symlink_is_skipped(tmp_path, report_text):
    url = make_repo(
        tmp_path, "linkdir", [(JAN_10, {"reports/README.md": report_text, "reports/figures": Symlink("/")})]
    )

    fetched = fetch(url, tmp_path)

    assert fetched.readme == report_text
    assert fetched.skipped == [("reports/figures", "a symbolic link, not a folder")]


def test_only_png_and_jpeg_files_with_plain_names_directly_in_figures_are_read(tmp_path):
    url = make_repo(
        tmp_path,
        "names",
        [
            (
                JAN_10,
                {
                    "reports/figures/Screenshot 2025-01-10 at 12.00.png": b"a",
                    "reports/figures/træning (1).JPG": b"b",
                    "reports/figures/photo.jpeg": b"c",
                    "reports/figures/nested/deep.png": b"d",
                    "reports/figures/plot.svg": b"<svg/>",
                    "reports/figures/50%.png": b"e",
                    "reports/figures/odd\tname.png": b"f",
                    "reports/figures/.gitkeep": b"",
                    "reports/figures/" + "x" * 101 + ".png": b"g",
                    "reports/notes/README.md": b"not the report",
                    "reports/figure.png": b"beside the folder",
                },
            )
        ],
    )

    fetched = fetch(url, tmp_path)

    assert fetched.figures == {"Screenshot 2025-01-10 at 12.00.png": b"a", "træning (1).JPG": b"b", "photo.jpeg": b"c"}
    assert sorted(fetched.skipped) == [
        ("reports/figures/50%.png", ODD_NAME),
        ("reports/figures/nested", "a folder; only files directly in reports/figures/ are read"),
        ("reports/figures/odd\\tname.png", ODD_NAME),
        ("reports/figures/plot.svg", "not a .png, .jpg or .jpeg file"),
        ("reports/figures/" + "x" * 101 + ".png", "the name is longer than 100 characters"),
    ]


def test_names_a_checkout_on_windows_or_macos_cannot_hold_are_skipped(tmp_path):
    """Names that differ only in case are one file there (the first by name is read), device names (CON, NUL, COM1,
    with any extension) cannot be created, and a final dot or space is dropped."""
    files = ["Plot.png", "plot.png", "CON.png", "nul.jpg", "com1.png", "Lpt9.old.png", "aux .png", "con.PNG"]
    files += ["plot.png.", "plot.png ", "console.png", "conference.jpg"]
    url = make_repo(tmp_path, "names", [(JAN_10, {f"reports/figures/{name}": name.encode() for name in files})])

    fetched = fetch(url, tmp_path)

    assert fetched.figures == {
        "Plot.png": b"Plot.png",
        "console.png": b"console.png",
        "conference.jpg": b"conference.jpg",
    }
    clash = scraping.CASE_CLASH.format(other="Plot.png")
    reserved, ends = scraping.RESERVED_NAME, scraping.ENDS_ODDLY
    assert sorted(fetched.skipped) == [
        ("reports/figures/CON.png", reserved),
        ("reports/figures/Lpt9.old.png", reserved),
        ("reports/figures/aux .png", reserved),
        ("reports/figures/com1.png", reserved),
        ("reports/figures/con.PNG", reserved),
        ("reports/figures/nul.jpg", reserved),
        ("reports/figures/plot.png", clash),
        ("reports/figures/plot.png ", ends),
        ("reports/figures/plot.png.", ends),
    ]


def test_at_most_max_figures_are_read_the_first_by_name_and_the_rest_never_fetched(tmp_path):
    names = ["e.png", "a.png", "d.jpg", "c.png", "b.png"]
    url = make_repo(tmp_path, "many", [(JAN_10, {f"reports/figures/{name}": name.encode() for name in names})])
    workdir = tmp_path / "work"
    workdir.mkdir()

    fetched = fetch(url, tmp_path, workdir=workdir, max_figures=3)

    assert fetched.figures == {"a.png": b"a.png", "b.png": b"b.png", "c.png": b"c.png"}
    too_many = "more than 3 figures; only the first 3 by name are read"
    assert fetched.skipped == [("reports/figures/d.jpg", too_many), ("reports/figures/e.png", too_many)]
    downloaded = {name for name in names if has_blob(workdir / "repo.git", name.encode())}
    assert downloaded == {"a.png", "b.png", "c.png"}


def has_blob(repo: Path, data: bytes) -> bool:
    """Whether the clone holds the blob of `data` (without fetching it from its server)."""
    blob_id = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    env = {**os.environ, "GIT_NO_LAZY_FETCH": "1"}
    check = subprocess.run(["git", "--git-dir", str(repo), "cat-file", "-e", blob_id], env=env, capture_output=True)
    return check.returncode == 0


def test_a_long_list_of_skipped_files_is_cut_short_and_counted(tmp_path, report_text):
    odd = {f"reports/figures/{n:03}%.png": b"x" for n in range(150)}
    url = make_repo(tmp_path, "odd", [(JAN_10, {"reports/README.md": report_text, **odd})])

    fetched = fetch(url, tmp_path)

    assert fetched.readme == report_text
    assert fetched.skipped == [
        *((f"reports/figures/{n:03}%.png", ODD_NAME) for n in range(100)),
        ("reports/figures/", "and 50 more files skipped, not listed here"),
    ]


def test_files_over_their_size_limit_are_skipped_unread(tmp_path):
    url = make_repo(
        tmp_path,
        "large",
        [
            (
                JAN_10,
                {
                    "reports/README.md": b"# report\n" * 20_000,
                    "reports/figures/huge.png": noise(300_000),
                    "reports/figures/small.png": png_bytes(),
                },
            )
        ],
    )

    fetched = fetch(url, tmp_path, max_report_bytes=100_000, max_figure_bytes=200_000)

    assert fetched.readme is None
    assert fetched.figures == {"small.png": png_bytes()}
    assert fetched.skipped == [
        ("reports/README.md", "176 kB; a report may be at most 98 kB"),
        ("reports/figures/huge.png", "293 kB; a figure may be at most 195 kB"),
    ]


def test_files_beyond_the_total_limit_are_skipped_the_report_first_in_line(tmp_path, report_text):
    url = make_repo(
        tmp_path,
        "total",
        [
            (
                JAN_10,
                {
                    "reports/README.md": report_text,
                    "reports/figures/a.png": noise(40_000, 1),
                    "reports/figures/b.png": noise(40_000, 2),
                    "reports/figures/c.png": noise(40_000, 3),
                },
            )
        ],
    )

    fetched = fetch(url, tmp_path, max_bytes=100_000)

    assert fetched.readme == report_text
    assert sorted(fetched.figures) == ["a.png", "b.png"]
    assert fetched.skipped == [("reports/figures/c.png", "the files in reports/ add up to more than 98 kB")]


def test_figures_far_beyond_the_total_limit_are_cut_off_and_the_report_still_read(tmp_path, report_text):
    url = make_repo(
        tmp_path,
        "flood",
        [
            (
                JAN_10,
                {"reports/README.md": report_text} | {f"reports/figures/{n}.png": noise(400_000, n) for n in range(5)},
            )
        ],
    )
    workdir = tmp_path / "work"
    workdir.mkdir()

    fetched = fetch(
        url,
        tmp_path,
        allowed=["file://"],
        workdir=workdir,
        max_bytes=500_000,
        max_report_bytes=1_000_000,
        max_figure_bytes=1_000_000,
    )

    assert fetched.readme == report_text
    assert fetched.figures == {}
    reason = "the files in reports/figures/ add up to more than 488 kB; none was read"
    assert fetched.skipped == [(f"reports/figures/{n}.png", reason) for n in range(5)]
    assert max(p.stat().st_size for p in workdir.rglob("*") if p.is_file()) <= 500_000 + 64 * 1024


def test_a_report_far_beyond_its_limit_is_cut_off_too(tmp_path):
    files = {"reports/README.md": noise(300_000)} | {f"reports/figures/{n}.png": noise(400_000, n) for n in range(5)}
    url = make_repo(tmp_path, "flood2", [(JAN_10, files)])

    fetched = fetch(url, tmp_path, max_bytes=500_000, max_report_bytes=100_000)

    assert (fetched.readme, fetched.figures) == (None, {})
    reason = "the files in reports/figures/ add up to more than 488 kB; none was read"
    assert fetched.skipped == [(f"reports/figures/{n}.png", reason) for n in range(5)] + [
        ("reports/README.md", "larger than 98 kB, the limit for a report")
    ]


# --- refused and unreachable ---------------------------------------------------------------------------------------


@pytest.fixture
def no_git(monkeypatch):
    """Any attempt to start a process fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(scraping.subprocess, "Popen", refuse)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://gitlab.com/acme/mlops", "the repo URL must start with https://github.com/"),
        ("https://user:token@github.com/acme/mlops", "the repo URL must not contain a user name or password"),
        ("file:///etc/passwd-repo.git", "the repo URL must start with https://github.com/"),
        ("ext::sh", URL_TRANSPORT),
        ("", "the group has no repo URL"),
    ],
)
def test_urls_off_the_policy_are_refused_without_running_git(tmp_path, no_git, url, reason):
    with pytest.raises(RepoRefused) as caught:
        fetch(
            url,
            tmp_path,
            allowed=["https://github.com/"],
            workdir=tmp_path,
            max_bytes=1,
            max_report_bytes=1,
            max_figure_bytes=1,
        )
    assert str(caught.value) == reason
    assert list(tmp_path.iterdir()) == []


def test_a_missing_repo_is_unreachable(tmp_path):
    with pytest.raises(RepoUnreachable) as caught:
        fetch(f"file://{tmp_path}/nothing-here.git", tmp_path)
    assert str(caught.value) == "there is no git repo at that URL"


def test_a_git_that_hangs_is_stopped_with_its_children(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\nsleep 60 &\nwait\n")  # a child holding git's output open, as git-remote-https does
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    workdir = tmp_path / "work"
    workdir.mkdir()
    started = time.monotonic()

    with pytest.raises(RepoUnreachable) as caught:
        fetch(
            f"file://{tmp_path}/slow.git",
            tmp_path,
            allowed=["file://"],
            workdir=workdir,
            timeout=1,
            max_bytes=1,
            max_report_bytes=1,
            max_figure_bytes=1,
        )

    assert str(caught.value) == "git took longer than 1 s (setting SCRAPE_TIMEOUT) and was stopped"
    assert time.monotonic() - started < 10


def test_file_urls_need_the_allow_list_even_when_git_would_take_them(tmp_path, two_commits, no_git):
    with pytest.raises(RepoRefused):
        fetch(
            two_commits.removeprefix("file://"),
            tmp_path,
            allowed=["file://"],
            workdir=tmp_path,
            max_bytes=1,
            max_report_bytes=1,
            max_figure_bytes=1,
        )


# --- the URL rule (check_url): what git will see is what is checked -----------------------------------------------

ALLOWED = ["https://github.com/", "file:///srv/repos/"]
OFF_PREFIX = "the repo URL must start with https://github.com/ or file:///srv/repos/"


@pytest.mark.parametrize(
    ("url", "checked"),
    [
        (" https://github.com/acme/mlops ", "https://github.com/acme/mlops"),
        ("https://github.com/acme/mlops.git", "https://github.com/acme/mlops.git"),
        ("https://github.com/acme/ml%6Fps", "https://github.com/acme/mlops"),  # decoded, as git would
        ("https://github.com/acme/my..repo.v2", "https://github.com/acme/my..repo.v2"),  # dots, not dot segments
        ("https://github.com/acme/x@y", "https://github.com/acme/x@y"),  # an @ in the path is no user name
        ("file:///srv/repos/g1.git", "file:///srv/repos/g1.git"),
        ("file:///srv/repos/", "file:///srv/repos/"),
    ],
)
def test_check_url_accepts_urls_under_an_allowed_prefix(url, checked):
    assert check_url(url, ALLOWED) == checked
    assert check_url(checked, ALLOWED) == checked  # what it gives is checked again unchanged


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", URL_MISSING),
        ("   ", URL_MISSING),
        ("file:///srv/repos/%2e%2e/outside/x.git", URL_DOTS),  # git decodes it to /srv/outside/x.git
        ("file:///srv/repos/%2E%2e/outside/x.git", URL_DOTS),
        ("file:///srv/repos/g1/%2e%2e/%2e%2e/x.git", URL_DOTS),
        ("file:///srv/repos/../outside/x.git", URL_DOTS),
        ("file:///srv/repos/./x.git", URL_DOTS),
        ("file:///srv/repos/x.git/..", URL_DOTS),
        ("file:///srv/repos/..%2foutside/x.git", URL_HIDDEN),
        ("file:///srv/repos/..%2Foutside/x.git", URL_HIDDEN),
        ("file:///srv/repos/..%5coutside", URL_HIDDEN),
        ("file:///srv/repos/x.git%00", URL_HIDDEN),
        ("file:///srv/repos/%252e%252e/x.git", URL_HIDDEN),  # decoded twice it would be ..
        ("file:///srv/repos/x%", URL_HIDDEN),
        ("file:///srv/repos/x%zz", URL_HIDDEN),
        ("file:///srv/repos/x%ff", URL_NOT_UTF8),
        ("file:///srv/repos/a%0ab", URL_SPACES),
        ("file:///srv/repos/a%20b", URL_SPACES),
        ("https://github.com/acme/ml ops", URL_SPACES),
        ("https://github.com/acme/ml\tops", URL_SPACES),
        ("https://github.com/acme/\u200bmlops", URL_SPACES),
        ("https://github.com/acme/\x7fmlops", URL_SPACES),
        ("https://github.com/acme\\..\\x", URL_BACKSLASH),
        ("ext::sh -c x", URL_SPACES),
        ("ext::sh", URL_TRANSPORT),
        ("https://github.com/acme/x::y", URL_TRANSPORT),
        ("-uhttps://github.com/acme/x", URL_DASH),
        ("--upload-pack=touch /tmp/x", URL_DASH),
        ("https://user@github.com/acme/x", URL_CREDENTIALS),
        ("https://user:pw@github.com/acme/x", URL_CREDENTIALS),
        ("https://github.com%40evil.example/acme/x", URL_CREDENTIALS),
        ("https://github.com/acme/x?ref=main", URL_QUERY),
        ("https://github.com/acme/x#main", URL_QUERY),
        ("https://github.com/acme/x%3Fref=main", URL_QUERY),
        ("https://github.com/acme/x%23main", URL_QUERY),
        ("file:///srv/repos-evil/x.git", OFF_PREFIX),
        ("file:///srv/repos", OFF_PREFIX),
        ("https://github.com.evil.example/acme/x", OFF_PREFIX),
        ("http://github.com/acme/x", OFF_PREFIX),
        ("/srv/repos/x.git", OFF_PREFIX),
    ],
)
def test_check_url_refuses_with_the_reason(url, reason):
    with pytest.raises(RepoRefused) as caught:
        check_url(url, ALLOWED)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://github.com/acme/x", True),
        ("https://github.com/acme", True),
        ("https://github.com/acme-evil/x", False),
        ("https://github.com/acmex", False),
    ],
)
def test_a_prefix_without_a_slash_matches_on_a_path_segment_boundary(url, allowed):
    prefix = ["https://github.com/acme"]
    if allowed:
        assert check_url(url, prefix) == url
    else:
        with pytest.raises(RepoRefused) as caught:
            check_url(url, prefix)
        assert str(caught.value) == "the repo URL must start with https://github.com/acme"


def test_an_encoded_dot_url_escaping_the_allowed_folder_is_never_fetched(tmp_path, report_text):
    (tmp_path / "allowed").mkdir()
    outside = make_repo(tmp_path, "outside", [(JAN_10, {"reports/README.md": report_text})])
    assert fetch(outside, tmp_path).readme == report_text  # a real repo, that git reads when it is allowed

    with pytest.raises(RepoRefused) as caught:
        fetch(f"file://{tmp_path}/allowed/%2e%2e/outside.git", tmp_path, allowed=[f"file://{tmp_path}/allowed/"])
    assert str(caught.value) == URL_DOTS


def test_a_scrape_of_a_repo_url_stored_raw_that_escapes_is_refused_by_policy(group1, tmp_path, settings, report_text):
    (tmp_path / "allowed").mkdir()
    make_repo(tmp_path, "outside", [(JAN_10, {"reports/README.md": report_text})])
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/allowed/"]
    group1.repo_url = f"file://{tmp_path}/allowed/%2e%2e/outside.git"  # as an old row, or a raw update, may hold
    group1.save(update_fields=["repo_url"])

    scrape = group_scrape(group=group1, at_deadline=False)

    assert (scrape.status, scrape.message, scrape.commit_sha) == ("refused", URL_DOTS, "")
    assert scrape.get_status_display() == "refused by policy"
    assert not Answer.objects.filter(report__group=group1).exclude(text="").exists()
