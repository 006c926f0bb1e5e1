"""Backup and restore of the whole site, database and media files, as one tar (`manage.py backup` / `restore`).

A backup is an uncompressed tar of:

- `database.dump` (PostgreSQL: pg_dump's custom format) or `database.sqlite3` (SQLite: a copy by sqlite3's online
  backup API);
- `media/<path>` for every regular file under MEDIA_ROOT, except course exports (`exports/`, made again from the site),
  partial files (`*.part`) and symbolic links;
- `manifest.json`, written last: the format version, when it was made, the database engine, the latest applied
  migration of each app, the rows of each model of the site, and the size and sha256 of the database file and of
  every media file.

The database file and the counts come from one snapshot of the database, so a backup of a site in use still restores
to counts that match. A tar is untrusted input: a restore checks the whole of it (manifest, every member's name and
type, every size and checksum) before it touches the database or MEDIA_ROOT, and writes nothing but regular files
under MEDIA_ROOT.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections import Counter
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
MEDIA = "media/"
MEMBER_KINDS = {tarfile.SYMTYPE: "a symbolic link", tarfile.LNKTYPE: "a hard link", tarfile.DIRTYPE: "a folder"}
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024
# What pg_dump and pg_restore read from the environment, by the key in DATABASES' OPTIONS (dj_database_url puts the
# URL's query there): the password never appears on a command line.
PG_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class BackupError(Exception):
    """A backup or restore that cannot go on, with the reason in a sentence for the person who ran it."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # the database member's name, or a media file's path relative to MEDIA_ROOT ("/"-separated)
    size: int
    sha256: str


@dataclass(frozen=True)
class Count:
    model: str  # "reports_app.Group"
    table: str  # counted by the table name the backup had, so a renamed table in a later version does not matter
    rows: int


