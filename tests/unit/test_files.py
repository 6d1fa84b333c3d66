"""The one reader of a user's text file (``constructs_lib.files``): what it refuses, each as one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from constructs_lib.errors import InputError, TemplateError
from constructs_lib.files import UnreadableFile, read_file_bytes, read_text_file
from constructs_lib.surfaces import read_text as read_surface_text
from constructs_lib.surfaces.discovery import MAX_FILE_BYTES, TEMPLATE, classify
from tests.support.deadline import returns_within


def test_a_regular_file_is_read_without_its_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfhello")
    assert read_text_file(path, limit=8) == "hello"


@pytest.mark.parametrize(("make", "expected"), [
    (lambda path: os.mkfifo(path), "x: a FIFO, not a regular file; EulaGate reads only regular files"),
    (lambda path: path.mkdir(), "x: a directory, where a file is expected"),
    (lambda path: None, "x: cannot read the file: No such file or directory"),
    (lambda path: path.write_bytes(b"abcdef"), "x: 6 bytes, more than the 5 EulaGate reads (why)"),
    (lambda path: path.write_bytes(b"a\xff"), "x: not UTF-8 text (byte 1: invalid start byte)"),
])
def test_what_is_refused(tmp_path: Path, make: object, expected: str) -> None:
    path = tmp_path / "x"
    make(path)  # type: ignore[operator]
    with pytest.raises(TemplateError) as raised:
        read_text_file(path, limit=5, error=TemplateError, limit_note="(why)")
    assert str(raised.value) == f"{tmp_path}/{expected}"


def test_a_device_is_refused_not_read() -> None:
    with pytest.raises(InputError, match=r"^/dev/zero: a character device, not a regular file"):
        read_text_file("/dev/zero", limit=10)


def test_a_surface_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "deploy.py"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"deploy\.py: a FIFO, not a regular file; EulaGate reads only source files"):
        read_surface_text(fifo)


def test_a_file_its_content_classifies_is_looked_at_through_the_reader(tmp_path: Path) -> None:
    """A walk opens a .json or .yaml to tell a template from data: a FIFO is passed over without waiting, a file
    over the size a walk reads is never read, a template is one."""
    os.mkfifo(tmp_path / "pipe.json")
    assert returns_within(lambda: classify(tmp_path / "pipe.json"), what="classify on a FIFO") is None
    with (tmp_path / "big.json").open("wb") as handle:
        handle.write(b'{"Resources": {}}')
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: refused by its size
    assert classify(tmp_path / "big.json") is None
    (tmp_path / "stack.json").write_text('{"Resources": {}}')
    assert classify(tmp_path / "stack.json") == TEMPLATE


@pytest.mark.parametrize(("limit", "read"), [(1000, True), (50, False)])
def test_a_file_that_grew_since_its_size_was_taken_is_read_whole_or_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int, read: bool) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b"x" * 100)
    taken = os.fstat

    def shrunk(descriptor: int) -> os.stat_result:  # the size as it was before the file grew to 100 bytes
        status = list(taken(descriptor))
        status[6] = 10  # st_size
        return os.stat_result(status)

    monkeypatch.setattr(os, "fstat", shrunk)
    if read:
        assert read_file_bytes(path, limit=limit) == b"x" * 100
    else:
        with pytest.raises(UnreadableFile, match="more bytes, more than the 50 EulaGate reads"):
            read_file_bytes(path, limit=limit)
