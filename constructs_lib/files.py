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

__all__ = ["read_text_file"]

_SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"))


def read_text_file(path: str | Path, *, limit: int, error: Callable[[str], InputError] = InputError,
                   reads: str = "EulaGate reads only regular files", limit_note: str = "") -> str:
    """A regular file's UTF-8 text (a byte-order mark dropped), of at most ``limit`` bytes.

    Anything else raises ``error`` (``InputError`` or one of its kinds) with one line naming ``path``: ``reads``
    ends the refusal of a file that is not regular (what the caller reads instead), ``limit_note`` the refusal of
    a file too big (why the limit is what it is).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as problem:
        raise error(f"{path}: cannot read the file: {problem.strerror or problem}") from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise error(f"{path}: a directory, where a file is expected")
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _SPECIAL_FILES if test(status.st_mode)), "a special file")
            raise error(f"{path}: {kind}, not a regular file; {reads}")
        if status.st_size > limit:
            raise error(_too_big(path, f"{status.st_size:,} bytes", limit, limit_note))
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    except OSError as problem:
        raise error(f"{path}: cannot read the file: {problem.strerror or problem}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:  # it grew since fstat
        raise error(_too_big(path, "more bytes", limit, limit_note))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise error(f"{path}: not UTF-8 text (byte {problem.start}: {problem.reason})") from None


def _too_big(path: str | Path, size: str, limit: int, note: str) -> str:
    return f"{path}: {size}, more than the {limit:,} EulaGate reads" + (f" {note}" if note else "")
