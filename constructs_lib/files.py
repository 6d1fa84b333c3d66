"""The one reader of a user's text file, at the bottom of the package: the template reader, the readers of the
other surfaces and ``eulagate hook simulate`` all read through it, so all refuse the same things the same way.

The file is opened without blocking and judged by what was opened (``fstat``), never by a name looked up before:
a FIFO (which would block), a device (``/dev/zero`` never ends), a directory, or a file swapped in between a
check and the open is refused. A file too big is refused by its size before a byte is read, and one that grows
while it is read is refused too. Every refusal is one line naming the file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from constructs_lib.errors import InputError

__all__ = ["UnreadableFile", "decode_text", "read_file_bytes", "read_text_file"]

_SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"))

_UTF8_BOM = b"\xef\xbb\xbf"

MISSING = "missing"
UNREADABLE = "unreadable"
DIRECTORY = "directory"
SPECIAL = "special"
TOO_BIG = "too big"


class UnreadableFile(InputError):
    """A file refused before its text is read. ``reason`` is one of ``MISSING``, ``UNREADABLE`` (``detail``: the
    system's words), ``DIRECTORY``, ``SPECIAL`` (``detail``: which kind, e.g. ``a FIFO``) or ``TOO_BIG``
    (``size``: its size, or None when it grew while read). The message is EulaGate's common wording; a reader
    with words of its own (the model table's) builds its line from the fields."""

    def __init__(self, message: str, *, reason: str, detail: str = "", size: int | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.size = size
        super().__init__(message)


def read_file_bytes(path: str | Path, *, limit: int, reads: str = "EulaGate reads only regular files",
                    limit_note: str = "") -> bytes:
    """A regular file's bytes, at most ``limit`` of them; ``UnreadableFile`` naming ``path`` otherwise. ``reads``
    ends the refusal of a file that is not regular (what the caller reads instead), ``limit_note`` the refusal of
    a file too big (why the limit is what it is)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as problem:
        raise _unreadable(path, problem) from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise UnreadableFile(f"{path}: a directory, where a file is expected", reason=DIRECTORY)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _SPECIAL_FILES if test(status.st_mode)), "a special file")
            raise UnreadableFile(f"{path}: {kind}, not a regular file; {reads}", reason=SPECIAL, detail=kind)
        if status.st_size > limit:
            raise _too_big(path, status.st_size, limit, limit_note)
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            # The size fstat gave and one byte more, not the limit: a buffer of the limit for each file read costs
            # more CPU than the read (mapping and unmapping it). A file that grew since is read on.
            data = file.read(status.st_size + 1)
            if len(data) > status.st_size:
                data += file.read(limit + 1 - len(data))
    except OSError as problem:
        raise _unreadable(path, problem) from None
    finally:
        os.close(descriptor)
    if len(data) > limit:  # it grew since fstat
        raise _too_big(path, None, limit, limit_note)
    return data


def read_text_file(path: str | Path, *, limit: int, error: Callable[[str], InputError] = InputError,
                   reads: str = "EulaGate reads only regular files", limit_note: str = "") -> str:
    """``read_file_bytes``'s file as UTF-8 text (a byte-order mark dropped); every refusal is one ``error`` line
    (``InputError`` or one of its kinds)."""
    try:
        data = read_file_bytes(path, limit=limit, reads=reads, limit_note=limit_note)
    except UnreadableFile as refused:
        raise error(str(refused)) from None
    return decode_text(path, data, error=error)


def decode_text(path: str | Path, data: bytes, *, error: Callable[[str], InputError] = InputError) -> str:
    """``read_file_bytes``'s ``data`` of ``path`` as UTF-8 text (a byte-order mark dropped), or one ``error`` line:
    for a reader that answers some refusals itself (a file that is missing is no settings at all)."""
    try:
        # As "utf-8-sig" decodes, without that codec's module and Python-level decode function.
        return data.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as problem:
        raise error(f"{path}: not UTF-8 text (byte {problem.start}: {problem.reason})") from None


def _unreadable(path: str | Path, problem: OSError) -> UnreadableFile:
    words = problem.strerror or str(problem)
    reason = MISSING if isinstance(problem, FileNotFoundError) else UNREADABLE
    return UnreadableFile(f"{path}: cannot read the file: {words}", reason=reason, detail=words)


def _too_big(path: str | Path, size: int | None, limit: int, note: str) -> UnreadableFile:
    shown = "more bytes" if size is None else f"{size:,} bytes"
    return UnreadableFile(f"{path}: {shown}, more than the {limit:,} EulaGate reads" + (f" {note}" if note else ""),
                          reason=TOO_BIG, size=size)
