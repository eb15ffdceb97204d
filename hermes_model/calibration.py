"""Calibration: fit the roofline's few constants to kernels and copies measured on a real GPU.

The roofline of `hermes_model.roofline` needs, for each kind of device, an attained share of the
peak memory bandwidth η_b, an attained share of the peak FLOP rate η_c and a fixed time per kernel
t_0; a link needs its attained share of the per-direction bandwidth η_l and a latency t_l. This
module fits them (``scipy.optimize.least_squares`` on relative errors) to the micro-benchmarks of
``scripts/measure_gpu.py`` and reports how well the fitted model predicts shapes and sizes it was
not fitted on. Six constants are fitted, no more:

========================  =============================================================
``bandwidth_frac``        η_b, attained share of the datasheet memory bandwidth
``compute_frac``          η_c, attained share of the datasheet dense FP16 tensor rate
``overhead_s``            t_0, fixed time of one kernel as CUDA events see it (s)
``gather_penalty``        γ, weight bytes a gathered sparse GEMV moves per selected byte
``LinkFit.bandwidth_frac``  η_l, attained share of the link's per-direction bandwidth
``LinkFit.latency_s``     t_l, fixed time of one copy (s)
========================  =============================================================

The fractions are of the peaks passed in (the calibration chapter passes the H200's
``datasheet`` profile); under the ``paper`` profile the same fractions multiply the paper's
stated peaks instead. Functions here are pure: they take the measurement table as a DataFrame
(read by `hermes_model.io.load_measurements`) and return frozen results or new DataFrames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import least_squares

from hermes_model import roofline, shapes
from hermes_model import units as u
from hermes_model.shapes import dtype_bytes
from hermes_model.specs import Efficiency, GpuSpec, LinkSpec

#: Matrices the kernel constants are fitted on (out × in, either orientation); the rest are held out.
FIT_MATRICES: tuple[str, ...] = ("4096x4096", "8192x28672")
#: Copies up to this size are fitted; larger ones are held out (bytes).
MAX_FIT_COPY_BYTES: float = 64 * u.MiB
#: Kernels shorter than this are launch-bound whatever the roofline says (s).
MIN_KERNEL_S: float = 20 * u.US

#: Kernel groups: a dense matmul, a pre-compacted sparse GEMV, a gather-then-matmul sparse GEMV,
#: and a single fused kernel that reads the selected rows in place.
DENSE, COMPACT, GATHERED, FUSED = "dense", "compact", "gathered", "fused"
#: Regimes: which term sets a kernel's time (launch = measured time under `MIN_KERNEL_S`).
LAUNCH = "launch"
FIT, HELD_OUT = "fit", "held-out"

_GROUP_OF = {("gemm", "matmul"): DENSE, ("gemv_compact", "matmul"): COMPACT,
             ("gemv_gather", "index_select"): GATHERED, ("gemv_gather", "advanced_index"): GATHERED,
             ("gemv_gather", "triton_fused"): FUSED}


# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelFit:
    """Fitted constants of the GPU kernel roofline.

    Attributes
    ----------
    bandwidth_frac, compute_frac : float
        η_b and η_c: attained shares of `peak_bandwidth_bytes_per_s` and `peak_flop_per_s`.
    overhead_s : float
        t_0, fixed time per kernel (s).
    gather_penalty : float
        γ: bytes of selected weights a gather-then-matmul GEMV moves per byte the compact one
        moves (3 if the rows are read, written and read again); the gather also pays one more t_0.
    peak_bandwidth_bytes_per_s, peak_flop_per_s : float
        The peaks the fractions are of (B/s, FLOP/s).
    fit_matrices : tuple of str
        Matrices (``"OUTxIN"``, either orientation) whose rows were fitted.
    n_dense, n_gathered : int
        Measurements in the two fits.
    """

    bandwidth_frac: float
    compute_frac: float
    overhead_s: float
    gather_penalty: float
    peak_bandwidth_bytes_per_s: float
    peak_flop_per_s: float
    fit_matrices: tuple[str, ...]
    n_dense: int
    n_gathered: int

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """η_b × peak bandwidth (B/s)."""
        return self.bandwidth_frac * self.peak_bandwidth_bytes_per_s

    @property
    def achievable_flop_per_s(self) -> float:
        """η_c × peak FLOP rate (FLOP/s)."""
        return self.compute_frac * self.peak_flop_per_s

    @property
    def kernel_overhead_s(self) -> float:
        """Alias of `overhead_s`, so that a fit is a `roofline.Device`."""
        return self.overhead_s


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFit:
    """Fitted constants of a host↔GPU link: t = latency + bytes / (η_l × peak).

    Attributes
    ----------
    bandwidth_frac : float
        η_l, attained share of `peak_bandwidth_bytes_per_s`.
    latency_s : float
        t_l, fixed time of one copy (s).
    peak_bandwidth_bytes_per_s : float
        Per-direction peak of the link (B/s).
    max_fit_bytes : float
        Largest copy fitted (bytes); larger ones are held out.
    n_fit : int
        Copies fitted (both directions, pinned memory).
    """

    bandwidth_frac: float
    latency_s: float
    peak_bandwidth_bytes_per_s: float
    max_fit_bytes: float
    n_fit: int

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """η_l × peak (B/s): the bandwidth of a copy long enough to hide the latency."""
        return self.bandwidth_frac * self.peak_bandwidth_bytes_per_s


@dataclass(frozen=True, slots=True, kw_only=True)
class HostCalibration:
    """What the host CPU measurements say about attained DRAM bandwidth.

    STREAM measures *attainable* bandwidth; this machine's DRAM peak is not known (a VM), so the
    transferable ratio is GEMV / STREAM.

    Attributes
    ----------
    stream_copy_bytes_per_s, stream_triad_bytes_per_s : float
        STREAM copy (read + write) and triad (two reads + one write) on all threads (B/s).
    stream_copy_one_thread_bytes_per_s : float
        STREAM copy on one thread (B/s).
    gemv_fp32_bytes_per_s, gemv_bf16_bytes_per_s : float
        Batch-1 GEMV on all threads of the largest measured matrix, bytes moved / time (B/s).
    gemv_matrix : str
        That matrix (``"OUTxIN"``).
    """

    stream_copy_bytes_per_s: float
    stream_triad_bytes_per_s: float
    stream_copy_one_thread_bytes_per_s: float
    gemv_fp32_bytes_per_s: float
    gemv_bf16_bytes_per_s: float
    gemv_matrix: str

    @property
    def fp32_gemv_over_stream(self) -> float:
        """fp32 GEMV bandwidth ÷ STREAM copy: how close a real kernel gets to STREAM."""
        return self.gemv_fp32_bytes_per_s / self.stream_copy_bytes_per_s

    @property
    def bf16_gemv_over_stream(self) -> float:
        """bf16 GEMV bandwidth ÷ STREAM copy."""
        return self.gemv_bf16_bytes_per_s / self.stream_copy_bytes_per_s


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """The whole calibration: GPU kernels, host↔GPU link and host CPU."""

    kernel: KernelFit
    link: LinkFit
    host: HostCalibration


# ------------------------------------------------------------------------------- tidy tables


def _matrix(out: npt.ArrayLike, inp: npt.ArrayLike) -> list[str]:
    """Orientation-free matrix label: ``"SMALLxLARGE"``."""
    return [f"{min(a, b)}x{max(a, b)}" for a, b in zip(np.asarray(out, dtype=int),
                                                          np.asarray(inp, dtype=int), strict=True)]


def kernel_rows(measurements: pd.DataFrame) -> pd.DataFrame:
    """The GPU matmul measurements as a tidy table.

    Columns: ``group`` (dense, compact, gathered, fused), ``variant``, ``m`` (batch), ``n``
    (output rows computed), ``k`` (inputs), ``n_total`` (rows of the full matrix), ``frac``,
    ``shape`` (``"N_TOTALxK"``), ``matrix`` (orientation-free), ``flop``, ``bytes`` (weights,
    inputs and outputs, once each), ``weight_bytes`` (the selected fp16 weights), ``measured_s``.
    """
    df = measurements[measurements["kind"].isin(["gemm", "gemv_compact", "gemv_gather"])]
    groups = [_GROUP_OF.get((k, v)) for k, v in zip(df["kind"], df["variant"], strict=True)]
    if any(g is None for g in groups):
        raise ValueError("unknown kernel kind/variant in the measurements")
    n = df["n"].to_numpy(dtype=float)
    k = df["k"].to_numpy(dtype=float)
    n_total = df["n_total"].fillna(df["n"]).to_numpy(dtype=float)
    return pd.DataFrame({
        "group": groups, "variant": df["variant"].to_numpy(),
        "m": df["m"].to_numpy(dtype=float), "n": n, "k": k, "n_total": n_total,
        "frac": df["frac"].fillna(1.0).to_numpy(dtype=float),
        "shape": [f"{int(a)}x{int(b)}" for a, b in zip(n_total, k, strict=True)],
        "matrix": _matrix(n_total, k),
        "flop": df["flop"].to_numpy(dtype=float), "bytes": df["bytes"].to_numpy(dtype=float),
        "weight_bytes": n * k * dtype_bytes("fp16"),
        "measured_s": df["median_s"].to_numpy(dtype=float),
    })


def copy_rows(measurements: pd.DataFrame) -> pd.DataFrame:
    """Host↔GPU copies: ``direction`` (h2d, d2h), ``pinned`` (bool), ``bytes``, ``measured_s``."""
    df = measurements[measurements["kind"].isin(["h2d", "d2h"])]
    return pd.DataFrame({"direction": df["kind"].to_numpy(),
                         "pinned": df["pinned"].to_numpy(dtype=float) == 1,
                         "bytes": df["bytes"].to_numpy(dtype=float),
                         "measured_s": df["median_s"].to_numpy(dtype=float)})


# ------------------------------------------------------------------------------------ models


def kernel_time_s(rows: pd.DataFrame, fit: KernelFit) -> tuple[npt.NDArray[np.float64],
                                                                npt.NDArray[np.str_]]:
    """Modelled time and bound of each row of `kernel_rows`.

    Notes
    -----
    Every kernel is a roofline, t = t_0 + max(F / (η_c P), B / (η_b W)); a gathered GEMV adds
    one more kernel that moves the selected weights γ − 1 more times,
    t_0 + (γ − 1) · B_w / (η_b W). Compact and fused kernels are plain rooflines.
    """
    base = roofline.op_time(rows["flop"].to_numpy(), rows["bytes"].to_numpy(),
                            flop_per_s=fit.achievable_flop_per_s,
                            bandwidth_bytes_per_s=fit.achievable_bandwidth_bytes_per_s,
                            overhead_s=fit.overhead_s)
    gathered = rows["group"].to_numpy() == GATHERED
    extra = fit.overhead_s + (fit.gather_penalty - 1.0) * (
        rows["weight_bytes"].to_numpy() / fit.achievable_bandwidth_bytes_per_s)
    return base.time_s + np.where(gathered, extra, 0.0), base.bound


def transfer_time_s(bytes_moved: npt.ArrayLike, fit: LinkFit) -> npt.NDArray[np.float64]:
    """Modelled copy time: latency + bytes / (η_l × peak) (s)."""
    return fit.latency_s + np.asarray(bytes_moved, dtype=float) / fit.achievable_bandwidth_bytes_per_s


def effective_link_bandwidth_bytes_per_s(bytes_moved: npt.ArrayLike,
                                         fit: LinkFit) -> npt.NDArray[np.float64]:
    """Bandwidth a copy of `bytes_moved` bytes attains under the fit: bytes / modelled time (B/s).

    It rises with size towards η_l × peak; half of that is reached at bytes = t_l × η_l × peak.
    """
    b = np.asarray(bytes_moved, dtype=float)
    return b / transfer_time_s(b, fit)


# --------------------------------------------------------------------------------------- fits


def _canonical(label: str) -> str:
    """``"OUTxIN"`` → the orientation-free ``"SMALLxLARGE"``; ValueError if malformed."""
    parts = label.split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"matrix labels are 'OUTxIN' with positive integers, got {label!r}")
    a, b = int(parts[0]), int(parts[1])
    return f"{min(a, b)}x{max(a, b)}"


def _in_fit(matrix: pd.Series, fit_matrices: Sequence[str]) -> npt.NDArray[np.bool_]:
    return matrix.isin({_canonical(s) for s in fit_matrices}).to_numpy()


#: Bounds of the kernel fit's constants (least squares): name → (low, high), in SI (η_b, η_c
#: and γ are ratios, t_0 is in s). A constant that ends on one was not identified by the
#: fitted matrices.
KERNEL_FIT_BOUNDS: Final[Mapping[str, tuple[float, float]]] = MappingProxyType({
    "η_b": (1e-3, 1.0), "η_c": (1e-3, 1.0), "t_0": (0.0, 1e3 * u.US), "γ": (1.0, 20.0)})


def fit_kernels(rows: pd.DataFrame, *, peak_bandwidth_bytes_per_s: float, peak_flop_per_s: float,
                fit_matrices: Sequence[str] = FIT_MATRICES) -> KernelFit:
    """Fit η_b, η_c and t_0 to the dense kernels, then γ to the gathered ones, of `fit_matrices`.

    Parameters
    ----------
    rows : DataFrame
        Output of `kernel_rows`.
    peak_bandwidth_bytes_per_s, peak_flop_per_s : float
        The device's peaks (B/s, FLOP/s); the fractions are of these.
    fit_matrices : sequence of str
        ``"OUTxIN"`` labels; both orientations of each are fitted.

    Notes
    -----
    Both fits minimise the squared log of modelled ÷ measured time (a relative error, so a
    20 µs kernel weighs as much as a 1 ms one). Compact and fused kernels are never fitted.
    """
    if isinstance(fit_matrices, str) or not fit_matrices:
        raise ValueError(f"fit_matrices must be a non-empty list of 'OUTxIN' labels, "
                         f"got {fit_matrices!r}")
    in_fit = _in_fit(rows["matrix"], fit_matrices)
    dense = rows[in_fit & (rows["group"] == DENSE).to_numpy()]
    gathered = rows[in_fit & (rows["group"] == GATHERED).to_numpy()]
    if len(dense) < 3:
        raise ValueError(f"need at least 3 dense kernels of {list(fit_matrices)} to fit, "
                         f"got {len(dense)}")

    def make(p: npt.NDArray[np.float64], gamma: float = 1.0) -> KernelFit:
        return KernelFit(bandwidth_frac=float(p[0]), compute_frac=float(p[1]),
                         overhead_s=float(p[2]) * u.US, gather_penalty=gamma,
                         peak_bandwidth_bytes_per_s=peak_bandwidth_bytes_per_s,
                         peak_flop_per_s=peak_flop_per_s, fit_matrices=tuple(fit_matrices),
                         n_dense=len(dense), n_gathered=len(gathered))

    measured = dense["measured_s"].to_numpy()
    # t_0 is fitted in µs so that the three unknowns have similar scales.
    sol = least_squares(lambda p: np.log(kernel_time_s(dense, make(p))[0] / measured),
                        x0=[0.8, 0.7, 5.0],
                        bounds=tuple(zip(KERNEL_FIT_BOUNDS["η_b"], KERNEL_FIT_BOUNDS["η_c"],
                                         [b / u.US for b in KERNEL_FIT_BOUNDS["t_0"]],
                                         strict=True)))
    base = make(sol.x)
    if gathered.empty:
        return base
    g_measured = gathered["measured_s"].to_numpy()
    sol_g = least_squares(
        lambda g: np.log(kernel_time_s(gathered, make(sol.x, float(g[0])))[0] / g_measured),
        x0=[2.0], bounds=tuple([b] for b in KERNEL_FIT_BOUNDS["γ"]))
    return make(sol.x, float(sol_g.x[0]))


def fit_link(copies: pd.DataFrame, *, peak_bandwidth_bytes_per_s: float,
             max_fit_bytes: float = MAX_FIT_COPY_BYTES) -> LinkFit:
    """Fit η_l and t_l to pinned copies (both directions) of at most `max_fit_bytes` bytes.

    Parameters
    ----------
    copies : DataFrame
        Output of `copy_rows`.
    peak_bandwidth_bytes_per_s : float
        The link's per-direction peak (B/s).
    max_fit_bytes : float
        Largest copy fitted (bytes).
    """
    fit_rows = copies[copies["pinned"] & (copies["bytes"] <= max_fit_bytes)]
    if len(fit_rows) < 2:
        raise ValueError(f"need at least 2 pinned copies of at most {max_fit_bytes:.0f} bytes, "
                         f"got {len(fit_rows)}")
    b = fit_rows["bytes"].to_numpy()
    measured = fit_rows["measured_s"].to_numpy()

    def make(p: npt.NDArray[np.float64]) -> LinkFit:
        return LinkFit(bandwidth_frac=float(p[0]), latency_s=float(p[1]) * u.US,
                       peak_bandwidth_bytes_per_s=peak_bandwidth_bytes_per_s,
                       max_fit_bytes=max_fit_bytes, n_fit=len(fit_rows))

    sol = least_squares(lambda p: np.log(transfer_time_s(b, make(p)) / measured),
                        x0=[0.8, 5.0], bounds=([1e-3, 0.0], [1.0, 1e4]))
    return make(sol.x)


def host_calibration(measurements: pd.DataFrame) -> HostCalibration:
    """STREAM and batch-1 GEMV bandwidths of the host CPU from the measurement table.

    The GEMV is the largest matrix measured, so that its weights cannot sit in the last-level
    cache (a 4096×4096 fp32 matrix, 64 MiB, fits the 300 MiB L3 of the measured VM).
    """
    df = measurements

    def bw(kind: str, variant: str, dtype: str | None = None) -> pd.Series:
        sel = df[(df["kind"] == kind) & (df["variant"] == variant)]
        if dtype is not None:
            sel = sel[sel["dtype"] == dtype]
        if sel.empty:
            raise ValueError(f"no {kind}/{variant} {dtype or ''} row in the measurements")
        return sel["bytes"] / sel["median_s"]

    gemv = df[(df["kind"] == "cpu_gemv") & (df["m"] == 1)]
    if gemv.empty:
        raise ValueError("no batch-1 cpu_gemv row in the measurements")
    size = gemv["n"] * gemv["k"]
    big = gemv[size == size.max()]

    def gemv_bw(dtype: str) -> float:
        sel = big[big["dtype"] == dtype]
        if sel.empty:
            raise ValueError(f"no batch-1 {dtype} cpu_gemv row of the largest matrix")
        return float((sel["bytes"] / sel["median_s"]).iloc[0])

    row = big.iloc[0]
    return HostCalibration(
        stream_copy_bytes_per_s=float(bw("cpu_stream_copy", "copy_").iloc[0]),
        stream_triad_bytes_per_s=float(bw("cpu_stream_triad", "add_alpha").iloc[0]),
        stream_copy_one_thread_bytes_per_s=float(bw("cpu_stream_copy", "copy_1thread").iloc[0]),
        gemv_fp32_bytes_per_s=gemv_bw("float32"), gemv_bf16_bytes_per_s=gemv_bw("bfloat16"),
        gemv_matrix=f"{int(row['n'])}x{int(row['k'])}")


def host_bandwidth_frac(host: HostCalibration, *, stream_over_peak: float) -> float:
    """Attained share of a host's DRAM peak by a batch-1 GEMV.

    η_host = (STREAM ÷ peak) × min(1, GEMV ÷ STREAM). The first factor is an assumption (the
    measured machine's DRAM peak is unknown); the second is the measured fp32 ratio, capped at 1
    because a GEMV reads only while STREAM copy also writes.
    """
    if not 0 < stream_over_peak <= 1:
        raise ValueError(f"stream_over_peak must be in (0, 1], got {stream_over_peak!r}")
    return stream_over_peak * min(1.0, host.fp32_gemv_over_stream)


def calibrate(measurements: pd.DataFrame, *, gpu_peak_bandwidth_bytes_per_s: float,
              gpu_peak_flop_per_s: float, link_peak_bandwidth_bytes_per_s: float,
              fit_matrices: Sequence[str] = FIT_MATRICES,
              max_fit_copy_bytes: float = MAX_FIT_COPY_BYTES) -> Calibration:
    """Fit the GPU kernel and link constants and summarise the host, from one measurement table."""
    return Calibration(
        kernel=fit_kernels(kernel_rows(measurements),
                           peak_bandwidth_bytes_per_s=gpu_peak_bandwidth_bytes_per_s,
                           peak_flop_per_s=gpu_peak_flop_per_s, fit_matrices=fit_matrices),
        link=fit_link(copy_rows(measurements),
                      peak_bandwidth_bytes_per_s=link_peak_bandwidth_bytes_per_s,
                      max_fit_bytes=max_fit_copy_bytes),
        host=host_calibration(measurements))


# ------------------------------------------------------------------------------ predictions


def predict_kernels(rows: pd.DataFrame, fit: KernelFit, *,
                    min_kernel_s: float = MIN_KERNEL_S) -> pd.DataFrame:
    """`rows` with ``modelled_s``, ``bound``, ``regime``, ``split`` and ``error_frac`` added.

    ``regime`` is ``launch`` where the *measured* time is under `min_kernel_s`, else the model's
    bound (``memory`` or ``compute``); ``split`` is ``fit`` for the fit matrices (every group),
    else ``held-out``; ``error_frac`` = modelled ÷ measured − 1.
    """
    modelled, bound = kernel_time_s(rows, fit)
    measured = rows["measured_s"].to_numpy()
    return rows.assign(
        modelled_s=modelled, bound=bound,
        regime=np.where(measured < min_kernel_s, LAUNCH, bound),
        split=np.where(_in_fit(rows["matrix"], fit.fit_matrices), FIT, HELD_OUT),
        error_frac=modelled / measured - 1.0)


def predict_copies(copies: pd.DataFrame, fit: LinkFit) -> pd.DataFrame:
    """`copies` with ``modelled_s``, ``split`` (fit up to `fit.max_fit_bytes`) and ``error_frac``.

    The model is of pinned copies; pageable rows get it too, to show how far below it they fall.
    """
    modelled = transfer_time_s(copies["bytes"], fit)
    return copies.assign(
        modelled_s=modelled,
        split=np.where(copies["bytes"] <= fit.max_fit_bytes, FIT, HELD_OUT),
        error_frac=modelled / copies["measured_s"].to_numpy() - 1.0)


def error_summary(predicted: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Median absolute relative error and count of `predicted` rows, grouped `by` columns.

    Returns a DataFrame with the `by` columns, ``median_abs_error_frac``, ``max_abs_error_frac``
    and ``n``.
    """
    abs_err = predicted["error_frac"].abs()
    grouped = abs_err.groupby([predicted[c] for c in by], sort=True)
    return pd.DataFrame({"median_abs_error_frac": grouped.median(),
                         "max_abs_error_frac": grouped.max(),
                         "n": grouped.size()}).reset_index()


def acceptance_errors(kernels: pd.DataFrame, copies: pd.DataFrame) -> dict[str, tuple[float, int]]:
    """The issue's acceptance figures: median |error| and count of the held-out points.

    Keys: ``memory`` and ``compute`` (held-out dense kernels of at least `MIN_KERNEL_S`, as
    classified by `predict_kernels`) and ``copies`` (held-out pinned copies).
    """
    held = kernels[(kernels["split"] == HELD_OUT) & (kernels["group"] == DENSE)]
    out = {}
    for regime in (roofline.MEMORY, roofline.COMPUTE):
        err = held.loc[held["regime"] == regime, "error_frac"].abs()
        out[regime] = (float(err.median()) if len(err) else float("nan"), len(err))
    cp = copies[(copies["split"] == HELD_OUT) & copies["pinned"]]["error_frac"].abs()
    out["copies"] = (float(cp.median()) if len(cp) else float("nan"), len(cp))
    return out


# ------------------------------------------------------------------------ catalog efficiencies


def kernel_efficiency(fit: KernelFit, source: str) -> Efficiency:
    """The fit as the `Efficiency` of a GPU kind (the gather penalty has no field there)."""
    return Efficiency(bandwidth_frac=fit.bandwidth_frac, compute_frac=fit.compute_frac,
                      overhead_s=fit.overhead_s, source=source)


def link_efficiency(fit: LinkFit, source: str) -> Efficiency:
    """The fit as the `Efficiency` of a link kind (compute fraction 1: not applicable)."""
    return Efficiency(bandwidth_frac=fit.bandwidth_frac, compute_frac=1.0,
                      overhead_s=fit.latency_s, source=source)


# ------------------------------------------------------------------------- tables for charts


def gather_batches(predicted: pd.DataFrame) -> list[float]:
    """Batches at which every sparse-GEMV kind (compact, gathered and fused) was measured: the
    batches `gather_penalty_table` can show."""
    kinds = predicted[predicted["group"].isin([COMPACT, GATHERED, FUSED])]
    per_batch = kinds.groupby("m")["group"].nunique()
    return sorted(float(b) for b in per_batch[per_batch == 3].index)


def parse_matrix(text: str) -> tuple[int, int]:
    """``"28672x8192"`` as ``(28672, 8192)`` (out, in); a `ValueError` for anything else."""
    parts = text.split("x") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"a matrix is 'OUTxIN' with two positive integers, got {text!r}")
    return int(parts[0]), int(parts[1])


