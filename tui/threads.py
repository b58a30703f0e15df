"""Keep BLAS to one thread: at these matrix sizes a second OpenBLAS thread buys nothing and
takes the core the UI needs."""

from __future__ import annotations

_limiter = None


def limit_blas_threads() -> None:
    global _limiter
    if _limiter is None:
        import numpy  # noqa: F401 - threadpoolctl limits the BLAS libraries loaded so far: load numpy's first
        from threadpoolctl import threadpool_limits

        _limiter = threadpool_limits(limits=1, user_api="blas")
