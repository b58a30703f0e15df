"""Fault kinds: never destroy what we did not create; special files; empty paths; a full disk (made
here by a write that fails with ENOSPC; tests/e2e/test_fault_disk.py fills a real filesystem)."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from dropout_tui.core import fileio
from dropout_tui.core.csv_export import CsvLog
from dropout_tui.core.fileio import (
    OutputExistsError,
    OutputRefusedError,
    create_output,
    save_new,
)
from dropout_tui.core.replay import Replayer
from dropout_tui.core.session import SessionFormatError, SessionLog, read_session
from test_fault_validation import cli, header, one_line, write

SMALL = ["--layers", "8,8", "--train-size", "40", "--test-size", "60", "--eval-every", "10", "--steps", "40"]


@pytest.fixture
def recorded(tmp_path, capsys) -> Path:
    path = tmp_path / "s.jsonl"
    code, _, err = cli(capsys, "--headless", *SMALL, "--json", "--record", path)
    assert code == 0, err
    return path


def snapshot_lines(path: Path) -> int:
    return sum(json.loads(line)["type"] == "snapshot" for line in path.read_text().splitlines())


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


# -- never destroy what we did not create -----------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full") or os.geteuid() != 0, reason="needs /dev/full and root")
def test_destroy_a_device_given_with_force_is_never_removed(capsys):
    code, _, err = cli(capsys, "--headless", *SMALL, "--record", "/dev/full", "--force")
    assert code == 2 and "--record: cannot write /dev/full: No space left on device" in one_line(err)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    code, _, err = cli(capsys, "--headless", *SMALL, "--record", "/dev/full")
    assert code == 2 and "/dev/full exists; use --force" in one_line(err)


def test_destroy_a_failed_start_keeps_existing_files_and_removes_only_its_own(tmp_path, capsys):
    old = tmp_path / "s.jsonl"
    old.write_text("precious\n")
    link = tmp_path / "other-name.jsonl"
    os.link(old, link)
    # The CSV cannot be made (its directory does not exist): nothing may change.
    code, _, err = cli(capsys, "--headless", *SMALL, "--record", old, "--csv", tmp_path / "no" / "m.csv", "--force")
    assert code == 2 and "--csv: cannot write" in one_line(err)
    assert old.read_text() == "precious\n" and leftovers(tmp_path) == []
    code, _, err = cli(capsys, "--headless", *SMALL, "--record", tmp_path / "new.jsonl", "--csv",
                       tmp_path / "no" / "m.csv")
    assert code == 2 and not (tmp_path / "new.jsonl").exists()
    # With --force the old file is replaced as a whole: its other name keeps the old content.
    code, _, err = cli(capsys, "--headless", *SMALL, "--record", old, "--force", "--json")
    assert code == 0, err
    assert read_session(old).close.reason == "end" and link.read_text() == "precious\n"
    assert leftovers(tmp_path) == []


def test_destroy_a_symbolic_link_is_never_followed(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "target.jsonl"
    target.write_text("not ours\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    for force in ([], ["--force"]):
        code, _, err = cli(capsys, "--headless", *SMALL, "--record", link, *force)
        assert code == 2 and f"--record: {link} is a symbolic link (to {target})" in one_line(err)
    assert target.read_text() == "not ours\n" and link.is_symlink()


def test_destroy_two_names_for_one_file_are_refused(tmp_path, capsys, recorded):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    (real / "a.jsonl").write_text("mine\n")
    os.link(real / "a.jsonl", real / "b.csv")
    cases = [(real / "x.jsonl", tmp_path / "alias" / "x.jsonl"),  # not made yet, one directory two ways
             (real / "a.jsonl", real / "b.csv")]  # a hard link
    for record, csv_path in cases:
        for force in ([], ["--force"]):
            code, _, err = cli(capsys, "--headless", *SMALL, "--record", record, "--csv", csv_path, *force)
            assert code == 2 and f"--csv: {csv_path} is also the --record file" in one_line(err)
    assert (real / "a.jsonl").read_text() == "mine\n" and not (real / "x.jsonl").exists()
    # a replay never writes over what it reads, however it is spelled
    before = recorded.read_bytes()
    os.link(recorded, tmp_path / "hard.csv")
    for csv_path in (recorded, tmp_path / "hard.csv"):
        code, _, err = cli(capsys, "replay", recorded, "--verify", "--csv", csv_path, "--force")
        assert code == 2 and "is the session log being replayed" in one_line(err)
    assert recorded.read_bytes() == before


def test_destroy_a_directory_or_a_socket_is_refused(tmp_path):
    with pytest.raises(OutputRefusedError, match="is a directory, not a file"):
        create_output(tmp_path, force=True)
    with pytest.raises(OutputExistsError):
        create_output("/dev/null")


# -- special files -----------------------------------------------------------------------------------


def test_special_a_fifo_is_read_once(tmp_path, capsys, recorded):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    data = recorded.read_bytes()
    opened = []

    def writer():
        # Every open of the FIFO for reading gets the log once; a second open would wait forever
        # for a second writer, so the test would hang (and the harness time it out).
        with open(fifo, "wb") as f:
            opened.append(1)
            f.write(data)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    code, out, err = cli(capsys, "replay", fifo, "--verify")
    t.join(5)
    assert code == 0 and f"verified: {snapshot_lines(recorded)} snapshots" in out, err
    assert opened == [1]


def test_special_a_terminal_is_refused(capsys):
    master, slave = os.openpty()
    try:
        code, _, err = cli(capsys, "replay", os.ttyname(slave), "--verify")
        assert code == 2 and "a terminal, not a session log" in one_line(err)
    finally:
        os.close(master)
        os.close(slave)


def test_special_a_byte_order_mark_is_skipped(tmp_path, recorded):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + recorded.read_bytes())
    session = read_session(bom)
    assert session.warnings == [] and Replayer(session, verify=True).run().mismatch is None


def test_special_only_a_line_without_newline_is_cut_off(tmp_path, recorded):
    data = recorded.read_bytes()
    (tmp_path / "cut.jsonl").write_bytes(data[:-7])  # the close record, cut
    assert any("incomplete last line" in w for w in read_session(tmp_path / "cut.jsonl").warnings)
    (tmp_path / "bad.jsonl").write_bytes(data[:-7] + b"\n")  # the same bytes, a complete line
    n = data.count(b"\n")
    with pytest.raises(SessionFormatError, match=rf"^line {n}: malformed JSON"):
        read_session(tmp_path / "bad.jsonl")


def test_special_the_file_validated_is_the_file_replayed(tmp_path, recorded):
    """One descriptor for both readings: replacing the file after it was validated changes nothing."""
    session = read_session(recorded)
    snapshots = snapshot_lines(recorded)
    recorded.unlink()
    write(recorded, header(), {"type": "close", "reason": "end", "step": 1, "t": 0})
    rep = Replayer(session, verify=True).run()
    assert rep.mismatch is None and rep.snapshots_compared == snapshots > 1


# -- empty paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--record", "--csv", "--cast", "--screenshot-dir"])
def test_empty_path_is_an_error(capsys, option):
    code, out, err = cli(capsys, *SMALL, option, "")
    assert code == 2 and out == ""
    assert f"error: {option}: expected a file name, got an empty string" in one_line(err)


def test_empty_path_is_an_error_for_replay_too(capsys, recorded):
    code, _, err = cli(capsys, "replay", recorded, "--verify", "--csv", "")
    assert code == 2 and "--csv: expected a file name" in one_line(err)


@pytest.mark.parametrize("args, option", [
    (["--data", ""], "--data"),
    (["--data", "x.csv", "--test-data", ""], "--test-data"),
    (["replay", ""], "FILE"),
    (["replay", "x.jsonl", "--data", ""], "--data"),
])
def test_empty_path_is_an_error_for_input_files_too(capsys, args, option):
    """An unset shell variable in --data must not quietly train on the default dataset instead."""
    code, out, err = cli(capsys, *(args if args[0] == "replay" else [*SMALL, *args]))
    assert code == 2 and out == ""
    assert f"error: {option}: expected a file name, got an empty string" in one_line(err)


def test_data_with_another_dataset_is_refused_not_ignored(capsys):
    code, _, err = cli(capsys, *SMALL, "--data", "x.csv", "--dataset", "moons")
    assert code == 2 and "--data: trains on your file; --dataset moons" in one_line(err)


@pytest.mark.parametrize("option", ["--record", "--cast"])
def test_a_dash_is_stdout_for_csv_only(capsys, option):
    code, _, err = cli(capsys, *SMALL, option, "-")
    assert code == 2 and f"{option}: '-' (stdout) is for --csv only" in one_line(err)


def test_an_export_into_a_file_that_is_not_a_directory_says_so(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(NotADirectoryError):
        fileio.save_new(tmp_path / "plain", "shot.svg", b"<svg/>")
    assert (tmp_path / "plain").read_text() == "x"


# -- a full disk, made by a write that fails -------------------------------------------------------


class FullAfter:
    """``os.write`` for the file descriptors in ``fds`` that takes ``room`` more bytes, then fails
    with ENOSPC, writing the part that fits first, as a real filesystem does."""

    def __init__(self, room: int):
        self.room = room
        self.fds: set[int] = set()
        self._write = os.write

    def __call__(self, fd, data):
        if fd not in self.fds:
            return self._write(fd, data)
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = self._write(fd, bytes(data[:self.room]))
        self.room -= n
        return n


def test_full_disk_stops_the_log_without_a_partial_line(tmp_path, monkeypatch, small_config):
    full = FullAfter(room=0)
    monkeypatch.setattr(fileio.os, "write", full)
    told = []
    log = SessionLog(tmp_path / "s.jsonl", small_config(), on_error=told.append)
    full.fds.add(log._out.fd)
    from dropout_tui.core.experiment import PairedExperiment

    exp = PairedExperiment(small_config())
    snap = exp.snapshot()
    full.room = len(json.dumps(snap)) // 2  # room for half a snapshot line
    log.snapshot(snap)
    log.snapshot(snap)
    log.close("quit", 0)
    assert told == [log] and log.stopped and not log.complete
    assert log.error is not None and log.error.errno == errno.ENOSPC
    text = (tmp_path / "s.jsonl").read_bytes()
    assert text.endswith(b"\n") and text.count(b"\n") == 1  # the header alone: the half line was cut off
    session = read_session(tmp_path / "s.jsonl")
    assert session.close is None and any("no close record" in w for w in session.warnings)


def test_full_disk_on_the_csv_and_in_the_cli(tmp_path, monkeypatch, capsys):
    full = FullAfter(room=10 ** 9)
    monkeypatch.setattr(fileio.os, "write", full)
    real_open = fileio.create_output

    def tracked(path, force=False):
        out = real_open(path, force)
        if str(path).endswith(".csv"):
            full.fds.add(out.fd)
            full.room = 3000  # the header and a few rows
        return out

    monkeypatch.setattr("dropout_tui.tui.outputs.create_output", tracked)
    code, out, err = cli(capsys, "--headless", *SMALL, "--json", "--record", tmp_path / "s.jsonl",
                         "--csv", tmp_path / "m.csv")
    line = one_line(err)
    assert code == 2 and json.loads(out)["step"] == 40  # training went on and printed its result
    assert "--csv: cannot write" in line and "No space left on device; the CSV stops after step" in line
    rows = (tmp_path / "m.csv").read_text().splitlines()
    assert len(rows) % 2 == 1  # the header and whole pairs of rows (both runs of each snapshot)
    assert read_session(tmp_path / "s.jsonl").close.reason == "end"  # the log went on


def test_full_disk_csv_writer_alone(tmp_path, monkeypatch):
    full = FullAfter(room=10 ** 9)
    monkeypatch.setattr(fileio.os, "write", full)
    told = []
    csv_log = CsvLog(tmp_path / "m.csv", 2, on_error=told.append)
    full.fds.add(csv_log._out.fd)
    full.room = 0
    csv_log.write({"step": 1, "runs": {"inverted": {}, "unrescaled": {}}})
    csv_log.write({"step": 2, "runs": {"inverted": {}, "unrescaled": {}}})
    csv_log.close()
    assert told == [csv_log] and csv_log.error.errno == errno.ENOSPC and csv_log.last_step is None


def test_full_disk_a_saved_export_leaves_no_partial_file(tmp_path, monkeypatch):
    full = FullAfter(room=100)
    real_open = os.open

    def opening(path, flags, mode=0o777, **kw):
        fd = real_open(path, flags, mode, **kw)
        full.fds.add(fd)
        return fd

    monkeypatch.setattr(fileio.os, "write", full)
    monkeypatch.setattr(fileio.os, "open", opening)
    with pytest.raises(OSError) as info:
        save_new(tmp_path / "shots", "x.svg", b"<svg>" + b" " * 1000 + b"</svg>")
    assert info.value.errno == errno.ENOSPC
    assert list((tmp_path / "shots").iterdir()) == []
