"""The README.md as a file: the bytes handed out for a report, and git's id for a file's bytes.

A README read from a repo is kept byte for byte as committed (CRLF line ends, a byte order mark, trailing spaces).
While the report says what that file says, the file itself is handed out; once its answers or marks change on the
site, the README is rebuilt from them, with the committed file's line ends and byte order mark.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .parsing import decode_text, normalize_newlines

BOM = "\ufeff"  # UTF-8's byte order mark, as text: decode_text keeps it at the start of the text


@dataclass(frozen=True)
class ReadmeFile:
    data: bytes
    committed: bool  # `data` is the file as committed to the repo, unchanged

    @property
    def blob_id(self) -> str:
        return git_blob_id(self.data)


def readme_file(text: str, committed: bytes | None) -> ReadmeFile:
    """The README.md whose text is `text` (LF line ends, as a report rebuilds it): the `committed` bytes when they
    say the same, else `text` encoded as UTF-8 with the committed file's line ends (CRLF when most of its lines end
    so) and its byte order mark.

    >>> readme_file("# R\\n", b"# R\\r\\n"), readme_file("# S\\n", b"# R\\r\\n")
    (ReadmeFile(data=b'# R\\r\\n', committed=True), ReadmeFile(data=b'# S\\r\\n', committed=False))
    """
    if committed is None:
        return ReadmeFile(normalize_newlines(text).encode("utf-8"), committed=False)
    try:
        if decode_text(committed) == text:
            return ReadmeFile(committed, committed=True)
    except ValueError:  # not a text we could have imported: only its line ends and BOM count
        pass
    text = normalize_newlines(text)
    if committed.startswith(BOM.encode("utf-8")) and not text.startswith(BOM):
        text = BOM + text
    crlf = committed.count(b"\r\n")
    if crlf and crlf * 2 > committed.count(b"\n"):
        text = text.replace("\n", "\r\n")
    return ReadmeFile(text.encode("utf-8"), committed=False)


def git_blob_id(data: bytes) -> str:
    """The object id git gives a file of these bytes (`git hash-object`): sha1 of `blob <size>\\0` and the bytes.

    >>> git_blob_id(b"")
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
