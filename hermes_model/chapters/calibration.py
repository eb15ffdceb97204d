"""The numbers and tables of the Calibration chapter: the fit to one GPU's measurements, carried on.

The fitting itself is `hermes_model.calibration`; the functions here check the chapter's
parameters against the measurement table, and turn the fit into the chapter's glue values
(key → the value as the text prints it) and tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hermes_model import calibration as cal
from hermes_model import io as hm_io
from hermes_model import params, policies, roofline
from hermes_model import units as u
from hermes_model.plotting import rounded
from hermes_model.shapes import ModelSpec
from hermes_model.specs import PROFILES, GpuSpec, HostSpec, LinkSpec


class Parameters(NamedTuple):
    """The chapter's parameters that the measurement table constrains, once checked.

    Attributes
    ----------
    fit_matrices : list of str
        Measured weight matrices (out x in) that the kernel fit uses.
    gather_batch : int
        Batch rows of the gather-penalty chart, one the measurement covers (as given).
    stream_over_peak : float
        Assumed STREAM / DRAM peak of the paper's host (fraction).
    """

    fit_matrices: list[str]
    gather_batch: int
    stream_over_peak: float


def check_parameters(measurements: pd.DataFrame, models: Sequence[ModelSpec], *,
                     fit_matrices: Any, max_fit_copy_MiB: Any, pageable_min_MiB: Any,
                     min_kernel_us: Any, gather_batch: Any, stream_over_peak: Any,
                     example_matrix: Any) -> Parameters:
    """Check the parameters that depend on the measurement table and the model catalog.

    Parameters
    ----------
    measurements : pandas.DataFrame
        The measurement table (`hermes_model.io.load_measurements`).
    models : sequence of ModelSpec
        The catalog's models; `example_matrix` must be one of their weight matrices.
    fit_matrices : list of str
        Non-empty; each a measured matrix (out x in).
    max_fit_copy_MiB : float
        Above the second-smallest measured copy and below the largest, so some are held out
        (MiB).
    pageable_min_MiB : float
        Above the smallest measured copy, up to the largest (MiB).
    min_kernel_us : float
        Between 0 and 100 µs.
    gather_batch : int
        A batch the gather measurements cover.
    stream_over_peak : float
        In (0, 1].
    example_matrix : str
        A catalog weight matrix (out x in).

    Returns
    -------
    Parameters

    Raises
    ------
    ValueError
        Naming the parameter and, where there are few, the values it may take.
    """
    kernel_rows = cal.kernel_rows(measurements)
    measured = sorted(set(kernel_rows["shape"]), key=cal.parse_matrix)
    if isinstance(fit_matrices, str) or not fit_matrices:
        raise ValueError(f"parameter 'fit_matrices': must be a non-empty list of measured "
                         f"matrices (out x in): {', '.join(measured)}; got {fit_matrices!r}")
    fit_matrices = [params.one_of(x, measured, "fit_matrices") for x in fit_matrices]
    copy_MiB = sorted(set(cal.copy_rows(measurements)["bytes"] / u.MiB))
    params.fraction(max_fit_copy_MiB, "max_fit_copy_MiB", low=copy_MiB[1], high=copy_MiB[-1],
                    include_high=False)  # some held out
    params.fraction(pageable_min_MiB, "pageable_min_MiB", low=copy_MiB[0], high=copy_MiB[-1],
                    include_low=False)
    params.fraction(min_kernel_us, "min_kernel_us", low=0, high=100)
    gather_batch = params.one_of(gather_batch, [int(b) for b in cal.gather_batches(kernel_rows)],
                                 "gather_batch")
    stream_over_peak = params.fraction(stream_over_peak, "stream_over_peak", include_low=False)
    known = sorted(cal.catalog_matrices(models), key=cal.parse_matrix)
    if example_matrix not in known:
        raise ValueError(f"parameter 'example_matrix': must be a weight matrix (out x in) of a "
                         f"catalog model, one of {', '.join(known)}; got {example_matrix!r}")
    return Parameters(fit_matrices, gather_batch, stream_over_peak)


def fit_and_predict(measurements: pd.DataFrame, gpu: GpuSpec, link: LinkSpec, *,
                    fit_matrices: Sequence[str], max_fit_copy_bytes: float,
                    min_kernel_s: float) -> tuple[cal.Calibration, pd.DataFrame, pd.DataFrame]:
    """Fit the measurements against the datasheet peaks, and predict every measured row.

    Parameters
    ----------
    measurements : pandas.DataFrame
        The measurement table.
    gpu, link : GpuSpec, LinkSpec
        The measured GPU and host link; their peaks are what the fractions are of.
    fit_matrices : sequence of str
        Matrices (out x in) the kernel fit uses; the others are held out.
    max_fit_copy_bytes : float
        Copies up to this size are fitted, larger ones held out (bytes).
    min_kernel_s : float
        Kernels measured shorter than this are launch-bound (s).

    Returns
    -------
    fit : Calibration
        `calibration.calibrate`.
    kernels, copies : pandas.DataFrame
        `calibration.predict_kernels` and `calibration.predict_copies` on every measured row.
    """
    fit = cal.calibrate(measurements,
                        gpu_peak_bandwidth_bytes_per_s=gpu.memory_bandwidth_bytes_per_s,
                        gpu_peak_flop_per_s=gpu.fp16_flop_per_s,
                        link_peak_bandwidth_bytes_per_s=link.bandwidth_per_direction_bytes_per_s,
                        fit_matrices=fit_matrices, max_fit_copy_bytes=max_fit_copy_bytes)
    kernels = cal.predict_kernels(cal.kernel_rows(measurements), fit.kernel,
                                  min_kernel_s=min_kernel_s)
    copies = cal.predict_copies(cal.copy_rows(measurements), fit.link)
    return fit, kernels, copies


def kernel_fit_glue(measurements: pd.DataFrame, fit: cal.Calibration,
                    fit_matrices: Sequence[str]) -> dict[str, object]:
    """The measurement's origin and the fitted kernel constants, as glue values.

    Returns
    -------
    dict
        ``device_name``, ``driver``, ``date`` (ISO day), ``n_rows``, ``fit_list``; ``eta_b``,
        ``eta_c``, ``t0_us``, ``launch_us`` (the median empty launch, µs), ``t0_txt``
        (`t0_txt`), ``n_dense_fit``,
        ``peak_TBps``, ``peak_TFLOPS``, ``ach_TBps``, ``ach_TFLOPS`` and ``ridge``
        (achievable FLOP/byte).
    """
    meta = measurements.iloc[0]
    k = fit.kernel
    launch = measurements.loc[measurements["variant"] == "sleep0_event_per_launch", "median_s"]
    t0_us = rounded(k.overhead_s / u.US, 3)
    launch_us = rounded(float(launch.iloc[0]) / u.US, 3)
    return {"device_name": meta["device_name"], "driver": meta["driver"],
            "date": meta["date"][:10], "n_rows": len(measurements),
            "fit_list": ", ".join(x.replace("x", " × ") for x in fit_matrices),
            "eta_b": rounded(k.bandwidth_frac, 3), "eta_c": rounded(k.compute_frac, 3),
            "t0_us": t0_us, "launch_us": launch_us,
            "t0_txt": t0_txt(t0_us, launch_us, len(fit_matrices)),
            "n_dense_fit": k.n_dense,
            "peak_TBps": rounded(k.peak_bandwidth_bytes_per_s / u.TB),
            "peak_TFLOPS": rounded(k.peak_flop_per_s / u.TFLOP),
            "ach_TBps": rounded(k.achievable_bandwidth_bytes_per_s / u.TB),
            "ach_TFLOPS": rounded(k.achievable_flop_per_s / u.TFLOP),
            "ridge": rounded(k.achievable_flop_per_s / k.achievable_bandwidth_bytes_per_s)}


def constants_table(fit: cal.Calibration) -> pd.DataFrame:
    """The six fitted constants, in display units, with what each was fitted to."""
    k = fit.kernel
    return pd.DataFrame({
        "constant": ["η_b", "η_c", "t_0 (µs)", "γ", "η_l", "t_l (µs)"],
        "value": [k.bandwidth_frac, k.compute_frac, k.overhead_s / u.US, k.gather_penalty,
                  fit.link.bandwidth_frac, fit.link.latency_s / u.US],
        "fitted to": [f"{k.n_dense} dense kernels"] * 3 + [f"{k.n_gathered} gathered kernels"]
        + [f"{fit.link.n_fit} pinned copies"] * 2})


@dataclass(frozen=True)
class LinkSummary:
    """The link fit, and what pageable host memory costs a copy.

    Attributes
    ----------
    median_bw : pandas.Series
        Median bandwidth (B/s) of the large copies, by (direction, pinned).
    pageable_frac : float
        Pageable over pinned host-to-device bandwidth of the large copies.
    glue : dict
        ``eta_l``, ``tl_us``, ``link_peak_GBps``, ``link_ach_GBps``, ``link_half_KiB``,
        ``pageable_<h2d|d2h|pinned_h2d>_GBps``,
        ``pageable_frac``, ``pageable_frac_package`` (`policies.PAGEABLE_COPY_FRAC`) and
        ``pageable_small_max_GBps``.
    """

    median_bw: pd.Series
    pageable_frac: float
    glue: dict[str, object]


def link_summary(lf: cal.LinkFit, copies: pd.DataFrame, *,
                 pageable_min_bytes: float) -> LinkSummary:
    """The link constants and the pageable copies' bandwidth, as glue values.

    Parameters
    ----------
    lf : LinkFit
        The link fit.
    copies : pandas.DataFrame
        The predicted copies: ``bytes``, ``measured_s``, ``direction`` (``h2d``, ``d2h``) and
        ``pinned``.
    pageable_min_bytes : float
        Copies from this size up give the pageable/pinned ratio (bytes).

    Returns
    -------
    LinkSummary
    """
    large = copies[copies["bytes"] >= pageable_min_bytes]
    median_bw = (large["bytes"] / large["measured_s"]).groupby(
        [large["direction"], large["pinned"]]).median()
    pageable_frac = median_bw[("h2d", False)] / median_bw[("h2d", True)]
    small_h2d = copies[~copies["pinned"] & (copies["direction"] == "h2d")
                       & (copies["bytes"] < pageable_min_bytes)]
    glue: dict[str, object] = {
        "eta_l": rounded(lf.bandwidth_frac, 3), "tl_us": rounded(lf.latency_s / u.US, 3),
        "link_peak_GBps": rounded(lf.peak_bandwidth_bytes_per_s / u.GB),
        "link_ach_GBps": rounded(lf.achievable_bandwidth_bytes_per_s / u.GB),
        "link_half_KiB": rounded(lf.latency_s * lf.achievable_bandwidth_bytes_per_s / u.KiB)}
    for key, index in {"h2d": ("h2d", False), "d2h": ("d2h", False),
                       "pinned_h2d": ("h2d", True)}.items():
        glue[f"pageable_{key}_GBps"] = rounded(median_bw[index] / u.GB)
    glue["pageable_frac"] = rounded(pageable_frac, 2)
    glue["pageable_frac_package"] = policies.PAGEABLE_COPY_FRAC
    glue["pageable_small_max_GBps"] = rounded(
        (small_h2d["bytes"] / small_h2d["measured_s"]).max() / u.GB)
    return LinkSummary(median_bw, pageable_frac, glue)


def link_chart_copies(copies: pd.DataFrame) -> pd.DataFrame:
    """The copies for `plotting.link_chart`: ``memory`` (pinned or pageable) and bandwidth (B/s)."""
    return copies.assign(memory=np.where(copies["pinned"], "pinned", "pageable"),
                         bandwidth_bytes_per_s=copies["bytes"] / copies["measured_s"])


def host_glue(h: cal.HostCalibration, host: HostSpec, *, stream_over_peak: float,
              eta_host: float) -> dict[str, object]:
    """The host measurements against STREAM, and the fraction carried to the paper's host.

    Parameters
    ----------
    h : HostCalibration
        The measured host (`calibration.host_calibration`).
    host : HostSpec
        The paper's host, whose DRAM peak the fraction is carried to.
    stream_over_peak : float
        Assumed STREAM / DRAM peak (fraction), glued as given.
    eta_host : float
        `calibration.host_bandwidth_frac` under that assumption.

    Returns
    -------
    dict
        ``gemv_over_stream``, ``bf16_over_stream``, ``stream_over_peak``, ``eta_host``,
        ``host_peak_GBps`` and ``host_ach_GBps``.
    """
    return {"gemv_over_stream": rounded(h.fp32_gemv_over_stream, 3),
            "bf16_over_stream": rounded(h.bf16_gemv_over_stream, 3),
            "stream_over_peak": stream_over_peak, "eta_host": rounded(eta_host, 3),
            "host_peak_GBps": rounded(host.dram_bandwidth_bytes_per_s / u.GB),
            "host_ach_GBps": rounded(eta_host * host.dram_bandwidth_bytes_per_s / u.GB)}


def host_table(h: cal.HostCalibration) -> pd.DataFrame:
    """The host's STREAM and GEMV bandwidths (GB/s), each also over STREAM copy."""
    return pd.DataFrame({
        "measurement": ["STREAM copy", "STREAM triad", "STREAM copy, one thread",
                        f"GEMV fp32 {h.gemv_matrix}", f"GEMV bf16 {h.gemv_matrix}"],
        "bandwidth (GB/s)": np.array([h.stream_copy_bytes_per_s, h.stream_triad_bytes_per_s,
                                      h.stream_copy_one_thread_bytes_per_s,
                                      h.gemv_fp32_bytes_per_s, h.gemv_bf16_bytes_per_s]) / u.GB
    }).assign(**{"÷ STREAM copy": lambda d: d["bandwidth (GB/s)"] / d["bandwidth (GB/s)"].iloc[0]})


