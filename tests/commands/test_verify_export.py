"""`manage.py verify_export FILE.zip [--repos]`: each archived README.md against the blob id its manifest records,
and against the group's repo at the recorded commit. Real exports of groups scraped from real local git repos."""

import hashlib
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from reports_app import exporting
from reports_app.engine.readme_file import git_blob_id
from reports_app.models import Group, Question, Report
from reports_app.services.answers import answer_save
from reports_app.services.scrapes import group_scrape
from tests.helpers.git_http import git_http_server
from tests.helpers.repos import FILLED, JAN_10, JAN_20, make_repo, sha_of, with_answer

COMMITTED = b"\xef\xbb\xbf" + FILLED.replace(b"\n", b" \r\n")  # a BOM, CRLF line ends, a trailing space on each
OTHER = with_answer("s999999, in a repo of another group").replace(b"\n", b"\r\n")


@pytest.fixture(autouse=True)
def _file_urls(settings, tmp_path):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]


def scrape(group: Group, url: str) -> None:
    group.repo_url = url
    group.save(update_fields=["repo_url"])
    assert group_scrape(group=group, at_deadline=False).readme_blob


@pytest.fixture
def repos(tmp_path, group1, group2) -> dict[int, str]:
    """Group 1 and 2 scraped from their own repos (group 2's file changed in a second commit)."""
    urls = {
        1: make_repo(tmp_path, "one", [(JAN_10, {"reports/README.md": COMMITTED})]),
        2: make_repo(
            tmp_path, "two", [(JAN_10, {"reports/README.md": FILLED}), (JAN_20, {"reports/README.md": OTHER})]
        ),
    }
    scrape(group1, urls[1])
    scrape(group2, urls[2])
    return urls


@pytest.fixture
def exported(repos, course, tmp_path) -> Path:
    target = tmp_path / "export.zip"
    exporting.export_to_path(course=course, target=target, workers=1)
    return target


