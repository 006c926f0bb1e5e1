"""Checking an export's READMEs against its manifest.json and, on request, against the groups' repos.

Each group folder's README.md must hash to the git blob id and the sha256 that the manifest records for it, so a
README changed after the export is caught. With the repos, a README the manifest calls the committed file must be the
blob that `reports/README.md` is at the recorded commit of the group's repo (read through scraping.py: commits and
trees only, no file contents). The zip and its manifest are not trusted: whatever is odd in them is a mismatch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from . import scraping
from .engine.readme_file import git_blob_id
from .exporting import MANIFEST_FILE
from .models import Course, Group

MAX_README_BYTES = 64 * 1024 * 1024  # what we read of an entry (a tampered zip may claim anything)
_FOLDER = re.compile(r"group-\d{3,}\Z")

NOT_A_ZIP = "{path}: not a zip file ({why})"
NO_MANIFEST = f"{{path}}: has no {MANIFEST_FILE}: not an export, or one made before exports recorded their READMEs"
BAD_MANIFEST = f"{{path}}: {MANIFEST_FILE} cannot be read ({{why}})"

OK = "ok"
IN_REPO = "ok, the file committed at {commit}"
REBUILT = "rebuilt on the site, not the committed file"
MISMATCH = "MISMATCH: {why}"
NOT_CHECKED = "NOT CHECKED: {why}"
NO_README = "README.md is not in the zip"
TOO_LARGE = f"README.md is larger than {MAX_README_BYTES // 2**20} MiB"
NOT_LISTED = f"README.md is not in {MANIFEST_FILE}"
BAD_ENTRY = f"its entry in {MANIFEST_FILE} is not what an export writes ({{why}})"
BLOB_DIFFERS = "README.md hashes to blob {actual}, the manifest records {recorded}"
SHA256_DIFFERS = "README.md has sha256 {actual}, the manifest records {recorded}"
NO_COMMIT = "the manifest calls it the committed file but names no commit"
NO_GROUP = "course {course} has no group {number} on this site"
NO_REPO = "group {number} has no repo URL on this site"
UNREADABLE = "the repo could not be read: {why}"
NOT_IN_COMMIT = "the repo has no reports/README.md at commit {commit}"
OTHER_BLOB = "the repo's reports/README.md at commit {commit} is blob {actual}, not {recorded}"


@dataclass(frozen=True)
class FolderCheck:
    folder: str
    ok: bool  # False: a mismatch, or a check that could not be made
    message: str

    def __str__(self) -> str:
        return f"{self.folder}: {self.message}"


def verify_export(path: Path, *, repos: bool = False) -> list[FolderCheck]:
    """A check per group folder of the export at `path`, in folder order; ValueError, with a sentence, when the file
    is not an export with a manifest at all. With `repos`, each committed README is looked up in its group's repo
    (the group found by the manifest's course code and the group's number), SCRAPE_WORKERS repos at once."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ValueError(NOT_A_ZIP.format(path=path, why=getattr(error, "strerror", None) or error)) from None
    with archive:
        manifest = _manifest(archive, path)
        entries = manifest["groups"]
        folders = sorted(set(entries) | {name.split("/")[0] for name in archive.namelist() if _is_readme(name)})
        checks = [_check_file(archive, folder, entries.get(folder)) for folder in folders]
    if repos:
        groups = _groups(manifest["course"])
        # SCRAPE_WORKERS repos read at once, at most SCRAPE_PER_HOST of them from one host, as a scrape reads them
        hosts = {_host(g.repo_url): threading.BoundedSemaphore(settings.SCRAPE_PER_HOST) for g in groups.values()}

        def check_repo(check: FolderCheck) -> FolderCheck:
            if not (check.ok and entries[check.folder]["committed"]):
                return check
            group = groups.get(entries[check.folder]["group"])
            with hosts[_host(group.repo_url)] if group is not None else contextlib.nullcontext():
                return _check_repo(check, entries[check.folder], manifest["course"], groups)

        with ThreadPoolExecutor(max_workers=max(1, settings.SCRAPE_WORKERS)) as pool:
            checks = list(pool.map(check_repo, checks))
    return checks


def _host(url: str) -> str:
    return urlsplit(url.strip()).netloc.lower()


def _is_readme(name: str) -> bool:
    folder, _, rest = name.partition("/")
    return rest == "README.md" and _FOLDER.match(folder) is not None


def _manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    """manifest.json, its shape checked: {"course": str, "groups": {folder: {...}}}."""
    try:
        info = archive.getinfo(MANIFEST_FILE)
    except KeyError:
        raise ValueError(NO_MANIFEST.format(path=path)) from None
    try:
        if info.file_size > MAX_README_BYTES:
            raise ValueError("it is too large")
        manifest = json.loads(archive.read(info))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("course"), str):
            raise ValueError("no course code")
        if not isinstance(manifest.get("groups"), dict):
            raise ValueError("no groups")
    except (ValueError, zipfile.BadZipFile, OSError) as error:
        raise ValueError(BAD_MANIFEST.format(path=path, why=error)) from None
    return manifest