@dataclass(frozen=True)
class Target:
    """The fit carried to another GPU and link, under both profiles.

    Attributes
    ----------
    target : pandas.DataFrame
        `calibration.carry_to` per profile (index ``profile``), SI units.
    shown : pandas.DataFrame
        The same in display units, to three significant digits.
    glue : dict
        ``target_<bw|tflops|gemv_us|bound|link|copy_ms>_<profile>``, ``target_name``,
        ``paper_caveat`` and ``example_shape``.
    """

    target: pd.DataFrame
    shown: pd.DataFrame
    glue: dict[str, object]


def carry_to_target(gpus: Mapping[str, GpuSpec], links: Mapping[str, LinkSpec],
                    fit: cal.Calibration, example_matrix: str) -> Target:
    """The fitted fractions on the target GPU and link, with an example GEMV and weight copy.

    Parameters
    ----------
    gpus, links : mapping
        The target GPU and its host link under the ``paper`` and ``datasheet`` profiles.
    fit : Calibration
        The fit.
    example_matrix : str
        Weight matrix (out x in) of the example GEMV and copy.

    Returns
    -------
    Target
    """
    out, inp = cal.parse_matrix(example_matrix)
    target = pd.DataFrame([{"profile": p, **cal.carry_to(
        gpus[p], links[p], fit, out_features=out, in_features=inp)}
        for p in PROFILES]).set_index("profile")
    shown = rounded(pd.DataFrame({
        "bandwidth (GB/s)": target["bandwidth_bytes_per_s"] / u.GB,
        "FP16 (TFLOP/s)": target["flop_per_s"] / u.TFLOP, "GEMV (µs)": target["gemv_s"] / u.US,
        "bound": target["bound"], "link (GB/s)": target["link_bytes_per_s"] / u.GB,
        "copy (ms)": target["copy_s"] / u.MS}), 3)
    glue: dict[str, object] = {}
    for p in shown.index:
        for col, key in zip(shown.columns, ("bw", "tflops", "gemv_us", "bound", "link",
                                            "copy_ms"), strict=True):
            glue[f"target_{key}_{p}"] = rounded(shown.loc[p, col], 3)
    glue["target_name"] = gpus["paper"].name
    glue["paper_caveat"] = cal.paper_profile_caveat(
        gpus["paper"], gpus["datasheet"], links["paper"], links["datasheet"],
        link_paper_bytes_per_s=target.loc["paper", "link_bytes_per_s"],
        link_datasheet_bytes_per_s=target.loc["datasheet", "link_bytes_per_s"])
    glue["example_shape"] = example_matrix.replace("x", " × ")
    return Target(target, shown, glue)