def verify(path: Path, *args: str) -> tuple[str, str | None]:
    """The command's output, and its error (None when it exits 0)."""
    out = StringIO()
    try:
        call_command("verify_export", str(path), *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def rewrite(source: Path, target: Path, changes: dict[str, bytes]) -> Path:
    """A copy of the zip `source` with the entries in `changes` replaced by those bytes."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, changes.get(info.filename, old.read(info)))
    return target


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_a_fresh_export_verifies(exported):
    out, error = verify(exported)
    assert error is None
    assert out.splitlines() == ["group-001: ok", "group-002: ok", "2 READMEs: 2 ok, 0 rebuilt on the site, 0 failed"]


def test_a_fresh_export_verifies_against_the_repos(exported, repos):
    out, error = verify(exported, "--repos")
    assert error is None
    assert out.splitlines()[:2] == [
        f"group-001: ok, the file committed at {sha_of(repos[1])}",
        f"group-002: ok, the file committed at {sha_of(repos[2])}",
    ]


def test_a_tampered_readme_is_caught(exported, tmp_path):
    readme = read(exported, "group-001/README.md")
    tampered = readme.replace(b"\r\n", b"\n")  # what an editor that "fixes" line ends does
    forged = rewrite(exported, tmp_path / "tampered.zip", {"group-001/README.md": tampered})
    out, error = verify(forged)
    assert out.splitlines()[:2] == [
        f"group-001: MISMATCH: README.md hashes to blob {git_blob_id(tampered)}, the manifest records "
        f"{git_blob_id(readme)}",
        "group-002: ok",
    ]
    assert error == "1 of 2 READMEs do not match or could not be checked"


def test_a_readme_forged_with_its_manifest_is_caught_only_by_the_repo(exported, repos, tmp_path):
    forged_readme = read(exported, "group-001/README.md").replace(b"s123456", b"s654321")
    manifest = json.loads(read(exported, "manifest.json"))
    entry = manifest["groups"]["group-001"]
    entry["readme_blob"] = git_blob_id(forged_readme)
    entry["readme_sha256"] = hashlib.sha256(forged_readme).hexdigest()
    changes = {"group-001/README.md": forged_readme, "manifest.json": json.dumps(manifest).encode()}
    forged = rewrite(exported, tmp_path / "forged.zip", changes)

    assert verify(forged)[1] is None  # consistent with itself
    out, error = verify(forged, "--repos")
    commit, blob = sha_of(repos[1]), git_blob_id(COMMITTED)
    assert out.splitlines()[0] == (
        f"group-001: MISMATCH: the repo's reports/README.md at commit {commit} is blob {blob}, "
        f"not {git_blob_id(forged_readme)}"
    )
    assert error == "1 of 2 READMEs do not match or could not be checked"


def test_a_commit_that_is_not_in_the_repo_is_a_mismatch(exported, repos, group1):
    group1.repo_url = repos[2]  # group 1's commit is not in group 2's repo
    group1.save(update_fields=["repo_url"])
    out, error = verify(exported, "--repos")
    commit = sha_of(repos[1])
    assert out.splitlines()[0] == f"group-001: MISMATCH: commit {commit} is not in the repo"
    assert error is not None


def test_a_readme_rebuilt_on_the_site_says_so_and_passes(repos, course, group1, tmp_path):
    report = Report.objects.get(group=group1)
    question = Question.objects.get(template=report.template, number=2)
    version = report.answers.get(question=question).version
    answer_save(report=report, question=question, text="s111111, s222222", base_version=version, user=None)
    target = tmp_path / "edited.zip"
    exporting.export_to_path(course=course, target=target, workers=1)

    out, error = verify(target, "--repos")
    assert error is None
    assert out.splitlines()[0] == "group-001: rebuilt on the site, not the committed file"
    assert out.splitlines()[-1] == "2 READMEs: 1 ok, 1 rebuilt on the site, 0 failed"


def test_a_readme_missing_from_the_zip_or_the_manifest_is_a_mismatch(exported, tmp_path):
    manifest = json.loads(read(exported, "manifest.json"))
    del manifest["groups"]["group-002"]
    forged = rewrite(exported, tmp_path / "unlisted.zip", {"manifest.json": json.dumps(manifest).encode()})
    out, error = verify(forged)
    assert "group-002: MISMATCH: README.md is not in manifest.json" in out.splitlines()
    assert error is not None


def test_a_file_that_is_no_export_gets_a_sentence(tmp_path):
    not_zip = tmp_path / "notes.zip"
    not_zip.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match=r"notes\.zip: not a zip file"):
        call_command("verify_export", str(not_zip))
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("group-001/README.md", b"# R\n")
    with pytest.raises(CommandError, match=r"plain\.zip: has no manifest\.json"):
        call_command("verify_export", str(plain))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("manifest.json", b"{")
    with pytest.raises(CommandError, match=r"broken\.zip: manifest\.json cannot be read"):
        call_command("verify_export", str(broken))


def test_a_commit_in_the_manifest_that_is_no_commit_id_is_never_given_to_git(exported, tmp_path):
    manifest = json.loads(read(exported, "manifest.json"))
    manifest["groups"]["group-001"]["commit"] = "--upload-pack=touch /tmp/x"
    forged = rewrite(exported, tmp_path / "odd.zip", {"manifest.json": json.dumps(manifest).encode()})
    out, error = verify(forged, "--repos")
    assert out.splitlines()[0].startswith("group-001: MISMATCH: its entry in manifest.json is not what an export")
    assert "is not a git object id" in out.splitlines()[0]
    assert error is not None


@pytest.mark.timeout(120)
def test_the_repos_are_read_in_parallel_at_most_per_host_at_once(settings, tmp_path, course):
    for n in range(1, 7):
        make_repo(tmp_path / "served", f"g{n}", [(JAN_10, {"reports/README.md": with_answer(f"s00000{n}")})])
    settings.SCRAPE_PER_HOST, settings.SCRAPE_WORKERS = 2, 6
    with git_http_server(tmp_path / "served", delay=0.1) as server:  # each answer held 0.1 s: the reads overlap
        settings.SCRAPE_ALLOWED_URLS = [server.url]
        for n in range(1, 7):
            scrape(Group.objects.create(course=course, number=n), f"{server.url}g{n}.git")  # one at a time
        exporting.export_to_path(course=course, target=tmp_path / "export.zip", workers=1)
        out, error = verify(tmp_path / "export.zip", "--repos")

    assert error is None
    assert [line.split(": ")[0] for line in out.splitlines()[:6]] == [f"group-00{n}" for n in range(1, 7)]
    assert all(": ok, the file committed at " in line for line in out.splitlines()[:6])
    assert server.most_at_once == 2
