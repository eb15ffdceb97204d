"""Unit constants. Inside the package every quantity is in SI base units.

Bandwidths and FLOP rates are decimal (1 GB/s = 1e9 B/s); capacities are binary where the vendor
means binary (a "24 GB" GPU holds 24 GiB). Human units appear only in catalog YAML keys, papermill
parameters and display columns; this module holds the factors that convert them.
"""

from __future__ import annotations

import math
import numbers

KB, MB, GB, TB = 1e3, 1e6, 1e9, 1e12
KiB, MiB, GiB, TiB = 2.0**10, 2.0**20, 2.0**30, 2.0**40
NS, US, MS = 1e-9, 1e-6, 1e-3
GFLOP, TFLOP = 1e9, 1e12
MHZ, GHZ = 1e6, 1e9
PJ = 1e-12

#: Factor from a display unit to SI, for `to_display` and the catalog loader.
DISPLAY_FACTORS: dict[str, float] = {
    "B": 1.0, "KB": KB, "MB": MB, "GB": GB, "TB": TB,
    "KiB": KiB, "MiB": MiB, "GiB": GiB, "TiB": TiB,
    "s": 1.0, "ms": MS, "us": US, "ns": NS,
    "GBps": GB, "TBps": TB, "GFLOPS": GFLOP, "TFLOPS": TFLOP,
    "Hz": 1.0, "MHz": MHZ, "GHz": GHZ, "pJ": PJ,
}


def to_display(value_si: float, unit: str) -> float:
    """Convert a value in SI base units to `unit` (for tables and axis labels only).

    Parameters
    ----------
    value_si : float
        Value in SI base units (bytes, s, B/s, FLOP/s, Hz, J).
    unit : str
        One of the keys of `DISPLAY_FACTORS`, for example ``"ms"`` or ``"GBps"``.
    """
    try:
        return value_si / DISPLAY_FACTORS[unit]
    except KeyError:
        allowed = ", ".join(DISPLAY_FACTORS)
        raise ValueError(f"unknown display unit {unit!r}; allowed: {allowed}") from None


# ------------------------------------------------------------------------- words and spans

#: The paper's label for a configuration that cannot run; the text shows it for a NaN.
NP = "N.P."

_COUNT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve")


def count_words(n: int, zero: str = "zero") -> str:
    """A count in words for the text: ``"five"``, `zero` for none, digits above twelve (and
    below zero).

    >>> count_words(2), count_words(0, zero="no"), count_words(13)
    ('two', 'no', '13')
    """
    n = int(n)
    return zero if n == 0 else _COUNT_WORDS[n] if 0 < n < len(_COUNT_WORDS) else str(n)


def plural(n: int, word: str, many: str | None = None, *, count: str | None = None) -> str:
    """`n` and `word`, with the plural where `n` is not one: ``"1 generated token"``,
    ``"2 generated tokens"``.

    Parameters
    ----------
    n : int
        The count.
    word : str
        The singular; the plural is `many`, else `word` + "s".
    count : str, optional
        How the count is printed (for example ``count_words(n)``); ``str(n)`` by default.

    >>> plural(1, "generated token"), plural(8, "NDP-DIMM", count="eight")
    ('1 generated token', 'eight NDP-DIMMs')
    """
    return f"{str(n) if count is None else count} {word if n == 1 else many or word + 's'}"


def _missing(v: object) -> bool:
    """Whether `v` is None or a NaN number (a string never is)."""
    return v is None or (isinstance(v, numbers.Real) and math.isnan(v))


def span_text(lo: object, hi: object, spec: str = ".2f", unit: str = "") -> str:
    """A range as the text prints it: ``"lo–hi"`` and its `unit`, one value where both ends
    print alike (format `spec`), :data:`NP` where either is NaN (or is already N.P.).

    >>> span_text(1.234, 5.678), span_text(1.231, 1.229, unit="×"), span_text(1.0, float("nan"))
    ('1.23–5.68', '1.23×', 'N.P.')
    """
    ends = [NP if _missing(v) else format(v, spec) for v in (lo, hi)]
    if NP in ends:
        return NP
    return (ends[0] if ends[0] == ends[1] else f"{ends[0]}–{ends[1]}") + unit
