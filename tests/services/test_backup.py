"""Backup and restore of the whole site: `manage.py backup` writes one tar, `manage.py restore` (run as a separate
process against a fresh database and media folder) gives back the same site, and refuses a tar it cannot trust.

The tests commit their data (`transaction=True`) so that pg_dump and the restoring process see it.
"""

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from reports_app import backups
from reports_app.models import Answer, AnswerRevision, Figure, Job, Report, ReportTemplate, Scrape
from reports_app.services.answers import AnswerConflict, answer_save, checklist_set
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group, report_markdown
from tests.conftest import DEMO_TEMPLATE, jpeg_bytes, png_bytes
from tests.helpers.processes import ROOT, database_url, is_sqlite, site_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(group1, group2, instructor):
    """Two groups with answers in several versions, a conflict, checklist marks, figures, a scrape and an export job;
    beside the figures, an export zip, a partial upload and a symbolic link that a backup leaves out."""
    alice, charlie = get_user_model().objects.get(username="alice"), get_user_model().objects.get(username="charlie")
    questions = list(group1.course.template.questions.order_by("number"))
    one, two = report_for_group(group1), report_for_group(group2)
    for version, text in enumerate(["First try.", "Second try, longer.", "Third try ![plot](figures/plot.png)"]):
        answer_save(report=one, question=questions[0], text=text, base_version=version, user=alice)
    answer_save(report=one, question=questions[1], text="We used *DVC*.", base_version=0, user=alice)
    with pytest.raises(AnswerConflict):
        answer_save(report=one, question=questions[1], text="A stale edit.", base_version=0, user=alice)
    answer_save(report=two, question=questions[2], text="Group two's answer.", base_version=0, user=charlie)
    checklist_set(report=one, changes={1: True, 3: True}, user=alice)
    checklist_set(report=two, changes={2: True}, user=charlie)
    figure_add(report=one, data=png_bytes(4, 3, "red"), wanted_name="plot.png", user=alice)
    figure_add(report=one, data=png_bytes(6, 5, "green"), wanted_name="loss.png", user=alice)
    figure_add(report=two, data=jpeg_bytes(8, 8, "blue"), wanted_name="arch.jpg", user=charlie)
    job = Job.objects.create(
        kind=Job.Kind.EXPORT, course=group1.course, status=Job.Status.DONE, file="exports/c1.zip", created_by=instructor
    )
    scrape = Scrape.objects.create(
        group=group1, job=job, repo_url="https://github.com/x/y", status=Scrape.Status.OK, fetched_at=timezone.now()
    )
    group1.last_scrape = scrape
    group1.save()
    media = Path(settings.MEDIA_ROOT)
    (media / "exports").mkdir()
    (media / "exports" / "c1.zip").write_bytes(b"PK an export")
    (media / "figures" / ".upload.png.1a2b.part").write_bytes(b"half")
    (media / "figures" / "elsewhere.png").symlink_to(DEMO_TEMPLATE)
    assert AnswerRevision.objects.filter(kind=AnswerRevision.Kind.CONFLICT).count() == 1
    return media


def media_tree(root: Path) -> dict[str, bytes]:
    """Every regular file under `root` (not following links) by its relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def backed_up_media(root: Path) -> dict[str, bytes]:
    return {
        name: data for name, data in media_tree(root).items() if name.startswith("figures/") and ".part" not in name
    }


def backup(out: Path) -> str:
    stdout = io.StringIO()
    call_command("backup", str(out), stdout=stdout)
    return stdout.getvalue()


def manage(*args: str, database: str, media: Path) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a process of its own, on the database at URL `database` and the media folder `media`."""
    env = site_env(DATABASE_URL=database, MEDIA_ROOT=str(media))
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def canonical_dump(text: str) -> list[dict]:
    return sorted(json.loads(text), key=lambda row: (row["model"], str(row["pk"])))


def dumpdata_here(tmp_path: Path) -> list[dict]:
    out = tmp_path / "here.json"
    call_command("dumpdata", output=str(out))
    return canonical_dump(out.read_text(encoding="utf-8"))


