"""File primitives shared by every file a session writes: session logs, CSV and asciicast.

Outputs are opened so that an existing file is never overwritten unless asked (``force``), and
written with ``write_all``: each record reaches the kernel in one ``write`` call as it is made, with
no user-space buffer, so a killed process leaves at most its last line incomplete.
"""

from __future__ import annotations

import os


class OutputExistsError(FileExistsError):
    """An output file exists and ``force`` was not given."""

    def __init__(self, path: str | os.PathLike, option: str = "--force"):
        super().__init__(f"{os.fspath(path)} exists; use {option} to overwrite it")
        self.path = os.fspath(path)

    def __str__(self) -> str:
        return self.args[0]


def open_new(path: str | os.PathLike, force: bool = False) -> int:
    """A write-only file descriptor for ``path``. Refuses an existing file unless ``force`` (then
    truncates it). Raises OutputExistsError or OSError."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        return os.open(path, flags, 0o644)
    except FileExistsError:
        raise OutputExistsError(path) from None


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` (``os.write`` may write less than asked). Raises OSError."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
