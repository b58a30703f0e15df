"""Number formats shared by the panels: short, fixed-width, and honest about missing values."""

from __future__ import annotations

import math

MISSING = "—"
SPARK = "▁▂▃▄▅▆▇█"


def ok(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def num(x, digits: int = 3, fixed: bool = False) -> str:
    """About ``digits`` significant figures without exponents for the ranges shown here;
    ``fixed``: exactly ``digits`` decimals (losses, compared across columns)."""
    if not ok(x):
        return MISSING
    if fixed:
        return f"{x:.{digits}f}"
    a = abs(x)
    if a >= 10 ** digits:
        return f"{x:.3g}"
    if a >= 1 or a == 0:
        decimals = max(0, digits - 1 - int(math.floor(math.log10(a)))) if a else digits - 1
        return f"{x:.{decimals}f}"
    return f"{x:.{digits - 1}f}" if a >= 0.01 else f"{x:.1e}"


def pct(x, decimals: int = 1) -> str:
    return f"{100 * x:.{decimals}f}%" if ok(x) else MISSING


def ratio(a, b) -> float:
    return a / b if ok(a) and ok(b) and b != 0 else math.nan


def spark(values: list[float], lo: float = 0.0, hi: float = 2.0) -> str:
    """One character per value on a fixed scale (ratio 1 mid-height), so a flat line means a
    steady ratio."""
    out = []
    for v in values:
        if not ok(v):
            out.append(" ")
            continue
        f = (min(max(v, lo), hi) - lo) / (hi - lo)
        out.append(SPARK[min(len(SPARK) - 1, int(f * len(SPARK)))])
    return "".join(out)