def dumpdata_of(database: str, media: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "there.json"
    result = manage("dumpdata", "--output", str(out), database=database, media=media)
    assert result.returncode == 0, result.stderr
    return canonical_dump(out.read_text(encoding="utf-8"))


MARKDOWN_OF_EVERY_REPORT = (
    "import json; from reports_app.services.reports import report_markdown; from reports_app.models import Report; "
    "print(json.dumps({r.group.number: report_markdown(r) for r in Report.objects.all()}))"
)


@pytest.fixture
def fresh_database(tmp_path):
    """The URL of a new, empty database beside the test database: a new SQLite file, or a new PostgreSQL database
    in the same cluster (dropped at the end)."""
    if is_sqlite():
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield f"{database_url().rsplit('/', 1)[0]}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restored_backup_is_the_same_site(site, tmp_path, fresh_database):
    out = tmp_path / "site.tar"
    printed = backup(out)
    assert printed.splitlines()[0].startswith(
        f"Wrote {out}: 2 groups, 2 reports, 3 answers, 3 figures, 3 media files, "
    )
    assert "course exports (they can be made again from the site): 1" in printed
    assert "partial files: 1" in printed and "symbolic links: 1" in printed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left beside it

    restored_media = tmp_path / "restored-media"
    result = manage("restore", str(out), database=fresh_database, media=restored_media)
    assert result.returncode == 0, result.stderr
    assert "2 groups, 2 reports, 3 answers, 3 figures, 3 media files" in result.stdout
    assert "run `manage.py migrate`" in result.stdout

    assert dumpdata_of(fresh_database, restored_media, tmp_path) == dumpdata_here(tmp_path)
    shell = manage(
        "shell", "--no-imports", "-c", MARKDOWN_OF_EVERY_REPORT, database=fresh_database, media=restored_media
    )
    assert shell.returncode == 0, shell.stderr
    markdown = {str(r.group.number): report_markdown(r) for r in Report.objects.select_related("group")}
    assert json.loads(shell.stdout) == markdown and "Third try ![plot](figures/plot.png)" in markdown["1"]
    original = backed_up_media(site)
    assert len(original) == 3 and {f.file.name for f in Figure.objects.all()} == set(original)
    assert media_tree(restored_media) == original  # byte for byte; no export, partial file or link


def test_the_manifest_describes_the_tar(site, tmp_path):
    out = tmp_path / "site.tar"
    backup(out)
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        database = tar.extractfile(names[0]).read()
    assert names[0] == ("database.sqlite3" if is_sqlite() else "database.dump") and names[-1] == "manifest.json"
    assert manifest["format_version"] == 1 and manifest["engine"] == connection.vendor
    assert manifest["database"]["sha256"] == hashlib.sha256(database).hexdigest()
    applied = MigrationRecorder(connection).applied_migrations()
    assert manifest["migrations"]["reports_app"] == max(name for app, name in applied if app == "reports_app")
    assert manifest["migrations"].keys() == {app for app, _ in applied}
    counts = {c["model"]: c["rows"] for c in manifest["counts"]}
    assert counts["auth.User"] == 4 and counts["reports_app.AnswerRevision"] == AnswerRevision.objects.count() == 6
    assert counts["reports_app.Answer"] == Answer.objects.count() and counts["reports_app.Scrape"] == 1
    media = backed_up_media(site)
    assert manifest["media"] == [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in media.items()
    ]
    assert names[1:-1] == [f"media/{name}" for name in media]


def test_restore_refuses_a_database_that_holds_a_site_unless_forced_which_replaces_it(site, tmp_path, fresh_database):
    out, media = tmp_path / "site.tar", tmp_path / "restored-media"
    backup(out)
    assert manage("restore", str(out), database=fresh_database, media=media).returncode == 0
    # The restored site goes on: new rows get new ids (the sequences came along too).
    loaded = manage("load_template", str(DEMO_TEMPLATE), "--name", "later", database=fresh_database, media=media)
    assert loaded.returncode == 0, loaded.stderr

    refused = manage("restore", str(out), database=fresh_database, media=media)
    assert refused.returncode == 1
    assert "the database already holds a site (4 users, 2 report templates, " in refused.stderr
    assert "run it with --force to do that" in refused.stderr and "Nothing was changed." in refused.stderr

    forced = manage("restore", "--force", str(out), database=fresh_database, media=media)
    assert forced.returncode == 0, forced.stderr
    assert dumpdata_of(fresh_database, media, tmp_path) == dumpdata_here(tmp_path)  # the later template is gone


def test_restore_refuses_the_test_database_in_this_process_too(site, tmp_path, settings):
    out = tmp_path / "site.tar"
    backup(out)
    settings.MEDIA_ROOT = tmp_path / "other-media"
    with pytest.raises(CommandError, match=r"already holds a site \(4 users, 1 report template, "):
        call_command("restore", str(out))
    assert ReportTemplate.objects.count() == 1 and not (tmp_path / "other-media").exists()


# Tars that are not what `backup` wrote: each is refused before anything is touched.


def tar_files(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers()}


def write_tar(path: Path, files: dict[str, bytes], *extra: tarfile.TarInfo) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return path


@pytest.fixture
def made(site, tmp_path, settings) -> dict[str, bytes]:
    """The members of a backup of the site; restores below go to an empty media folder."""
    backup(tmp_path / "site.tar")
    settings.MEDIA_ROOT = tmp_path / "target-media"
    return tar_files(tmp_path / "site.tar")


def refused(path: Path, tmp_path: Path) -> str:
    """Restore `path` in this process; it must fail, leaving the database and the media folder as they were."""
    rows = ReportTemplate.objects.count(), AnswerRevision.objects.count()
    with pytest.raises(CommandError) as error:
        call_command("restore", "--force", str(path))
    assert (ReportTemplate.objects.count(), AnswerRevision.objects.count()) == rows
    assert not (tmp_path / "target-media").exists() and not (tmp_path / "evil").exists()
    return str(error.value)


def test_a_changed_media_file_is_refused_naming_it(made, tmp_path):
    name = next(name for name in made if name.endswith(".jpg"))
    made[name] = made[name][:-1] + bytes([made[name][-1] ^ 1])
    message = refused(write_tar(tmp_path / "changed.tar", made), tmp_path)
    assert message.endswith(
        f"{name} does not match its sha256 in the manifest: the backup was changed or damaged. Nothing was changed."
    )


def test_a_changed_database_file_is_refused(made, tmp_path):
    database = "database.sqlite3" if is_sqlite() else "database.dump"
    made[database] += b"\0"
    message = refused(write_tar(tmp_path / "changed.tar", made), tmp_path)
    assert f"{database} has {len(made[database])} bytes where the manifest says {len(made[database]) - 1}" in message


def member(name: str, kind: bytes, linkname: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, linkname, size
    return info


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (member("../evil", tarfile.REGTYPE, size=4), "'../evil' is not a plain relative path"),
        (member("media/../../evil", tarfile.REGTYPE, size=4), "'media/../../evil' is not a plain relative path"),
        (member("media/figures/link", tarfile.SYMTYPE, "../../../evil"), "'media/figures/link' is a symbolic link"),
        (member("media/figures/hard", tarfile.LNKTYPE, "../../evil"), "'media/figures/hard' is a hard link"),
        (member("media/null", tarfile.CHRTYPE), "'media/null' is a device or other special file"),
        (member("media/figures", tarfile.DIRTYPE), "'media/figures' is a folder"),
    ],
)
def test_a_tar_member_that_could_write_outside_media_root_is_refused(made, tmp_path, bad, why):
    """A crafted tar: everything of a real backup plus one member a naive extraction would write out of place."""
    message = refused(write_tar(tmp_path / "crafted.tar", made, bad), tmp_path)
    assert f"the tar is refused: {why}" in message