def catalog_matrices(models: Sequence[Any]) -> dict[str, list[str]]:
    """The weight matrices of `models` (``ModelSpec``), as ``"OUTxIN"`` -> the models' short
    names that have one, in the catalog's order."""
    out: dict[str, list[str]] = {}
    for m in models:
        for mat in shapes.layer_matrices(m):
            names = out.setdefault(f"{mat.n}x{mat.k}", [])
            if m.name not in names:
                names.append(m.name)
    return out


def gather_penalty_table(predicted: pd.DataFrame, *, batch: float = 1) -> pd.DataFrame:
    """Slowdown of each sparse-GEMV variant over the pre-compacted matmul, against the fraction f.

    Parameters
    ----------
    predicted : DataFrame
        Output of `predict_kernels`.
    batch : float
        Batch rows ``m`` to show.

    Returns
    -------
    DataFrame
        ``shape``, ``frac``, ``variant`` (``index_select``, ``advanced_index``, ``triton_fused``,
        or ``model`` for the fitted gathered ÷ compact ratio) and ``slowdown`` (time ÷ the
        measured compact time; the model row divides the modelled times).
    """
    batches = gather_batches(predicted)
    if batch not in batches:
        raise ValueError(f"no gathered, fused and compact kernels measured at batch {batch!r}; "
                         f"measured at batch {', '.join(f'{b:g}' for b in batches)}")
    df = predicted[predicted["m"] == batch]
    key = ["shape", "frac"]
    compact = df[df["group"] == COMPACT].set_index(key)
    sparse = df[df["group"].isin([GATHERED, FUSED])]
    measured = sparse.assign(
        slowdown=sparse["measured_s"].to_numpy()
        / compact["measured_s"].reindex(pd.MultiIndex.from_frame(sparse[key])).to_numpy())
    gathered = sparse[sparse["group"] == GATHERED].drop_duplicates(key)
    model = gathered.assign(
        variant="model",
        slowdown=gathered["modelled_s"].to_numpy()
        / compact["modelled_s"].reindex(pd.MultiIndex.from_frame(gathered[key])).to_numpy())
    out = pd.concat([measured, model], ignore_index=True)[["shape", "frac", "variant", "slowdown"]]
    return out.dropna().reset_index(drop=True)