def constants_on_bounds(k: cal.KernelFit, *, rel: float = 1e-5) -> list[str]:
    """The kernel constants that ended on a bound of their fit (`calibration.KERNEL_FIT_BOUNDS`):
    within `rel` of the bounded range (SI, so t_0's range is 1 ms and its tolerance 10 ns)."""
    values = {"η_b": k.bandwidth_frac, "η_c": k.compute_frac, "t_0": k.overhead_s,
              "γ": k.gather_penalty if k.n_gathered else float("nan")}
    return [name for name, (lo, hi) in cal.KERNEL_FIT_BOUNDS.items()
            if any(abs(values[name] - b) <= rel * (hi - lo) for b in (lo, hi))]


def fit_quality_glue(fit: cal.Calibration, n_matrices: int, *,
                     catalog_gpu: Any, catalog_pcie: Any) -> dict[str, object]:
    """Sentences that depend on how well the fit went and on what the catalog holds.

    Parameters
    ----------
    fit : Calibration
    n_matrices : int
        Weight matrices fitted, count.
    catalog_gpu, catalog_pcie : Efficiency
        The catalog's ``gpu`` and ``pcie`` efficiencies (`hermes_model.io.load_efficiency`).

    Returns
    -------
    dict
        ``fit_matrices_txt`` ("two weight matrices"), ``gamma_txt`` (what γ says),
        ``bounds_txt`` (a warning when constants ended on a bound, else empty) and
        ``catalog_txt`` (whether the catalog holds this fit).
    """
    k, lf = fit.kernel, fit.link
    words = {1: "one", 2: "two", 3: "three", 4: "four"}
    n = words.get(n_matrices, str(n_matrices))
    glue: dict[str, object] = {
        "fit_matrices_txt": f"{n} weight {'matrix' if n_matrices == 1 else 'matrices'}"}
    g = k.gather_penalty
    glue["gamma_txt"] = (
        "the gathered weights cross HBM three times, as the read, write and read of the two "
        "kernels predict" if abs(g - 3) <= 0.25 else
        f"the gathered weights cross HBM {g:.2f} times, not the three that the read, write and "
        "read of the two kernels predict")
    on_bounds = constants_on_bounds(k)
    # one matrix size: every memory-bound kernel moves the same bytes, so t_0 and 1/η_b trade
    # off along one line and the fit cannot tell them apart
    reason = ("with one matrix size every memory-bound kernel moves the same bytes, so t_0 and "
              "η_b cannot be told apart" if n_matrices == 1 else
              "with few kernels long enough to be memory-bound")
    bounds = f"ended on the {'bound' if len(on_bounds) == 1 else 'bounds'} of the fit"
    glue["bounds_txt"] = "" if not on_bounds else (
        f" Caution: {roofline_list(on_bounds)} {bounds}: {reason}, and the values are not "
        "calibrated." if n_matrices == 1 else
        f" Caution: {roofline_list(on_bounds)} {bounds}, so the fitted matrices do not "
        f"determine {'it' if len(on_bounds) == 1 else 'them'}: {reason}, the values are not "
        "calibrated.")
    ours = (round(k.bandwidth_frac, 3), round(k.compute_frac, 3), round(lf.bandwidth_frac, 3))
    catalog = (round(catalog_gpu.bandwidth_frac, 3), round(catalog_gpu.compute_frac, 3),
               round(catalog_pcie.bandwidth_frac, 3))
    glue["catalog_txt"] = (
        "now hold these values" if ours == catalog else
        f"hold the default fit (η_b = {catalog[0]:.3f}, η_c = {catalog[1]:.3f}, "
        f"η_l = {catalog[2]:.3f}), not this run's")
    return glue


