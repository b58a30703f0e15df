"""File primitives shared by every file a session writes: session logs, CSV, asciicast and the
app's exports.

Where an output goes (``create_output``), so that nothing this process did not create is ever
truncated or removed:

- a path that does not exist: a new file, created exclusively (``O_EXCL``, which also refuses a
  symbolic link); if the session fails to start it is removed again, only while it is still the
  file this process created;
- an existing regular file: refused unless ``force``. With ``force`` the new file is written beside
  it under a temporary name and renamed over it by ``commit`` (when every output of a session has
  opened), so a failed start leaves the old file as it was, other hard links to it keep the old
  content, and a symbolic link is never followed;
- a pipe (a FIFO, or ``/dev/fd/N`` from a shell's ``>(...)``): written as a stream, never truncated
  or removed; a character device (``/dev/null``) likewise, with ``force`` only;
- anything else is refused: a directory, a block device, a socket, a symbolic link to a file or to
  nothing (give the file's own path).

Records are written with ``write_all``: each reaches the kernel in one ``write`` call as it is
made, with no user-space buffer, so a killed process leaves at most its last line incomplete.
``OutputFile.write`` never raises: the first error (a full disk, an I/O error, a closed pipe) is
kept in ``error``, a partly written record is cut off again where this process made the file, and
the writer that owns it stops that file and says so.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class OutputExistsError(FileExistsError):
    """An output file exists and ``force`` was not given."""

    def __init__(self, path: str | os.PathLike, option: str = "--force"):
        super().__init__(f"{os.fspath(path)} exists; use {option} to overwrite it")
        self.path = os.fspath(path)

    def __str__(self) -> str:
        return self.args[0]


class OutputRefusedError(ValueError):
    """A path no output may be written to (a directory, a device, a symbolic link, ...); the
    message is one line naming it and why."""


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` (``os.write`` may write less than asked). Raises OSError."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def path_identity(path: str | os.PathLike) -> tuple:
    """What ``path`` names, so that two spellings of one file compare equal: (device, inode) of an
    existing file, whatever symbolic links or hard links lead to it; for a file not made yet,
    its directory's (device, inode) and its name."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
        return ("file", st.st_dev, st.st_ino)
    except FileNotFoundError:
        pass
    except OSError:
        return ("path", os.path.abspath(path))
    head, name = os.path.split(os.path.abspath(path))
    try:
        st = os.stat(head)
    except OSError:
        return ("path", os.path.abspath(path))
    return ("entry", st.st_dev, st.st_ino, name)


def fd_identity(fd: int) -> tuple:
    """``path_identity`` of an open file descriptor."""
    st = os.fstat(fd)
    return ("file", st.st_dev, st.st_ino)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISFIFO, "a pipe")):
        if test(mode):
            return name
    return "not a regular file"


class OutputFile:
    """An output file descriptor and what this process may do to the file behind it.

    ``made`` is "new" (created here), "replace" (a temporary file to be renamed over an existing
    one by ``commit``), "stream" (a pipe or device, never truncated or removed) or "fd" (a
    descriptor handed in, e.g. stdout)."""

    def __init__(self, path: str, fd: int, made: str, temp: str | None = None):
        self.path, self.fd, self.made, self.temp = path, fd, made, temp
        self.error: OSError | None = None
        self.good = 0  # bytes written up to the end of the last whole record

    @property
    def ours(self) -> bool:
        """This process made the file, so it may cut it back or remove it."""
        return self.made in ("new", "replace")

    def write(self, data: bytes, *, fsync: bool = False) -> bool:
        """Write one whole record; False if it could not be written (``error`` says why; a part
        written to a file of ours is cut off again). Never raises."""
        if self.fd < 0:
            return False
        try:
            write_all(self.fd, data)
            if fsync:
                os.fsync(self.fd)
        except OSError as exc:
            if self.error is None:
                self.error = exc
            self._cut_back()
            return False
        self.good += len(data)
        return True

    def _cut_back(self) -> None:
        if not self.ours:
            return  # a pipe cannot be cut back, and a descriptor handed in may hold others' bytes
        try:
            os.ftruncate(self.fd, self.good)
            os.lseek(self.fd, self.good, os.SEEK_SET)
        except OSError:
            pass

    def commit(self) -> None:
        """Put a replacement in place of the file it replaces. Raises OSError."""
        if self.temp is not None:
            os.replace(self.temp, self.path)
            self.temp = None

    def close(self) -> OSError | None:
        """Close the descriptor (once); returns the error closing it reported, if any."""
        fd, self.fd = self.fd, -1
        if fd < 0:
            return None
        try:
            os.close(fd)
        except OSError as exc:
            return exc
        return None

    def discard(self) -> None:
        """Close, and remove the file if this process made it and it is still that file (a
        session that failed to start). Never raises."""
        fd = self.fd
        victim = self.temp if self.temp is not None else (self.path if self.made == "new" else None)
        mine = None
        if fd >= 0 and victim is not None:
            try:
                mine = fd_identity(fd)
            except OSError:
                pass
        self.close()
        self.temp = None
        if victim is None or mine is None:
            return
        try:
            st = os.lstat(victim)
            if ("file", st.st_dev, st.st_ino) == mine:
                os.unlink(victim)
        except OSError:
            pass