def link_curve(fit: LinkFit, bytes_moved: npt.ArrayLike) -> pd.DataFrame:
    """The fitted link's effective bandwidth over a range of copy sizes (for a chart).

    Returns ``bytes`` and ``bandwidth_bytes_per_s`` (bytes ÷ modelled time).
    """
    b = np.asarray(bytes_moved, dtype=float)
    return pd.DataFrame({"bytes": b,
                         "bandwidth_bytes_per_s": effective_link_bandwidth_bytes_per_s(b, fit)})


def comparison_table(kernels: pd.DataFrame, copies: pd.DataFrame) -> pd.DataFrame:
    """Every measured row with its modelled time, kernels and copies together (for a chart).

    Parameters
    ----------
    kernels, copies : DataFrame
        Outputs of `predict_kernels` and `predict_copies`.

    Returns
    -------
    DataFrame
        ``group`` (the kernel groups, ``pinned copy``, ``pageable copy``), ``split``, ``regime``
        (``copy`` for copies), ``label`` (a short description), ``measured_s``, ``modelled_s``,
        ``error_frac``.
    """
    cols = ["group", "split", "regime", "label", "measured_s", "modelled_s", "error_frac"]
    k = kernels.assign(label=[f"{v} {s} m={int(m)} f={f:g}" for v, s, m, f in zip(
        kernels["variant"], kernels["shape"], kernels["m"], kernels["frac"], strict=True)])
    c = copies.assign(
        group=np.where(copies["pinned"], "pinned copy", "pageable copy"), regime="copy",
        label=[f"{d} {b / u.MiB:g} MiB" for d, b in zip(copies["direction"], copies["bytes"],
                                                        strict=True)])
    return pd.concat([k[cols], c[cols]], ignore_index=True)