def test_an_absolute_member_is_refused(made, tmp_path):
    bad = member(str(tmp_path / "evil"), tarfile.REGTYPE, size=4)
    message = refused(write_tar(tmp_path / "crafted.tar", made, bad), tmp_path)
    assert f"the tar is refused: '{tmp_path}/evil' is not a plain relative path" in message


def test_a_member_not_in_the_manifest_is_refused(made, tmp_path):
    made["media/figures/extra.png"] = png_bytes()
    message = refused(write_tar(tmp_path / "extra.tar", made), tmp_path)
    assert "the tar does not match its manifest: media/figures/extra.png not in the manifest" in message


def test_a_tar_without_manifest_is_refused(made, tmp_path):
    del made["manifest.json"]
    message = refused(write_tar(tmp_path / "bare.tar", made), tmp_path)
    assert message.endswith(
        "the tar has no manifest.json: it is not a backup made by `manage.py backup`. Nothing was changed."
    )


def test_a_file_that_is_not_a_tar_is_refused(db, tmp_path):
    path = tmp_path / "notes.tar"
    path.write_text("not a tar", encoding="utf-8")
    with pytest.raises(CommandError, match=r"notes.tar is not a tar file"):
        call_command("restore", str(path))


def edit_manifest(made: dict[str, bytes], **changes) -> dict[str, bytes]:
    manifest = json.loads(made["manifest.json"])
    made["manifest.json"] = json.dumps(manifest | changes).encode()
    return made


