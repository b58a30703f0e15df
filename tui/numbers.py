"""Number formats shared by the panels and the headless table: every value, of any magnitude, in a
cell of a stated width, and honest about missing and non-finite values.

``fit(x, width)`` is the one rule: fixed decimals while they fit and still show the value, else
scientific notation with as many mantissa digits as fit (``6.2e136``, ``1e-12``), ``nan`` / ``inf``
as such, ``—`` for a value that is not there. Every float fits 7 characters (``-1e-300``); 5 are
enough for any value from 1e-99 to 1e99 that is not negative (losses, norms, ratios). A cell too
narrow for its value shows ``#`` throughout rather than a wrong number.
"""

from __future__ import annotations

import math

MISSING = "—"
SPARK = "▁▂▃▄▅▆▇█"
SPARK_ASCII = "_.-~=*#"
MIN_WIDTH = 7  # every float (sign, mantissa, exponent) fits in this many characters
# A train/pred mean ratio further than this from 1 is drawn in the warning colour (layer table),
# and the explanation panel explains every such ratio it shows.
RATIO_WARN = 0.15
FIXED_BELOW = 1e6  # from here on a value is written in scientific notation: its digits mean nothing


def ok(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _sci(x: float, digits: int) -> str:
    """``x`` in scientific notation with ``digits`` after the point and a compact exponent
    (``6.17e136``, ``1.5e-12``): no ``+`` and no leading zeros."""
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def fmt(x, decimals: int = 3, width: int | None = None) -> str:
    """The shortest honest text for ``x`` within ``width`` characters (no limit: None).

    Fixed notation with ``decimals`` decimals (fewer for large values) when that fits and does not
    round a non-zero value to zero; otherwise scientific. Never longer than ``width``: ``#`` ×
    width when nothing fits (never below ``MIN_WIDTH``)."""
    if x is None or not _number(x):
        return MISSING
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    limit = width if width is not None else 10 ** 6
    if abs(x) < FIXED_BELOW:
        for d in range(decimals, -1, -1):
            text = f"{x:.{d}f}"
            if float(text) == 0 and x != 0:
                break  # fixed notation would show a non-zero value as zero
            if len(text) <= limit:
                return text
    return _sci_within(x, limit)


def _sci_within(x: float, limit: int) -> str:
    for digits in (2, 1, 0):
        text = _sci(x, digits)
        if len(text) <= limit:
            return text
    return "#" * limit


def fit(x, width: int, decimals: int = 3) -> str:
    """``fmt`` right-aligned in exactly ``width`` characters."""
    return fmt(x, decimals, width).rjust(width)


def r2(x, width: int = 4) -> str:
    """R² right-aligned in ``width`` characters. R² is at most 1 and read on an absolute scale (0:
    no better than predicting the mean), so from -0.1 to 1 it has two decimals, and a value that
    rounds to 0.00 may show so; between -0.1 and 0, where "-0.04" needs 5 characters, the leading
    zero goes (``-.04``), as statistics tables write values bounded by 1. Elsewhere as ``fit``."""
    if ok(x) and -0.1 < x <= 1:
        short = f"{x:.2f}".replace("-0.", "-.")
        if len(short) <= width:
            return short.rjust(width)
    return fit(x, width, 2)


def num(x, digits: int = 3, width: int | None = None) -> str:
    """About ``digits`` significant figures (activations, norms, ratios); scientific notation for
    very large or very small values. At most ``digits + 3`` characters, or ``width``."""
    if not _number(x) or not ok(x):
        return fmt(x)
    a = abs(x)
    if a == 0:
        text = f"{0:.{digits - 1}f}"
    elif a >= 10 ** (digits + 1) or a < 10 ** -(digits - 1):
        text = _sci_within(x, digits + 3)
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(a)))
        text = f"{x:.{decimals}f}"
    return text if width is None or len(text) <= width else fmt(x, digits - 1, width)


def pct(x, decimals: int = 1, width: int | None = None) -> str:
    """A fraction as a percentage (``89.8%``), with fewer decimals when ``width`` is short."""
    if not ok(x):
        return fmt(x)
    for d in range(decimals, -1, -1):
        text = f"{100 * x:.{d}f}%"
        if width is None or len(text) <= width:
            return text
    return fmt(100 * x, 0, None if width is None else width - 1) + "%"


def prob(p) -> str:
    """A keep probability: two decimals on the keys' grid (``0.50``), up to four when given more
    (``0.567``), three significant digits below 0.01 (``0.001``, ``1e-6``): no accepted value
    shows as ``0.00`` or ``1.00`` when it is not."""
    if not ok(p):
        return fmt(p)
    if p >= 0.01:
        text = f"{p:.4f}".rstrip("0")
        return text if len(text) > 4 else f"{p:.2f}"
    if p >= 0.001:
        return f"{p:.3g}"
    exact = next((d for d in (0, 1) if float(f"{p:.{d}e}") == p), 2)
    text = _sci(p, exact)
    return text if len(text) <= 8 else _sci(p, 1)


def steps(n: float) -> str:
    """A step count for an axis label: ``0``, ``500``, ``1.5k``, ``20k``, ``3M``."""
    n = float(n)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            v = n / scale
            return (f"{v:.1f}".rstrip("0").rstrip(".") if v < 10 else f"{v:.0f}") + suffix
    return f"{n:.0f}"


def ratio(a, b) -> float:
    return a / b if ok(a) and ok(b) and b != 0 else math.nan


def spark(values: list[float], lo: float = 0.0, hi: float = 2.0, ascii_only: bool = False) -> str:
    """One character per value on a fixed scale (ratio 1 mid-height), so a flat line means a
    steady ratio."""
    glyphs = SPARK_ASCII if ascii_only else SPARK
    out = []
    for v in values:
        if not ok(v):
            out.append(" ")
            continue
        f = (min(max(v, lo), hi) - lo) / (hi - lo)
        out.append(glyphs[min(len(glyphs) - 1, int(f * len(glyphs)))])
    return "".join(out)