def carry_to(gpu: GpuSpec, link: LinkSpec, fit: Calibration, *, out_features: int,
             in_features: int, dtype: str = "fp16") -> dict[str, Any]:
    """What the fit implies for another GPU and link: the fitted fractions on their peaks.

    The assumption is that η_b, η_c, t_0, η_l and t_l transfer across GPUs and links. Returns
    the achievable rates (``bandwidth_bytes_per_s``, ``flop_per_s``, ``link_bytes_per_s``), the
    batch-1 GEMV time of an `out_features` × `in_features` weight matrix (``gemv_s``, with its
    ``bound``) and the time to move that matrix over the link (``copy_s``).
    """
    source = "calibration fit, carried over as an assumption"
    g = replace(gpu, efficiency=kernel_efficiency(fit.kernel, source))
    lk = replace(link, efficiency=link_efficiency(fit.link, source))
    t = roofline.matmul_time(g, 1, out_features, in_features, dtype)
    weight_bytes = out_features * in_features * dtype_bytes(dtype)
    return {"bandwidth_bytes_per_s": g.achievable_bandwidth_bytes_per_s,
            "flop_per_s": g.achievable_flop_per_s, "gemv_s": float(t.time_s),
            "bound": str(t.bound), "link_bytes_per_s": lk.achievable_bandwidth_bytes_per_s,
            "copy_s": float(roofline.transfer_time_s(weight_bytes, lk))}


