"""Unit constants. Inside the package every quantity is in SI base units.

Bandwidths and FLOP rates are decimal (1 GB/s = 1e9 B/s); capacities are binary where the vendor
means binary (a "24 GB" GPU holds 24 GiB). Human units appear only in catalog YAML keys, papermill
parameters and display columns; this module holds the factors that convert them.
"""

from __future__ import annotations

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
