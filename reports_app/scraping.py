"""Every byte that comes from a group's repo passes here: the URL policy, git, limits.

Nothing in a repo is trusted: its URL must pass the one URL rule (engine/repo_urls.py), and what we read from it is
checked before use.

How a repo is read (`fetch_reports`), all inside a fresh work folder and without checking anything out:

1. a bare partial clone of the default branch: commits and trees, no file contents (`--filter=blob:none`), of its
   head only (`--depth 1`) or of its whole history when reading the commit at a deadline;
2. the commit: HEAD, or the last one (following first parents) dated before the deadline;
3. `git ls-tree` of `reports/` and `reports/figures/`: only `reports/README.md` and PNG or JPEG files directly in
   `reports/figures/` that are regular files with plain names are wanted, at most `max_figures` of them, no two
   whose names differ only in case; everything else is skipped, with a reason;
4. one fetch of the wanted blobs, under a file size cap (`prlimit`) so that no repo can fill our disk;
5. `git cat-file`: sizes first, then the contents of the blobs within the limits.

That is two connections to the server, whatever the repo holds besides reports/. A git server without filter
support (a plain local bare repo) sends everything in step 1; the fetch of step 4 then finds every blob there already
and does nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .engine.figures import human_size, name_key, reserved_on_windows
from .engine.repo_urls import RepoError, RepoRefused, check_url  # noqa: F401 - RepoRefused: an outcome of fetch_reports

README = "reports/README.md"
FIGURES = "reports/figures/"
FIGURE_EXTENSIONS = (".png", ".jpg", ".jpeg")
MAX_NAME_LENGTH = 100  # Figure.name
# Letters and digits of any script, space and a few marks; no path separators, no %, ?, # (URLs), no control
# characters, and no leading dot or space.
_FIGURE_NAME = re.compile(r"\w[\w .+(),@~=-]*\Z")
ODD_NAME = "the name has characters other than letters, digits, spaces and . _ - + ( ) , @ ~ ="
ENDS_ODDLY = "the name ends in a dot or a space, which Windows drops"
RESERVED_NAME = "the name is reserved on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9 with any extension)"
CASE_CLASH = "{other} has the same name but for upper and lower case; only the first by name is read"
TOO_MANY_FIGURES = "more than {max_figures} figures; only the first {max_figures} by name are read"
# The skipped files listed for a repo (a job's page shows them all); the rest are counted in one more line.
MAX_LISTED_SKIPS = 100
_REGULAR = {"100644", "100755"}
_KIND = {"120000": "a symbolic link", "160000": "a submodule", "040000": "a folder"}
# Bytes a pack adds around its objects (header, object headers, checksum); the cap on a blob fetch leaves room.
_PACK_SLACK = 64 * 1024
_PRLIMIT = shutil.which("prlimit")  # util-linux; without it (not Linux) a blob fetch runs without the size cap
# What git may see of our environment: its own settings below, plus the proxy and CA settings a server may need.
_PASSED_ENV = ("PATH", "http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE")


class RepoUnreachable(RepoError):
    """git could not fetch the repo (it does not exist, is private, the network failed, it took too long)."""


class RepoEmpty(RepoError):
    """The repo has no commits, or none dated before the deadline."""


@dataclass(frozen=True)
class Fetched:
    """What we read from one commit of a repo."""

    commit_sha: str
    commit_at: datetime
    readme: bytes | None  # reports/README.md, None when absent or skipped
    figures: dict[str, bytes] = field(default_factory=dict)  # name in reports/figures/ -> bytes
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files we did not take


# Why check_url refuses a URL, in words a person can act on; every place that takes a repo URL shows these.
def fetch_reports(
    url: str,
    *,
    allowed: Sequence[str],
    before: datetime | None,
    workdir: Path,
    timeout: int,
    max_bytes: int,
    max_report_bytes: int,
    max_figure_bytes: int,
    max_figures: int,
) -> Fetched:
    """Read `reports/README.md` and `reports/figures/*` of the repo's default branch: at its head, or at the last
    commit (following first parents) dated before `before`.

    `workdir` must be a fresh, empty folder that the caller removes afterwards: git writes only there. Each git
    command may take `timeout` seconds. Figures past the first `max_figures`, files over `max_report_bytes` /
    `max_figure_bytes`, or beyond `max_bytes` in all, are skipped. Raises RepoRefused (URL off `allowed`; git is never
    run), RepoUnreachable or RepoEmpty.
    """
    url = check_url(url, allowed)
    git = _Git(workdir, timeout, allow_file=url.startswith("file://"))
    # Commits and trees, no blobs: of the head alone, or of the whole history to find the commit at a deadline. (Trees
    # of the whole history are small for course repos; --filter=tree:0 then a fetch of one tree measured slower.)
    history = [] if before else ["--depth", "1"]
    git.run(
        "clone",
        "--template=",
        "--bare",
        "--quiet",
        "--single-branch",
        "--no-tags",
        "--filter=blob:none",
        *history,
        "--",
        url,
        "repo.git",
        cwd=workdir,
    )

    # Committer dates are set by whoever commits and can be forged; the course's rule is the date all the same.
    cutoff = ["--first-parent", f"--before=@{int(before.timestamp())} +0000"] if before else []
    try:
        found = git.run("rev-list", "-1", "--no-commit-header", "--format=%H %ct", *cutoff, "HEAD").split()
    except RepoUnreachable:  # the only way `git rev-list HEAD` fails in a fresh clone: HEAD has no commit
        raise RepoEmpty("the repo has no commits") from None
    if not found and before:
        when = before.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise RepoEmpty(f"no commit on the default branch is dated before the deadline ({when})")
    sha, timestamp = found[0].decode(), int(found[1])

    wanted, skipped = _wanted(git.run("ls-tree", "-z", sha, "--", "reports/", FIGURES), max_figures)
    readme, figures = None, {}
    if wanted:
        accepted = _within_limits(git, wanted, skipped, max_bytes, max_report_bytes, max_figure_bytes)
        contents = _contents(git, [oid for _, oid in accepted])
        for (path, _), data in zip(accepted, contents, strict=True):
            if path == README:
                readme = data
            else:
                figures[path.removeprefix(FIGURES)] = data
    return Fetched(sha, datetime.fromtimestamp(timestamp, UTC), readme, figures, _listed(skipped))


def _wanted(listing: bytes, max_figures: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    r"""`git ls-tree -z` of reports/ and reports/figures/ -> ([(path, oid)] to read, [(path, reason)] skipped).

    >>> _wanted(b"100644 blob a1\treports/README.md\x00120000 blob b2\treports/figures/x.png\x00", 200)
    ([('reports/README.md', 'a1')], [('reports/figures/x.png', 'a symbolic link; only regular files are read')])
    """
    wanted, skipped, figures = [], [], []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, _, oid = meta.decode().split(" ")
        path = raw_path.decode("utf-8", "backslashreplace")
        if path == README:
            if mode in _REGULAR:
                wanted.append((path, oid))
            else:
                skipped.append((path, f"{_KIND.get(mode, 'not a file')}; only regular files are read"))
            continue
        if path == FIGURES.rstrip("/"):  # listed only when it is not a folder
            skipped.append((path, f"{_KIND.get(mode, 'a file')}, not a folder"))
            continue
        if not path.startswith(FIGURES):
            continue  # the rest of reports/ is not ours to read
        name = path.removeprefix(FIGURES)
        if name.startswith("."):
            continue  # .gitkeep and the like
        shown = path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
        if mode == "040000":
            skipped.append((shown, "a folder; only files directly in reports/figures/ are read"))
        elif mode not in _REGULAR:
            skipped.append((shown, f"{_KIND.get(mode, 'not a file')}; only regular files are read"))
        elif len(name) > MAX_NAME_LENGTH:
            skipped.append((shown, f"the name is longer than {MAX_NAME_LENGTH} characters"))
        elif not _FIGURE_NAME.match(name):
            skipped.append((shown, ODD_NAME))
        elif name.endswith((".", " ")):
            skipped.append((shown, ENDS_ODDLY))
        elif not name.lower().endswith(FIGURE_EXTENSIONS):
            skipped.append((shown, "not a .png, .jpg or .jpeg file"))
        elif reserved_on_windows(name):
            skipped.append((shown, RESERVED_NAME))
        else:
            figures.append((path, oid))
    return wanted + _first_figures(figures, skipped, max_figures), skipped


def _first_figures(
    figures: list[tuple[str, str]], skipped: list[tuple[str, str]], max_figures: int
) -> list[tuple[str, str]]:
    """The figures to read, by name: one of each name ignoring case (a checkout on macOS or Windows keeps only one),
    at most `max_figures`. The others go to `skipped`, with the reason."""
    taken: list[tuple[str, str]] = []
    names: dict[str, str] = {}  # name_key -> the name taken
    for path, oid in sorted(figures):
        name = path.removeprefix(FIGURES)
        if (other := names.get(name_key(name))) is not None:
            skipped.append((path, CASE_CLASH.format(other=other)))
        elif len(taken) >= max_figures:
            skipped.append((path, TOO_MANY_FIGURES.format(max_figures=max_figures)))
        else:
            names[name_key(name)] = name
            taken.append((path, oid))
    return taken


def _listed(skipped: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The first MAX_LISTED_SKIPS skipped files (and the README's entry, which the import reads), then a count of
    the rest, so that a repo of a million stray files does not make a page of a million lines."""
    if len(skipped) <= MAX_LISTED_SKIPS:
        return skipped
    shown = [s for s in skipped if s[0] == README] + [s for s in skipped if s[0] != README][:MAX_LISTED_SKIPS]
    return [*shown, (FIGURES, f"and {len(skipped) - len(shown):,} more files skipped, not listed here")]