def paper_profile_caveat(gpu_paper: GpuSpec, gpu_datasheet: GpuSpec, link_paper: LinkSpec,
                         link_datasheet: LinkSpec, *, link_paper_bytes_per_s: float,
                         link_datasheet_bytes_per_s: float) -> str:
    """How the paper profile's figures of a target GPU and link differ from the datasheet's,
    as the end of a sentence ("but the paper's 330 TFLOPS is the FP16-accumulate rate ...").

    The ``*_bytes_per_s`` are the links' achievable rates under the fit (the chapter's table).
    """
    flops = gpu_paper.fp16_flop_per_s != gpu_datasheet.fp16_flop_per_s
    link = (link_paper.bandwidth_per_direction_bytes_per_s
            > link_datasheet.bandwidth_per_direction_bytes_per_s)
    flops_text = (f"the paper's {gpu_paper.fp16_flop_per_s / u.TFLOP:.0f} TFLOPS is the "
                  "FP16-accumulate rate")
    link_text = (f"counts both directions, so the paper-profile link of "
                 f"{float(f'{link_paper_bytes_per_s / u.GB:.4g}'):.0f} GB/s is an upper bound no "
                 f"copy in one direction reaches (compare "
                 f"{float(f'{link_datasheet_bytes_per_s / u.GB:.4g}'):.1f} GB/s)")
    if flops and link:
        return f"but {flops_text} and its PCIe convention {link_text}"
    if link:
        return f"but the paper's PCIe convention {link_text}"
    if flops:
        return f"but {flops_text} (the link is the same under both profiles)"
    return "as under the datasheet profile (the paper states no other figures for them)"