def times_word(ratio: float) -> str:
    """A ratio as the text words it before "the": "about the same as", "about twice",
    "about six times", or "0.50 of" below three quarters.

    >>> times_word(2.1), times_word(6.3), times_word(1.1), times_word(0.5)
    ('about twice', 'about six times', 'about the same as', '0.50 of')
    """
    if ratio < 0.75:
        return f"{ratio:.2f} of"
    n = round(ratio)
    if n <= 1:
        return "about the same as"
    if n == 2:
        return "about twice"
    return f"about {u.count_words(n) if n <= 10 else n} times"


def t0_txt(t0_us: float, launch_us: float, n_matrices: int) -> str:
    """What t_0 is next to an empty kernel's launch interval, after "t_0 = … µs": the ratio
    in words and what the rest holds (a kernel's ramp and tail; with one matrix size, also the
    memory time the fit cannot separate from it).

    Parameters
    ----------
    t0_us, launch_us : float
        The fitted fixed time and the median interval of back-to-back empty kernels, µs.
    n_matrices : int
        Weight matrices fitted, count.
    """
    ratio = t0_us / launch_us
    head = f"is {times_word(ratio)} the {launch_us:.1f} µs between back-to-back empty kernels"
    if ratio < 1.5:
        return head + "."
    if n_matrices == 1:
        return (head + ": fitted on one matrix size, it also absorbs memory time that the fit "
                "cannot separate from it.")
    return head + ": it also holds the ramp and tail of a kernel that fills 132 SMs."