def _entry_problem(folder: str, entry: object) -> str:
    """What is wrong with a group's manifest entry, '' when nothing."""
    if not isinstance(entry, dict):
        return "not an object"
    for key, kind in (("group", int), ("commit", str), ("readme_blob", str), ("readme_sha256", str)):
        if not isinstance(entry.get(key), kind):
            return f"no {key}"
    if not isinstance(entry.get("committed"), bool):
        return "no committed"
    if folder != f"group-{entry['group']:03d}":
        return f"it names group {entry['group']}"
    return ""


def _check_file(archive: zipfile.ZipFile, folder: str, entry: dict | None) -> FolderCheck:
    """The folder's README.md against its manifest entry."""
    if entry is None:
        return FolderCheck(folder, False, MISMATCH.format(why=NOT_LISTED))
    if problem := _entry_problem(folder, entry):
        return FolderCheck(folder, False, MISMATCH.format(why=BAD_ENTRY.format(why=problem)))
    try:
        info = archive.getinfo(f"{folder}/README.md")
    except KeyError:
        return FolderCheck(folder, False, MISMATCH.format(why=NO_README))
    if info.file_size > MAX_README_BYTES:
        return FolderCheck(folder, False, MISMATCH.format(why=TOO_LARGE))
    try:
        data = archive.read(info)
    except (zipfile.BadZipFile, OSError) as error:  # a CRC that does not match: the entry was changed in place
        return FolderCheck(folder, False, MISMATCH.format(why=f"README.md cannot be read ({error})"))
    blob, digest = git_blob_id(data), hashlib.sha256(data).hexdigest()
    if blob != entry["readme_blob"]:
        why = BLOB_DIFFERS.format(actual=blob, recorded=entry["readme_blob"][:64])
        return FolderCheck(folder, False, MISMATCH.format(why=why))
    if digest != entry["readme_sha256"]:
        why = SHA256_DIFFERS.format(actual=digest, recorded=entry["readme_sha256"][:64])
        return FolderCheck(folder, False, MISMATCH.format(why=why))
    return FolderCheck(folder, True, OK if entry["committed"] else REBUILT)


def _groups(course_code: str) -> dict[int, Group]:
    """The course's groups by number (none when the site has no such course)."""
    course = Course.objects.filter(code=course_code).first()
    return {} if course is None else {group.number: group for group in course.groups.all()}


def _check_repo(check: FolderCheck, entry: dict, course: str, groups: dict[int, Group]) -> FolderCheck:
    """A committed README (its bytes checked already) against its group's repo at the recorded commit."""
    number, commit, recorded = entry["group"], entry["commit"], entry["readme_blob"]
    group = groups.get(number)
    if not commit:
        return FolderCheck(check.folder, False, MISMATCH.format(why=NO_COMMIT))
    if group is None:
        return FolderCheck(check.folder, False, NOT_CHECKED.format(why=NO_GROUP.format(course=course, number=number)))
    if not group.repo_url:
        return FolderCheck(check.folder, False, NOT_CHECKED.format(why=NO_REPO.format(number=number)))
    try:
        with tempfile.TemporaryDirectory(prefix="verify-") as workdir:
            actual = scraping.readme_blob_at(
                group.repo_url,
                allowed=settings.SCRAPE_ALLOWED_URLS,
                commit=commit,
                workdir=Path(workdir),
                timeout=settings.SCRAPE_TIMEOUT,
                credentials=settings.SCRAPE_CREDENTIALS,
            )
    except scraping.RepoUnreachable as error:
        if str(error) == scraping.COMMIT_NOT_IN_REPO.format(commit=commit):
            return FolderCheck(check.folder, False, MISMATCH.format(why=str(error)))
        return FolderCheck(check.folder, False, NOT_CHECKED.format(why=UNREADABLE.format(why=error)))
    except scraping.RepoError as error:  # refused by the URL rule
        return FolderCheck(check.folder, False, NOT_CHECKED.format(why=UNREADABLE.format(why=error)))
    except ValueError as error:  # the manifest's commit is no commit id
        return FolderCheck(check.folder, False, MISMATCH.format(why=BAD_ENTRY.format(why=error)))
    if actual is None:
        return FolderCheck(check.folder, False, MISMATCH.format(why=NOT_IN_COMMIT.format(commit=commit)))
    if actual != recorded:
        why = OTHER_BLOB.format(commit=commit, actual=actual, recorded=recorded)
        return FolderCheck(check.folder, False, MISMATCH.format(why=why))
    return FolderCheck(check.folder, True, IN_REPO.format(commit=commit))
