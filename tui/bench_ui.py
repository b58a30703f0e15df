"""``dropout-tui bench --ui``: what the app costs as a person feels it.

The real ``dropout-tui`` runs in a pseudo-terminal; a terminal emulator (pyte) reads its screen the
way a person would. Reported per terminal size: training throughput with the UI as a share of
headless, bytes per second written to the terminal while training and while paused (what SSH and
recordings carry), key-to-screen latency, time to first frame, and peak memory.

The time to first frame includes compiling those of our modules that have no cached bytecode:
an installed wheel has it (pip writes it), an editable install under ``PYTHONDONTWRITEBYTECODE=1``
never does, and then every start compiles a few hundred kB of source. ``bytecode`` says how many
of the package's modules are in that case, so that a first frame is read with it.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

import pyte

from dropout_tui.core.config import Config
from dropout_tui.core.experiment import PairedExperiment
from dropout_tui.core.stepping import advance_with_snapshots

from .ptyharness import PtyApp
from .threads import limit_blas_threads
from .trainer import SPEEDS

SIZES = ((80, 24), (120, 40))
STEP_RE = re.compile(r"step ([\d,]+)")
KEEP_RE = re.compile(r"keep_prob (\d\.\d\d)")


class ScreenReader:
    """Feeds the app's output to an emulated screen, chunk by chunk, remembering when each
    chunk arrived, so a change on screen can be dated to the chunk that made it."""

    def __init__(self, app: PtyApp):
        self.app = app
        self.screen = pyte.Screen(app.cols, app.rows)
        self.stream = pyte.ByteStream(self.screen)
        self._next = 0

    def _chunks(self):
        with self.app._lock:
            fresh = self.app.chunks[self._next:]
        self._next += len(fresh)
        return fresh

    def _feed(self, data: bytes) -> None:
        try:
            self.stream.feed(data)
        except (TypeError, ValueError, IndexError):
            # pyte, rarely, chokes on a control sequence it does not model and its parser dies
            # with it; carry on with a fresh parser on the same screen, as a terminal would.
            self.stream = pyte.ByteStream(self.screen)

    def text(self) -> str:
        for _, data in self._chunks():
            self._feed(data)
        return "\n".join(self.screen.display)

    def wait_until(self, predicate, timeout: float = 5.0, since: float = 0.0) -> float | None:
        """Arrival time of the first chunk, at or after ``since``, after which
        ``predicate(screen text)`` holds. Earlier chunks are fed but cannot count."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for t, data in self._chunks():
                self._feed(data)
                if t >= since and predicate("\n".join(self.screen.display)):
                    return t
            time.sleep(0.002)
        return None


def _step(text: str) -> int | None:
    m = STEP_RE.search(text)
    return int(m.group(1).replace(",", "")) if m else None


def headless_rate(config: Config, seconds: float = 3.0) -> float:
    """Paired steps per second with snapshots at the default interval, no UI."""
    exp = PairedExperiment(config)
    advance_with_snapshots(exp, config.eval_every * 5, lambda s: None)  # warm up
    start, steps = time.perf_counter(), exp.step
    while time.perf_counter() - start < seconds:
        advance_with_snapshots(exp, config.eval_every * 10, lambda s: None)
    return (exp.step - steps) / (time.perf_counter() - start)


def measure_size(cols: int, rows: int, seconds: float, keys: int) -> dict:
    command = shutil.which("dropout-tui")
    argv = [command] if command else [sys.executable, "-m", "dropout_tui.tui.cli"]
    app = PtyApp(argv, cols, rows)
    reader = ScreenReader(app)
    try:
        first = reader.wait_until(lambda s: "keep_prob" in s and "unrescaled" in s, 15)
        # The app opens at a learner's pace and ramps up; the bench measures its top speed.
        for _ in range(len(SPEEDS)):
            if "speed max" in reader.text():
                break
            app.send("]")
            reader.wait_until(lambda s: "speed max" in s, 0.3)
        time.sleep(1.0)  # let the first maps and curves settle

        # Training: steps shown on screen over a window, and the bytes written meanwhile.
        t0, s0 = app.now(), _step(reader.text())
        time.sleep(seconds)
        t1, s1 = app.now(), _step(reader.text())
        training_bps = app.bytes_between(t0, t1) / (t1 - t0)
        ui_rate = (s1 - s0) / (t1 - t0) if s0 is not None and s1 is not None else float("nan")

        # Key to screen while training: alternate + and -, wait for the new value on screen.
        latencies = []
        match = KEEP_RE.search(reader.text())
        if match is None:
            raise RuntimeError("the app's status line shows no keep_prob")
        value = float(match.group(1))
        for i in range(keys):
            value = round(value + (0.05 if i % 2 == 0 else -0.05), 2)
            reader.text()  # bring the screen up to date first
            sent = app.send("+" if i % 2 == 0 else "-")
            shown = reader.wait_until(lambda s, v=value: f"keep_prob {v:.2f}" in s, 2.0, since=sent)
            latencies.append((shown - sent) if shown is not None else float("inf"))
            time.sleep(0.15)

        # Paused: after the pause has settled on screen, how much is still written.
        app.send(" ")
        reader.wait_until(lambda s: "paused" in s, 2.0)
        time.sleep(0.5)
        p0 = app.now()
        time.sleep(min(seconds, 3.0))
        p1 = app.now()
        paused_bps = app.bytes_between(p0, p1) / (p1 - p0)

        app.send("q")
        app.wait_exit(5)
    finally:
        app.close()
    return {
        "size": f"{cols}x{rows}",
        "ui_steps_per_s": ui_rate,
        "first_frame_s": first,
        "bytes_per_s_training": training_bps,
        "bytes_per_s_paused": paused_bps,
        "key_latency_median_ms": 1000 * statistics.median(latencies),
        "key_latency_worst_ms": 1000 * max(latencies),
        "peak_rss_mb": (app.max_rss_kb or 0) / 1024,
        "exit_status": app.exit_status,
    }


def bytecode_cached(source: Path) -> bool:
    """Whether the import system would load ``source`` from its cached bytecode rather than compile
    it: a .pyc for this interpreter (its magic number) that is either timestamp-based and written
    for this source's modification time and size, or hash-based (the 16-byte header of PEP 552)."""
    try:
        with open(importlib.util.cache_from_source(str(source)), "rb") as f:
            header = f.read(16)
        stat = source.stat()
    except (OSError, NotImplementedError, ValueError):
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") & 1:
        return True  # hash-based: valid while the source is unchanged, as it is when installed
    return (int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF
            and int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF)


def bytecode() -> dict:
    """``{"modules": n, "without_bytecode": k}`` for dropout-tui's own modules (core and tui): Python
    compiles each of the ``k`` from source whenever a process imports it, those the app loads at
    every start."""
    import dropout_tui.core
    import dropout_tui.tui

    sources = [path for package in (dropout_tui.core, dropout_tui.tui) for root in package.__path__
               for path in sorted(Path(root).rglob("*.py"))]
    return {"modules": len(sources), "without_bytecode": sum(not bytecode_cached(p) for p in sources)}


def run_ui_bench(seconds: float = 5.0, keys: int = 10) -> dict:
    limit_blas_threads()  # the app limits itself; the headless yardstick must run the same way
    headless = headless_rate(Config())
    results = []
    for cols, rows in SIZES:
        r = measure_size(cols, rows, seconds, keys)
        r["headless_steps_per_s"] = headless
        r["ui_share_of_headless"] = r["ui_steps_per_s"] / headless if headless else float("nan")
        results.append(r)
    return {"ui": results, "bytecode": bytecode()}