def check_output(path: str | os.PathLike, force: bool = False) -> os.stat_result | None:
    """Whether ``create_output`` may write to ``path``, without making anything: the status of
    what it would write into (None: a new file). Raises OutputExistsError or OutputRefusedError."""
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return None  # e.g. a missing directory: creating the file will say so
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.stat(path)
        except OSError:
            target = None
        if target is None or not (stat.S_ISFIFO(target.st_mode) or stat.S_ISCHR(target.st_mode)):
            raise OutputRefusedError(f"{path} is a symbolic link (to {os.readlink(path)}); "
                                     "give the path of the file itself")
        st = target
    if stat.S_ISFIFO(st.st_mode) or (stat.S_ISCHR(st.st_mode) and force):
        return st
    if stat.S_ISCHR(st.st_mode):
        raise OutputExistsError(path)
    if not stat.S_ISREG(st.st_mode):
        raise OutputRefusedError(f"{path} is {_kind(st.st_mode)}, not a file")
    if not force:
        raise OutputExistsError(path)
    return st


def create_output(path: str | os.PathLike, force: bool = False) -> OutputFile:
    """An output for ``path`` by the rules in this module's docstring; a replacement must be
    ``commit``-ted to take the old file's place. Raises OutputExistsError, OutputRefusedError or
    OSError."""
    path = os.fspath(path)
    st = check_output(path, force)
    if st is None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o644)
        except FileExistsError:  # made meanwhile by someone else
            raise OutputExistsError(path) from None
        return OutputFile(path, fd, "new")
    if not stat.S_ISREG(st.st_mode):
        return OutputFile(path, _open_stream(path, fifo=stat.S_ISFIFO(st.st_mode)), "stream")
    head, name = os.path.split(path)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=head or ".")
    try:
        os.fchmod(fd, 0o644 & ~_umask())
    except OSError:
        pass
    return OutputFile(path, fd, "replace", temp)


def _open_stream(path: str, fifo: bool) -> int:
    if not fifo:
        return os.open(path, os.O_WRONLY | _CLOEXEC)
    # A FIFO with no reader would block the open forever: refuse it instead.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | _CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputRefusedError(f"{path} is a pipe that nothing reads") from None
        raise
    os.set_blocking(fd, True)
    return fd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def open_new(path: str | os.PathLike, force: bool = False) -> int:
    """A write-only file descriptor for ``path`` (``create_output``, committed at once). Raises
    OutputExistsError, OutputRefusedError or OSError."""
    out = create_output(path, force)
    try:
        out.commit()
    except OSError:
        out.discard()
        raise
    return out.fd


def save_new(directory: str | os.PathLike, name: str, data: bytes) -> str:
    """Write ``data`` to a new file ``name`` in ``directory`` (made if missing), or ``stem-2.ext``,
    ``stem-3.ext``... when that name is taken; returns the path. On failure nothing is left
    behind but the directory. Raises OSError."""
    directory = os.fspath(directory)
    if os.path.lexists(directory) and not os.path.isdir(directory):
        # makedirs would say "File exists", which reads as if the export's own name were taken.
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory)
    os.makedirs(directory, exist_ok=True)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    for i in range(1, 1000):
        candidate = name if i == 1 else f"{stem}-{i}{dot}{ext}"
        path = os.path.join(directory, candidate)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o644)
        except FileExistsError:
            continue
        out = OutputFile(path, fd, "new")
        if not out.write(data):
            error = out.error
            out.discard()
            assert error is not None
            raise error
        error = out.close()
        if error is not None:  # e.g. a network file system reporting a failed write at close
            try:
                os.unlink(path)
            except OSError:
                pass
            raise error
        return path
    raise FileExistsError(f"no free name like {name} in {directory}")


def open_with_first_record(path: str | os.PathLike, force: bool, output: OutputFile | None,
                           data: bytes) -> OutputFile:
    """``output`` (default: ``create_output(path, force)``) with ``data`` written as its first
    record, e.g. a header. An output made here is also committed (put in place); one handed in is
    the caller's to commit or discard. Raises OutputExistsError, OutputRefusedError or OSError,
    leaving nothing behind that this call made."""
    own = output is None
    out = create_output(path, force) if output is None else output
    if not out.write(data):
        error = out.error
        if own:
            out.discard()
        assert error is not None
        raise error
    if own:
        try:
            out.commit()
        except OSError:
            out.discard()
            raise
    return out
