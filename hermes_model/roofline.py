"""Roofline time of one operation on one device, and the time of a transfer over a link.

An operation of `flop` FLOP that moves `bytes` bytes takes

.. math:: t = \\max\\left(\\frac{F}{\\eta_c P},\\; \\frac{B}{\\eta_b W}\\right) + t_0

where P is the device's peak FLOP rate, W its peak memory bandwidth, η_c and η_b the achievable
fractions of its kind and t_0 a fixed per-kernel overhead. Every function takes numpy arrays as
well as scalars (a sweep is one call), and reports which bound applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hermes_model.shapes import dtype_bytes
from hermes_model.specs import LinkSpec

#: Labels of the bound that sets an operation's time.
COMPUTE, MEMORY = "compute", "memory"


class Device(Protocol):
    """Anything with a roofline: a GPU, a host CPU, an NDP-DIMM."""

    @property
    def achievable_flop_per_s(self) -> float: ...
    @property
    def achievable_bandwidth_bytes_per_s(self) -> float: ...
    @property
    def kernel_overhead_s(self) -> float: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OpTime:
    """The roofline time of one or many operations (arrays broadcast together).

    Attributes
    ----------
    time_s : ndarray
        Total time, overhead included (s).
    compute_s, memory_s : ndarray
        Time at the achievable FLOP rate and at the achievable bandwidth alone (s).
    bound : ndarray of str
        ``"compute"`` where compute time is the larger, else ``"memory"``.
    flop_per_s, bandwidth_bytes_per_s : float
        The achievable rates used.
    """

    time_s: npt.NDArray[np.float64]
    compute_s: npt.NDArray[np.float64]
    memory_s: npt.NDArray[np.float64]
    bound: npt.NDArray[np.str_]
    flop_per_s: float
    bandwidth_bytes_per_s: float


def ridge_point_flop_per_byte(flop_per_s: float, bandwidth_bytes_per_s: float) -> float:
    """Arithmetic intensity at which compute and memory time are equal (FLOP/byte)."""
    if flop_per_s <= 0 or bandwidth_bytes_per_s <= 0:
        raise ValueError("flop_per_s and bandwidth_bytes_per_s must be positive, got "
                         f"{flop_per_s!r} and {bandwidth_bytes_per_s!r}")
    return flop_per_s / bandwidth_bytes_per_s


def attainable_flop_per_s(intensity_flop_per_byte: npt.ArrayLike, flop_per_s: float,
                          bandwidth_bytes_per_s: float) -> npt.NDArray[np.float64]:
    """The roofline itself: min(peak, intensity × bandwidth) (FLOP/s)."""
    intensity = np.asarray(intensity_flop_per_byte, dtype=float)
    return np.minimum(flop_per_s, intensity * bandwidth_bytes_per_s)


def op_time(flop: npt.ArrayLike, bytes_moved: npt.ArrayLike, *, flop_per_s: float,
            bandwidth_bytes_per_s: float, overhead_s: float = 0.0) -> OpTime:
    """Roofline time of operations given their FLOP and bytes, at the given achievable rates.

    Parameters
    ----------
    flop : array_like
        Floating-point operations (FLOP); 2 per multiply-accumulate.
    bytes_moved : array_like
        Bytes read from and written to the device's memory (bytes).
    flop_per_s, bandwidth_bytes_per_s : float
        Achievable compute rate (FLOP/s) and memory bandwidth (B/s); both must be positive.
    overhead_s : float
        Fixed time per operation (s), for example a kernel launch.
    """
    if flop_per_s <= 0 or bandwidth_bytes_per_s <= 0:
        raise ValueError("flop_per_s and bandwidth_bytes_per_s must be positive, got "
                         f"{flop_per_s!r} and {bandwidth_bytes_per_s!r}")
    if overhead_s < 0:
        raise ValueError(f"overhead_s must be >= 0, got {overhead_s!r}")
    compute_s = np.asarray(flop, dtype=float) / flop_per_s
    memory_s = np.asarray(bytes_moved, dtype=float) / bandwidth_bytes_per_s
    if np.any(compute_s < 0) or np.any(memory_s < 0):
        raise ValueError("flop and bytes_moved must be non-negative")
    compute_s, memory_s = np.broadcast_arrays(compute_s, memory_s)
    return OpTime(time_s=np.maximum(compute_s, memory_s) + overhead_s, compute_s=compute_s,
                  memory_s=memory_s, bound=np.where(compute_s > memory_s, COMPUTE, MEMORY),
                  flop_per_s=flop_per_s, bandwidth_bytes_per_s=bandwidth_bytes_per_s)


def matmul_flop(m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """FLOP of an M×K by K×N product: 2·M·N·K."""
    return 2.0 * np.asarray(m, dtype=float) * np.asarray(n, dtype=float) * np.asarray(k, dtype=float)


def matmul_bytes(m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike,
                 dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Bytes of an M×K by K×N product that each operand and the result cross memory once:
    (M·K + K·N + M·N) × bytes per element. For decode, K×N is the weight matrix."""
    m_, n_, k_ = (np.asarray(x, dtype=float) for x in (m, n, k))
    for name, arr in (("m", m_), ("n", n_), ("k", k_)):
        if np.any(arr <= 0):
            raise ValueError(f"{name} must be positive, got {arr.min()!r}")
    return (m_ * k_ + k_ * n_ + m_ * n_) * dtype_bytes(dtype)


def matmul_time(device: Device, m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike,
                dtype: str = "fp16") -> OpTime:
    """Roofline time of an M×K by K×N product on `device` at its achievable rates.

    The compute rate is the device's FP16 tensor (or FP32 SIMD, for a CPU) rate whatever `dtype`;
    `dtype` sets the bytes per element.
    """
    return op_time(matmul_flop(m, n, k), matmul_bytes(m, n, k, dtype),
                   flop_per_s=device.achievable_flop_per_s,
                   bandwidth_bytes_per_s=device.achievable_bandwidth_bytes_per_s,
                   overhead_s=device.kernel_overhead_s)


def transfer_time_s(bytes_moved: npt.ArrayLike, link: LinkSpec) -> npt.NDArray[np.float64]:
    """Time to move `bytes_moved` bytes one way over `link`: latency + bytes / achievable bandwidth."""
    b = np.asarray(bytes_moved, dtype=float)
    if np.any(b < 0):
        raise ValueError(f"bytes_moved must be non-negative, got {b.min()!r}")
    return link.latency_s + b / link.achievable_bandwidth_bytes_per_s