def _within_limits(
    git: _Git,
    wanted: list[tuple[str, str]],
    skipped: list[tuple[str, str]],
    max_bytes: int,
    max_report_bytes: int,
    max_figure_bytes: int,
) -> list[tuple[str, str]]:
    """Fetch the wanted blobs (one round trip) and keep those within the limits, the README first.

    The sizes are only known once the blobs are here (git servers do not tell them), so the fetch runs under a file
    size cap of `max_bytes`; when the figures break it, the README is fetched alone and every figure is skipped.
    """
    if not git.fetch([oid for _, oid in wanted], cap=max_bytes + _PACK_SLACK):
        too_many = f"the files in reports/figures/ add up to more than {human_size(max_bytes)}; none was read"
        skipped.extend((path, too_many) for path, _ in wanted if path != README)
        wanted = [(path, oid) for path, oid in wanted if path == README]
        if wanted and not git.fetch([wanted[0][1]], cap=max_report_bytes + _PACK_SLACK):
            skipped.append((README, f"larger than {human_size(max_report_bytes)}, the limit for a report"))
            return []
    sizes = [
        int(line.split()[2])
        for line in git.run("cat-file", "--batch-check", input=_lines(oid for _, oid in wanted)).splitlines()
    ]
    accepted, total = [], 0
    for (path, oid), size in sorted(zip(wanted, sizes, strict=True), key=lambda w: w[0][0] != README):
        limit, what = (max_report_bytes, "a report") if path == README else (max_figure_bytes, "a figure")
        if size > limit:
            skipped.append((path, f"{human_size(size)}; {what} may be at most {human_size(limit)}"))
        elif total + size > max_bytes:
            skipped.append((path, f"the files in reports/ add up to more than {human_size(max_bytes)}"))
        else:
            accepted.append((path, oid))
            total += size
    return accepted