def host_catalog_txt(eta_host: float, catalog_host: Any) -> dict[str, str]:
    """Whether the catalog's ``host_cpu`` entry holds this run's η_host: the sentence after the
    host's attained bandwidth (``host_catalog_txt``) and the Summary's clause
    (``host_summary_txt``).

    Parameters
    ----------
    eta_host : float
        This run's η_host (fraction).
    catalog_host : Efficiency
        The catalog's ``host_cpu`` efficiency (`hermes_model.io.load_efficiency`).
    """
    cat = catalog_host.bandwidth_frac
    if round(eta_host, 3) == round(cat, 3):
        return {"host_catalog_txt": "The catalog's `host_cpu` entry holds this value, labelled "
                                    "as partly assumed.",
                "host_summary_txt": "and its `host_cpu` entry the GEMV-to-STREAM ratio"}
    return {"host_catalog_txt": f"The catalog's `host_cpu` entry holds the default's "
                                f"η_host = {cat:.2f} (labelled as partly assumed), not this "
                                f"run's {eta_host:.2f}.",
            "host_summary_txt": f"and its `host_cpu` entry the default's η_host = {cat:.2f}, "
                                f"not this run's {eta_host:.2f}"}


def target_intro_txt(target_name: str, *, measured: bool, link_name: str,
                     measured_link_name: str) -> str:
    """The first sentence of the target section: the target GPU, and whether it was measured.
    The measured GPU itself needs no transfer of the fractions; its link, if not the one it was
    measured on, is pointed out.

    Parameters
    ----------
    target_name : str
        The target GPU's name.
    measured : bool
        Whether the target is the measured GPU (``target_gpu == device``).
    link_name, measured_link_name : str
        The target's link (after the cap at its own PCIe generation) and the measured link.
    """
    if not measured:
        return (f"The target GPU here is the {target_name} (the paper's RTX 4090 unless the "
                "chapter is re-run with another), which was not measured.")
    other = "" if link_name == measured_link_name else (
        f" Its link in the table is the {link_name} of the parameter target_link, not the "
        f"{measured_link_name} it was measured on.")
    return (f"The target GPU here is the {target_name}, the measured GPU itself: the fractions "
            "apply to it without any transfer, so the assumption that follows does not arise for it."
            + other)


