"""``dropout-tui bench --ui`` says how many of our modules have no cached bytecode (each start then
compiles them, which its first-frame time includes): the check follows the import system's rules."""

from __future__ import annotations

import importlib.util
import os
import py_compile
from pathlib import Path

from dropout_tui.tui.bench_ui import bytecode, bytecode_cached

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_module_without_bytecode_is_not_cached(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    assert not bytecode_cached(source)


def test_bytecode_written_for_the_source_counts_until_the_source_changes(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    py_compile.compile(str(source), doraise=True)
    assert bytecode_cached(source)
    source.write_text("X = 12\n")  # another size (and, with a coarse clock, maybe the same time)
    assert not bytecode_cached(source)


def test_bytecode_for_another_modification_time_is_stale(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    py_compile.compile(str(source), doraise=True)
    stat = source.stat()
    os.utime(source, (stat.st_atime, stat.st_mtime + 10))
    assert not bytecode_cached(source)


def test_hash_based_bytecode_counts(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    py_compile.compile(str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    assert bytecode_cached(source)


def test_bytecode_of_another_python_is_not_cached(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("X = 1\n")
    cached = Path(py_compile.compile(str(source), doraise=True))
    data = bytearray(cached.read_bytes())
    data[:4] = bytes(b ^ 0xFF for b in importlib.util.MAGIC_NUMBER)
    cached.write_bytes(bytes(data))
    assert not bytecode_cached(source)


def test_the_report_counts_every_module_of_the_engine_and_the_ui():
    got = bytecode()
    expected = sum(1 for folder in ("core", "tui") for _ in (REPO_ROOT / folder).rglob("*.py"))
    assert got["modules"] == expected
    assert 0 <= got["without_bytecode"] <= got["modules"]
