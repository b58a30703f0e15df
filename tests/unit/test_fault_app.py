"""Fault kinds in the app, in-process under a pilot: file actions that fail, a recording that stops,
a MemoryError, and resizes that come in a storm."""

from __future__ import annotations

import errno
import os
import time

from dropout_tui.core import fileio
from dropout_tui.tui import app as app_module
from dropout_tui.tui import trainer as trainer_module
from dropout_tui.tui.app import MEMORY_ERROR, DropoutApp
from dropout_tui.tui.args import SessionFiles
from dropout_tui.tui.outputs import Outputs
from dropout_tui.tui.widgets.boundary_map import BoundaryMap


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_file_actions_s_and_e_with_a_directory_that_cannot_be_made(small_config, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way\n")
    app = DropoutApp(small_config(), worker=False, paused=True, prerun=20, screenshot_dir=blocker / "shots")
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("s", "e"):
            await pilot.press(key)
            await pilot.pause()
        said = messages(app)
        assert any(m.startswith("Could not save the screenshot in") for m in said), said
        assert any(m.startswith("Could not write the CSV in") for m in said), said
        assert app.is_running
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


async def test_file_actions_leave_no_partial_file_on_a_full_disk(small_config, tmp_path, monkeypatch):
    real_write = os.write

    def full(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
            real_write(fd, bytes(data[:10]))  # a little fits, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    app = DropoutApp(small_config(), worker=False, paused=True, prerun=20, screenshot_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(fileio.os, "write", full)
        for key in ("s", "e"):
            await pilot.press(key)
            await pilot.pause()
        monkeypatch.undo()
        said = messages(app)
        assert sum("No space left on device" in m for m in said) == 2, said
    assert list(tmp_path.iterdir()) == []


async def test_full_disk_a_recording_that_stops_is_a_notice_and_the_app_goes_on(small_config, tmp_path):
    outputs = Outputs.open(small_config(), SessionFiles(record=tmp_path / "s.jsonl"), mode="app")
    app = DropoutApp(small_config(), worker=False, paused=True, outputs=outputs)
    async with app.run_test(size=(80, 24)) as pilot:
        os.close(outputs.log._out.fd)  # the next write fails (EBADF), as on a disk that went away
        await pilot.press("n")
        await pilot.pause()
        said = messages(app)
        assert any(m.startswith(f"--record: cannot write {tmp_path / 's.jsonl'}") for m in said), said
        await pilot.press("n")
        await pilot.pause()
        assert app.trainer.exp.step == 2 and app.is_running
    assert len(outputs.problems) == 1
    outputs.close("quit", 2)


async def test_memory_error_in_the_worker_is_one_line_not_a_traceback(small_config, monkeypatch):
    def out_of_memory(self, publish, cancelled):
        raise MemoryError()

    monkeypatch.setattr(trainer_module.Trainer, "run", out_of_memory)
    app = DropoutApp(small_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
    assert app.fatal_error == MEMORY_ERROR and app.return_code == 2 and app.close_reason == "error"


async def test_resizes_coalesce_the_boundary_map_requests(small_config, monkeypatch):
    """A storm of resizes (a window dragged) asks the trainer for a grid at its start and one of the
    size it settles on, not one per size passed through. The settling time is stretched here so
    that however slow the machine, the storm's resizes come closer together than it."""
    monkeypatch.setattr(app_module, "RESIZE_SETTLE_S", 2.0)
    sent = []
    app = DropoutApp(small_config(), worker=False, paused=True)
    real = app._command

    def command(name, *args):
        if name == "boundary_shape":
            sent.append(args[0])
        real(name, *args)

    monkeypatch.setattr(app, "_command", command)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause(2.5)
        settled = len(sent)
        storm_started = time.monotonic()
        for i in range(30):
            await pilot.resize_terminal(100 + i, 40 + i % 5)
        storm = time.monotonic() - storm_started
        await pilot.pause(2.5)
        maps = list(app.query(BoundaryMap))
        assert maps and maps[0].display
        final = maps[0].grid_shape
    # The storm's first size (at once, after a quiet spell) and the size it settled on; a slow
    # machine (or Textual) can stretch the storm past the settling time, which lets one more
    # through per settling time it lasted. Never one per resize.
    assert settled >= 1 and 1 <= len(sent) - settled <= 2 + int(storm / 2.0), (sent, storm)
    storm_sent = sent[settled:]
    assert sent[-1] == final and all(a != b for a, b in zip(storm_sent, storm_sent[1:]))  # no size twice running