def roofline_list(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def target_links(gpus: Mapping[str, GpuSpec], link: str, host: Mapping[str, HostSpec]
                 ) -> tuple[dict[str, LinkSpec], str]:
    """The target's host link per profile, capped at the GPU's own PCIe generation and width as
    `hermes_model.io.effective_pcie_link` caps it for `load_system` (a T4 on a PCIe 4.0 slot
    runs at 3.0), and the parenthesis that says so (empty when nothing was capped).

    Parameters
    ----------
    gpus : mapping
        Profile → the target GPU.
    link : str
        Catalog slug of the link asked for.
    host : mapping
        Profile → the host the GPU sits in (the paper's i9-13900K).
    """
    asked = {p: hm_io.load_link(link, p) for p in gpus}
    links = {p: hm_io.effective_pcie_link(asked[p], gpus[p], host[p], p) for p in gpus}
    a, got = asked["paper"], links["paper"]
    note = "" if got.slug == a.slug else (
        f" ({got.name}: the {a.name} asked for, capped at the GPU's own PCIe {got.generation}.0 "
        "as the book's systems cap it)")
    return links, note


def paper_link_note(link_paper: LinkSpec) -> str:
    """A parenthesis for the paper-profile link when the paper states no figure for it (its
    64 GB/s convention for PCIe 4.0 applied to another generation: *assumed*); else empty."""
    if roofline.provenance(link_paper.sources["bandwidth_per_direction_bytes_per_s"]) == "paper":
        return ""
    GBps = link_paper.bandwidth_per_direction_bytes_per_s / u.GB
    return (f" (the paper states no figure for {link_paper.name}: the paper-profile "
            f"{GBps:.0f} GB/s is assumed, by the paper's convention of 64 GB/s for PCIe 4.0)")