def test_an_unknown_format_version_is_refused(made, tmp_path):
    message = refused(write_tar(tmp_path / "v2.tar", edit_manifest(made, format_version=2)), tmp_path)
    assert "manifest.json has format version 2; this version of the site reads version 1 only" in message


def test_a_backup_of_a_newer_version_is_refused(made, tmp_path):
    manifest = json.loads(made["manifest.json"])
    migrations = manifest["migrations"] | {"reports_app": "0999_from_the_future"}
    message = refused(write_tar(tmp_path / "newer.tar", edit_manifest(made, migrations=migrations)), tmp_path)
    assert "made by a newer version of the site (migrations unknown here: reports_app 0999_from_the_future)" in message


def test_a_backup_of_the_other_engine_is_refused(made, tmp_path):
    engine, other = ("sqlite", "postgresql") if is_sqlite() else ("postgresql", "sqlite")
    database = json.loads(made["manifest.json"])["database"] | {"path": backups.DATABASE_FILES[other]}
    made[backups.DATABASE_FILES[other]] = made.pop(backups.DATABASE_FILES[engine])
    message = refused(write_tar(tmp_path / "other.tar", edit_manifest(made, engine=other, database=database)), tmp_path)
    names = backups.ENGINE_NAMES
    assert f"the backup is of a {names[other]} database and DATABASE_URL points to {names[engine]}" in message


# Backups that cannot be written leave nothing behind.


def test_backup_into_a_missing_folder_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match=r"site.tar: not written: the folder .*/absent does not exist$"):
        backup(tmp_path / "absent" / "site.tar")
    assert list(tmp_path.iterdir()) == []


def test_backup_inside_media_root_is_refused(db, tmp_path, settings):
    settings.MEDIA_ROOT.mkdir()
    with pytest.raises(CommandError, match=r"is inside MEDIA_ROOT"):
        backup(settings.MEDIA_ROOT / "site.tar")
    assert list(settings.MEDIA_ROOT.iterdir()) == []


def test_a_backup_that_fails_leaves_no_partial_file(tmp_path):
    """The database cannot be reached (nothing listens on port 1): the tar was begun, and is removed."""
    out = tmp_path / "backups"
    out.mkdir()
    env = site_env(DATABASE_URL="postgres://nobody@127.0.0.1:1/none", MEDIA_ROOT=str(tmp_path / "media"))
    result = subprocess.run(
        [sys.executable, "manage.py", "backup", str(out / "site.tar")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"CommandError: {out / 'site.tar'}: not written: cannot read the database: ")
    assert list(out.iterdir()) == []


def test_pg_dump_and_pg_restore_get_the_connection_in_libpq_variables():
    env = backups.pg_environment(
        {
            "NAME": "reports",
            "USER": "u",
            "PASSWORD": "s3cret",
            "HOST": "db",
            "PORT": 5432,
            "OPTIONS": {"sslmode": "require"},
        }
    )
    assert env == {
        "PGDATABASE": "reports",
        "PGUSER": "u",
        "PGPASSWORD": "s3cret",
        "PGHOST": "db",
        "PGPORT": "5432",
        "PGSSLMODE": "require",
    }
