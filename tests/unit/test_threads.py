"""The BLAS-thread limit takes hold on the BLAS numpy actually loaded.

threadpoolctl only limits libraries it recognises; before 3.5.0 it did not recognise the OpenBLAS
that numpy 2 wheels bundle (scipy-openblas), and the limit silently did nothing. The operating
system's list of mapped files is the independent witness of which BLAS is loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from dropout_tui.tui.threads import limit_blas_threads


def _loaded_blas_files() -> set[str]:
    maps = Path("/proc/self/maps").read_text()
    names = {line.rsplit("/", 1)[-1] for line in maps.splitlines() if "/" in line}
    return {n for n in names if "openblas" in n.lower() or "libmkl_rt" in n.lower()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_the_limit_reaches_the_blas_numpy_loaded():
    np.dot(np.ones((64, 64)), np.ones((64, 64)))  # make sure the BLAS is loaded and initialised
    limit_blas_threads()
    loaded = _loaded_blas_files()
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    found = {Path(info["filepath"]).name for info in blas}
    assert loaded <= found, f"numpy loaded {sorted(loaded)}, threadpoolctl sees only {sorted(found)}"
    assert all(info["num_threads"] == 1 for info in blas), blas