def _contents(git: _Git, oids: list[str]) -> list[bytes]:
    """The blobs' bytes, in order, from one `git cat-file --batch`."""
    if not oids:
        return []
    out = git.run("cat-file", "--batch", input=_lines(oids))
    contents, at = [], 0
    for _ in oids:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        contents.append(out[header_end + 1 : header_end + 1 + size])
        at = header_end + 1 + size + 1  # the content is followed by a newline
    return contents


def _lines(oids: Iterable[str]) -> bytes:
    return "".join(f"{oid}\n" for oid in oids).encode()


class _Git:
    """git with nothing of ours: no user or system config, no credential helpers, no prompts, no lazy fetches,
    https only (and file:// for URLs the allow-list lets through, which only tests do)."""

    def __init__(self, workdir: Path, timeout: int, *, allow_file: bool):
        self.workdir, self.timeout = workdir, timeout
        self.repo = workdir / "repo.git"
        self.options = ["-c", "protocol.allow=never", "-c", "protocol.https.allow=always"]
        if allow_file:
            self.options += ["-c", "protocol.file.allow=always"]
        # One pack per fetch (never loose objects), so that a file size cap bounds a fetch's bytes as a whole.
        self.options += ["-c", "fetch.unpackLimit=1", "-c", "transfer.unpackLimit=1"]
        # Fetches by id claim to have nothing: else the server leaves out trees it thinks our commits bring along.
        self.options += ["-c", "fetch.negotiationAlgorithm=noop"]
        self.options += ["-c", "maintenance.auto=false", "-c", "gc.auto=0"]  # a throwaway clone needs no upkeep
        self.env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
        self.env |= {
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_NO_LAZY_FETCH": "1",  # a missing object is an error, never a silent extra download
            "GIT_LITERAL_PATHSPECS": "1",
            "GIT_PROTOCOL_FROM_USER": "0",
        }

    def run(self, *args: str, cwd: Path | None = None, input: bytes | None = None, cap: int | None = None) -> bytes:
        """stdout of one git command; RepoUnreachable with git's reason when it fails or times out."""
        argv = ["git", *self.options, *([] if cwd else ["--git-dir", str(self.repo)]), *args]
        if cap is not None and _PRLIMIT:
            argv = [_PRLIMIT, f"--fsize={cap}", *argv]
        process = subprocess.Popen(  # a list argv, never a shell
            argv,
            cwd=cwd or self.workdir,
            env=self.env,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            process_group=0,  # so that a timeout kills git's helpers too (remote-https, index-pack)
        )
        try:
            out, err = process.communicate(input, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RepoUnreachable(
                f"git took longer than {self.timeout} s (setting SCRAPE_TIMEOUT) and was stopped"
            ) from None
        if process.returncode != 0:
            raise RepoUnreachable(_reason(err.decode("utf-8", "replace")))
        return out

    def fetch(self, oids: list[str], *, cap: int | None = None) -> bool:
        """Fetch blobs by id (in one pack) unless they are here already.

        False when the fetch broke the file size `cap`; RepoUnreachable for other failures.
        """
        args = ["--no-tags", "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none", "--stdin"]
        try:
            self.run("fetch", "origin", *args, input=_lines(oids), cap=cap)
        except RepoUnreachable:
            # index-pack writes the incoming pack to tmp_pack_*; the cap stopped it there when that file is full
            partial = list((self.repo / "objects" / "pack").glob("tmp_pack_*"))
            broke_cap = cap is not None and _PRLIMIT and any(p.stat().st_size >= cap for p in partial)
            for p in partial:
                p.unlink()
            if broke_cap:
                return False
            raise
        return True


def _reason(stderr: str) -> str:
    """git's complaint -> a sentence for people.

    >>> _reason("Cloning into bare repository 'repo.git'...\\nfatal: could not read Username for 'https://github.com'")
    'git was asked for a password: the repo does not exist or is private (it must be public)'
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any("could not read Username" in line or "Repository not found" in line for line in lines):
        return "git was asked for a password: the repo does not exist or is private (it must be public)"
    if any("does not appear to be a git repository" in line for line in lines):
        return "there is no git repo at that URL"
    complaints = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines or ["(no message)"]
    return f"git could not fetch the repo: {complaints[-1].removeprefix('fatal: ').removeprefix('error: ')[:300]}"