@dataclass(frozen=True)
class Manifest:
    created: str
    engine: str  # a key of DATABASE_FILES
    database: FileEntry
    migrations: dict[str, str]  # app -> the latest applied migration's name
    counts: tuple[Count, ...]
    media: tuple[FileEntry, ...]

    def to_json(self) -> bytes:
        return json.dumps({"format_version": FORMAT_VERSION, **asdict(self)}, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """The manifest in `data`, or BackupError saying why it is not one this version reads."""
        try:
            raw = json.loads(data)
        except ValueError as error:
            raise BackupError(f"{MANIFEST} is not JSON ({error})") from None
        if not isinstance(raw, dict) or "format_version" not in raw:
            raise BackupError(f"{MANIFEST} has no format_version: it was not written by `manage.py backup`")
        if raw["format_version"] != FORMAT_VERSION:
            raise BackupError(
                f"{MANIFEST} has format version {raw['format_version']!r}; this version of the site reads "
                f"version {FORMAT_VERSION} only"
            )
        try:
            manifest = cls(
                created=_typed(raw["created"], str),
                engine=_typed(raw["engine"], str),
                database=_file_entry(raw["database"]),
                migrations={_typed(k, str): _typed(v, str) for k, v in _typed(raw["migrations"], dict).items()},
                counts=tuple(
                    Count(_typed(c["model"], str), _typed(c["table"], str), _typed(c["rows"], int))
                    for c in _typed(raw["counts"], list)
                ),
                media=tuple(_file_entry(entry) for entry in _typed(raw["media"], list)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BackupError(f"{MANIFEST} is damaged ({type(error).__name__}: {error})") from None
        if DATABASE_FILES.get(manifest.engine) != manifest.database.path:
            raise BackupError(f"{MANIFEST} is damaged (database {manifest.database.path!r} of {manifest.engine!r})")
        return manifest

    def rows(self, model: str) -> int:
        return next((count.rows for count in self.counts if count.model == model), 0)

    def summary(self) -> str:
        """'3 groups, 3 reports, 90 answers, 7 figures, 8 media files': what people recognise their site by."""
        models = [("reports_app.Group", "group"), ("reports_app.Report", "report"), ("reports_app.Answer", "answer")]
        parts = [_amount(self.rows(label), noun) for label, noun in models]
        parts.append(_amount(self.rows("reports_app.Figure"), "figure"))
        return ", ".join([*parts, _amount(len(self.media), "media file")])


def _typed(value, kind: type):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{value!r} is not {kind.__name__}")
    return value


def _file_entry(raw: dict) -> FileEntry:
    sha256 = _typed(raw["sha256"], str)
    if len(sha256) != 64:
        raise ValueError(f"{sha256!r} is not a sha256")
    return FileEntry(_typed(raw["path"], str), _typed(raw["size"], int), sha256)


def _amount(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# What goes into a backup.


def site_tables() -> dict[str, str]:
    """Model label -> table of every model of reports_app and the users: the rows a backup counts."""
    models = [get_user_model(), *apps.get_app_config("reports_app").get_models()]
    return {model._meta.label: model._meta.db_table for model in models}


def skip_reason(relative: str) -> str | None:
    """Why the file at `relative` ("/"-separated, under MEDIA_ROOT) stays out of a backup; None: it goes in."""
    if relative.startswith("exports/"):
        return "course exports (they can be made again from the site)"
    if relative.endswith(".part"):
        return "partial files"
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return "names that are not UTF-8"
    return None


def media_files(root: Path) -> tuple[list[str], Counter[str]]:
    """The files under `root` a backup takes (relative, "/"-separated, sorted) and how many it leaves out, by why."""
    taken: list[str] = []
    skipped: Counter[str] = Counter()
    for folder, dirs, files in os.walk(root):  # does not follow links to folders; they are counted below
        for name in dirs:
            if Path(folder, name).is_symlink():
                skipped["symbolic links"] += 1
        for name in files:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                reason = "symbolic links"
            elif not path.is_file():
                reason = "special files (sockets, pipes)"
            else:
                reason = skip_reason(relative)
            if reason:
                skipped[reason] += 1
            else:
                taken.append(relative)
    return sorted(taken), skipped


def pg_environment(settings_dict: dict) -> dict[str, str]:
    """The libpq environment variables (PGHOST, PGPASSWORD...) for a Django database's settings."""
    env = {
        variable: str(settings_dict[key])
        for key, variable in [
            ("NAME", "PGDATABASE"),
            ("USER", "PGUSER"),
            ("PASSWORD", "PGPASSWORD"),
            ("HOST", "PGHOST"),
            ("PORT", "PGPORT"),
        ]
        if settings_dict.get(key)
    }
    options = settings_dict.get("OPTIONS") or {}
    return env | {variable: str(options[key]) for key, variable in PG_OPTIONS.items() if options.get(key)}


@dataclass(frozen=True)
class BackupSummary:
    manifest: Manifest
    skipped: Counter[str]
    size: int

    def __str__(self) -> str:
        return f"{self.manifest.summary()}, {self.size / 1e6:.1f} MB"

    def left_out(self) -> str:
        """'course exports (made again from the site): 2; partial files: 1', or '' when nothing was left out."""
        return "; ".join(f"{reason}: {n}" for reason, n in sorted(self.skipped.items()))


def backup_to_path(target: Path) -> BackupSummary:
    """Back the site up into the tar `target`, written beside it and renamed over it when whole: a failed or killed
    backup never leaves a half tar under the real name (the partial file is removed when Python gets the chance)."""
    media_root = Path(settings.MEDIA_ROOT)
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the name of the tar file to write")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    if target.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(f"{target} is inside MEDIA_ROOT ({media_root}); write the backup somewhere else")
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(partial, "xb") as out, tempfile.TemporaryDirectory(prefix=".backup-", dir=target.parent) as scratch:
            summary = _write_backup(out, Path(scratch), media_root)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary


def _write_backup(out: BinaryIO, scratch: Path, media_root: Path) -> BackupSummary:
    engine = connection.vendor
    if engine not in DATABASE_FILES:
        raise BackupError(f"backups of {engine} databases are not supported (PostgreSQL and SQLite are)")
    dump = scratch / DATABASE_FILES[engine]
    try:
        if engine == "postgresql":
            migrations, counts = _snapshot_postgresql(dump)
        else:
            migrations, counts = _snapshot_sqlite(dump)
    except (DatabaseError, sqlite3.DatabaseError) as error:
        raise BackupError(f"cannot read the database: {str(error).strip()}") from None
    # Media after the database: a figure uploaded meanwhile is only an extra file in the backup, and the manifest
    # lists exactly the bytes that went into the tar.
    files, skipped = media_files(media_root)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        database = _add_file(tar, dump.name, dump, dump.name)
        media = tuple(_add_file(tar, MEDIA + relative, media_root / relative, relative) for relative in files)
        now = datetime.now(UTC)
        manifest = Manifest(now.isoformat(timespec="seconds"), engine, database, migrations, counts, media)
        data = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o644
        tar.addfile(info, io.BytesIO(data))
    return BackupSummary(manifest, skipped, out.tell())


class _Hashing:
    """Reads from `file` and hashes exactly the bytes read: what the tar holds is what the manifest describes."""

    def __init__(self, file) -> None:
        self.file, self.sha256 = file, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.sha256.update(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path, entry_path: str) -> FileEntry:
    """Add the file at `path` as member `name`; its entry in the manifest (as `entry_path`)."""
    with open(path, "rb") as file:
        stat = os.fstat(file.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
        reader = _Hashing(file)
        tar.addfile(info, reader)  # fails ("unexpected end of data") when the file shrank while read
    return FileEntry(entry_path, info.size, reader.sha256.hexdigest())


def _facts(cursor, existing: set[str]) -> tuple[dict[str, str], tuple[Count, ...]]:
    """The latest applied migration of each app, and the rows of each table of the site's models that the database
    has (one not migrated yet may lack some), read with a DB-API cursor."""
    if "django_migrations" not in existing:
        raise BackupError("the database has no site in it (no table django_migrations): nothing to back up")
    cursor.execute("SELECT app, name FROM django_migrations")
    latest: dict[str, str] = {}
    for app, name in cursor.fetchall():
        latest[app] = max(latest.get(app, ""), name)
    tables = {label: table for label, table in site_tables().items() if table in existing}
    counts = tuple(Count(label, table, _rows(cursor, table)) for label, table in tables.items())
    return dict(sorted(latest.items())), counts


def _rows(cursor, table: str) -> int:
    quoted = '"' + table.replace('"', '""') + '"'
    cursor.execute(f"SELECT COUNT(*) FROM {quoted}")
    return cursor.fetchone()[0]


def _snapshot_postgresql(dump: Path) -> tuple[dict[str, str], tuple[Count, ...]]:
    """pg_dump into `dump`, and the facts of the manifest, from one snapshot: pg_dump takes over our transaction's."""
    if connection.in_atomic_block:
        raise BackupError("the backup must run outside a transaction (it takes a snapshot of its own)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        facts = _facts(cursor, set(connection.introspection.table_names(cursor)))
        _run_pg(
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--snapshot={snapshot}",
            f"--file={dump}",
        )
    return facts


def _snapshot_sqlite(dump: Path) -> tuple[dict[str, str], tuple[Count, ...]]:
    """Copy the database into `dump` with the online backup API; the facts are read from the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(dump)
    try:
        connection.connection.backup(copy)
        cursor = copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return _facts(cursor, {name for (name,) in cursor.fetchall()})
    finally:
        copy.close()


def _run_pg(program: str, *arguments: str) -> None:
    env = {**os.environ, **pg_environment(connection.settings_dict)}
    try:
        result = subprocess.run(
            [program, *arguments], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            f"{program} is not installed; install PostgreSQL's client programs of the server's major version"
        ) from None
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip() or f'exit status {result.returncode}'}")


# Restoring.


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why a tar member may not be restored; None when it may. A backup holds regular files at plain relative paths
    only: anything else (a link, a device, `..`, an absolute path) is how a crafted tar writes outside MEDIA_ROOT."""
    name = member.name
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        kind = MEMBER_KINDS.get(member.type, "a device or other special file")
        return f"{name!r} is {kind}, not a regular file"
    if name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in name.split("/")):
        return f"{name!r} is not a plain relative path"
    return None


@dataclass(frozen=True)
class RestoreSummary:
    manifest: Manifest

    def __str__(self) -> str:
        return f"{_amount(self.manifest.rows('auth.User'), 'user')}, {self.manifest.summary()}"


def restore_from_path(source: Path, *, force: bool = False) -> RestoreSummary:
    """Restore the backup `source` into the configured database and MEDIA_ROOT.

    Refuses (BackupError) before touching anything: a tar that is not a whole, unchanged backup of a format and
    migrations this version knows; a backup of another database engine; a database that already holds a site,
    unless `force`. The database is replaced whole; media files are written beside their place and renamed.
    """
    with _open_tar(source) as tar, tempfile.TemporaryDirectory(prefix="restore-") as scratch:
        database = Path(scratch) / "database"
        try:
            manifest, members = _verified(tar, database)
            _check_target(manifest, force=force)
        except BackupError as error:
            raise BackupError(f"{error}. Nothing was changed.") from None
        try:
            _restore_database(manifest.engine, database)
        except (BackupError, DatabaseError, sqlite3.DatabaseError) as error:
            raise BackupError(
                f"the database was not restored ({str(error).strip()}); it may be empty now: fix that and restore "
                "again with --force"
            ) from None
        _restore_media(tar, members, manifest.media)
    _check_counts(manifest)
    return RestoreSummary(manifest)


def _open_tar(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, "r:*")  # a backup someone compressed afterwards reads too
    except tarfile.ReadError as error:
        raise BackupError(f"{source} is not a tar file ({error})") from None


def _verified(tar: tarfile.TarFile, database: Path) -> tuple[Manifest, dict[str, tarfile.TarInfo]]:
    """The manifest and the members by name, once every member is checked; the database file is copied to
    `database` on the way (its checksum checked too)."""
    members: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        problem = member_problem(member)
        if problem:
            raise BackupError(f"the tar is refused: {problem}")
        if member.name in members:
            raise BackupError(f"the tar is refused: it holds {member.name!r} twice")
        members[member.name] = member
    found = members.get(MANIFEST)
    if found is None:
        raise BackupError(f"the tar has no {MANIFEST}: it is not a backup made by `manage.py backup`")
    if found.size > MANIFEST_MAX_BYTES:
        raise BackupError(f"{MANIFEST} is {found.size / 1e6:.0f} MB: not a manifest of ours")
    manifest = Manifest.from_json(tar.extractfile(found).read())
    expected = {MANIFEST, manifest.database.path, *(MEDIA + entry.path for entry in manifest.media)}
    extra, missing = sorted(members.keys() - expected), sorted(expected - members.keys())
    if extra or missing:
        what = [f"{', '.join(extra[:5])} not in the manifest"] if extra else []
        what += [f"{', '.join(missing[:5])} missing"] if missing else []
        raise BackupError(f"the tar does not match its manifest: {'; '.join(what)}")
    _copy_verified(tar, members[manifest.database.path], manifest.database, database)
    for entry in manifest.media:
        _copy_verified(tar, members[MEDIA + entry.path], entry, None)
    return manifest, members


def _copy_verified(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: FileEntry, target: Path | None) -> None:
    """Read a member whole (into `target`, a new file, when given); BackupError if it is not what the manifest says."""
    if member.size != entry.size:
        raise BackupError(f"{member.name} has {member.size} bytes where the manifest says {entry.size}")
    digest, source = hashlib.sha256(), tar.extractfile(member)
    with open(target, "xb") if target else nullcontext() as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if out:
                out.write(chunk)
    if digest.hexdigest() != entry.sha256:
        raise BackupError(f"{member.name} does not match its sha256 in the manifest: the backup was changed or damaged")


def _check_target(manifest: Manifest, *, force: bool) -> None:
    engine = connection.vendor
    if engine != manifest.engine:
        raise BackupError(
            f"the backup is of a {ENGINE_NAMES.get(manifest.engine, manifest.engine)} database and DATABASE_URL "
            f"points to {ENGINE_NAMES.get(engine, engine)}; restore it into {ENGINE_NAMES.get(manifest.engine)}"
        )
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [f"{app} {name}" for app, name in manifest.migrations.items() if (app, name) not in known]
    if unknown:
        raise BackupError(
            f"the backup was made by a newer version of the site (migrations unknown here: {', '.join(unknown)}); "
            "restore it with that version of the site"
        )
    if engine == "postgresql" and connection.in_atomic_block:
        raise BackupError("the restore must run outside a transaction (pg_restore runs beside it)")
    if not force:
        existing = set(connection.introspection.table_names())
        tables = {table: label for label, table in site_tables().items() if table in existing}
        with connection.cursor() as cursor:
            held = [(apps.get_model(label), n) for table, label in tables.items() if (n := _rows(cursor, table))]
        if held:
            rows = ", ".join(
                f"{n} {model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural}" for model, n in held
            )
            raise BackupError(
                f"the database already holds a site ({rows}); a restore replaces the whole database: run it with "
                "--force to do that, or point DATABASE_URL at an empty database"
            )


def _restore_database(engine: str, database: Path) -> None:
    """Replace the whole configured database with the one in the backup."""
    if engine == "sqlite":
        connection.close()
        source, target = sqlite3.connect(database), sqlite3.connect(connection.settings_dict["NAME"], timeout=20)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return
    # pg_restore --clean would drop only the tables the dump has; tables of a newer version would stay and trip up
    # `migrate`. So every table goes first (they are empty unless --force), then the dump goes in as one transaction.
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if tables:
            cursor.execute(
                "DROP TABLE IF EXISTS " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE"
            )
    _run_pg(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={connection.settings_dict['NAME']}",
        str(database),
    )


def _restore_media(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], media: tuple[FileEntry, ...]) -> None:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    real_root = root.resolve()
    for entry in media:
        target = root / entry.path
        if not target.parent.resolve().is_relative_to(real_root):
            raise BackupError(f"{target.parent} leads outside MEDIA_ROOT (a symbolic link?); nothing written there")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
        try:
            _copy_verified(tar, members[MEDIA + entry.path], entry, partial)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise


def _check_counts(manifest: Manifest) -> None:
    with connection.cursor() as cursor:
        differ = [
            f"{count.model} has {found} rows where the backup had {count.rows}"
            for count in manifest.counts
            if (found := _rows(cursor, count.table)) != count.rows
        ]
    if differ:
        raise BackupError(f"the restored database does not match the backup: {'; '.join(differ)}")
