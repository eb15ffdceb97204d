"""The numbers and tables of the Calibration chapter (`hermes_model.chapters.calibration`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import calibration as cal
from hermes_model import policies
from hermes_model.chapters import calibration as chapter
from hermes_model.plotting import rounded

MEASUREMENT = "gpu_h200_20261126"
FIT = ["4096x4096", "8192x28672"]
OK: dict[str, Any] = {"fit_matrices": FIT, "max_fit_copy_MiB": 64, "pageable_min_MiB": 32,
                      "min_kernel_us": 20, "gather_batch": 1, "stream_over_peak": 0.75,
                      "example_matrix": "28672x8192"}


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    measurements = hm.io.load_measurements(MEASUREMENT)
    models = [hm.load_model(s) for s in hm.io.model_slugs()]
    fit, kernels, copies = chapter.fit_and_predict(
        measurements, hm.load_gpu("h200", "datasheet"), hm.load_link("pcie5_x16", "datasheet"),
        fit_matrices=FIT, max_fit_copy_bytes=64 * 2.0**20, min_kernel_s=20e-6)
    return {"measurements": measurements, "models": models, "fit": fit, "kernels": kernels,
            "copies": copies}


def test_check_parameters(measured: dict[str, Any]) -> None:
    checked = chapter.check_parameters(measured["measurements"], measured["models"],
                                       **{**OK, "fit_matrices": ["4096x4096"]})
    assert checked == (["4096x4096"], 1, 0.75)
    assert checked.fit_matrices == ["4096x4096"]


@pytest.mark.parametrize(("change", "message"), [
    ({"fit_matrices": "4096x4096"}, "parameter 'fit_matrices': must be a non-empty list"),
    ({"fit_matrices": []}, "parameter 'fit_matrices': must be a non-empty list"),
    ({"fit_matrices": ["1x1"]}, "fit_matrices"),
    ({"max_fit_copy_MiB": 1e9}, "max_fit_copy_MiB"),
    ({"pageable_min_MiB": 0}, "pageable_min_MiB"),
    ({"min_kernel_us": 200}, "min_kernel_us"),
    ({"gather_batch": 3}, "gather_batch"),
    ({"stream_over_peak": 0}, "stream_over_peak"),
    ({"example_matrix": "3x3"}, "parameter 'example_matrix': must be a weight matrix"),
])
def test_check_parameters_rejects(measured: dict[str, Any], change: dict[str, Any],
                                  message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chapter.check_parameters(measured["measurements"], measured["models"], **{**OK, **change})


def test_fit_and_predict_splits(measured: dict[str, Any]) -> None:
    kernels, copies, fit = measured["kernels"], measured["copies"], measured["fit"]
    assert ((kernels["split"] == "fit") == kernels["matrix"].isin(FIT)).all()
    assert ((copies["split"] == "fit") == (copies["bytes"] <= 64 * 2**20)).all()
    assert ((kernels["regime"] == "launch") == (kernels["measured_s"] < 20e-6)).all()
    assert fit.link.max_fit_bytes <= 64 * 2**20
    assert fit.kernel.peak_bandwidth_bytes_per_s == hm.load_gpu(
        "h200", "datasheet").memory_bandwidth_bytes_per_s


def test_kernel_fit_glue_and_table(measured: dict[str, Any]) -> None:
    fit = measured["fit"]
    k = fit.kernel
    glue = chapter.kernel_fit_glue(measured["measurements"], fit, FIT)
    assert glue["fit_list"] == "4096 × 4096, 8192 × 28672"
    assert glue["n_rows"] == len(measured["measurements"])
    meta = measured["measurements"].iloc[0]
    assert (glue["device_name"], glue["driver"]) == (meta["device_name"], meta["driver"])
    assert glue["date"] == "2026-11-26"  # the run's ISO timestamp, cut to the day
    launch = measured["measurements"].query("variant == 'sleep0_event_per_launch'")["median_s"]
    assert glue["launch_us"] == rounded(float(launch.iloc[0]) * 1e6, 3)
    assert glue["n_dense_fit"] == k.n_dense
    h200 = hm.load_gpu("h200", "datasheet")
    assert glue["peak_TBps"] == rounded(h200.memory_bandwidth_bytes_per_s / 1e12)
    assert glue["ach_TFLOPS"] == rounded(k.compute_frac * h200.fp16_flop_per_s / 1e12)
    assert glue["eta_b"] == rounded(k.bandwidth_frac, 3)
    assert glue["ridge"] == rounded(k.compute_frac * k.peak_flop_per_s
                                    / (k.bandwidth_frac * k.peak_bandwidth_bytes_per_s))
    assert glue["t0_us"] == rounded(k.overhead_s * 1e6, 3)
    table = chapter.constants_table(fit)
    assert table["constant"].tolist() == ["η_b", "η_c", "t_0 (µs)", "γ", "η_l", "t_l (µs)"]
    np.testing.assert_allclose(table["value"], [k.bandwidth_frac, k.compute_frac,
                                                k.overhead_s * 1e6, k.gather_penalty,
                                                fit.link.bandwidth_frac, fit.link.latency_s * 1e6])
    assert table["fitted to"].iloc[3] == f"{k.n_gathered} gathered kernels"


def test_link_summary_synthetic() -> None:
    mib = 2.0**20
    lf = cal.LinkFit(bandwidth_frac=0.8, latency_s=10e-6, peak_bandwidth_bytes_per_s=64e9,
                     max_fit_bytes=64 * mib, n_fit=10)
    # large copies: pinned h2d 50 GB/s, pageable h2d 20 GB/s, pageable d2h 30 GB/s
    rows = [("h2d", True, 64 * mib, 50e9), ("h2d", False, 64 * mib, 20e9),
            ("d2h", False, 64 * mib, 30e9), ("h2d", False, 1 * mib, 5e9),
            ("h2d", False, 2 * mib, 8e9), ("h2d", True, 1 * mib, 40e9)]
    copies = pd.DataFrame([{"direction": d, "pinned": p, "bytes": b, "measured_s": b / bw}
                           for d, p, b, bw in rows])
    summary = chapter.link_summary(lf, copies, pageable_min_bytes=32 * mib)
    assert summary.pageable_frac == pytest.approx(0.4)
    assert summary.glue["pageable_frac"] == 0.4
    assert summary.glue["pageable_h2d_GBps"] == 20.0
    assert summary.glue["pageable_d2h_GBps"] == 30.0
    assert summary.glue["pageable_pinned_h2d_GBps"] == 50.0
    assert summary.glue["pageable_small_max_GBps"] == 8.0  # pinned copies do not count
    assert summary.glue["link_ach_GBps"] == 51.2
    # the fit's constants as shown: η_l, t_l = 10 µs and the 64 GB/s peak
    assert summary.glue["eta_l"] == 0.8
    assert summary.glue["tl_us"] == 10.0
    assert summary.glue["link_peak_GBps"] == 64.0
    assert summary.glue["link_half_KiB"] == rounded(10e-6 * 51.2e9 / 1024)
    assert summary.glue["pageable_frac_package"] == policies.PAGEABLE_COPY_FRAC
    assert "max_fit_copy_MiB" not in summary.glue  # the chapter glues its parameters itself
    shown = chapter.link_chart_copies(copies)
    assert shown["memory"].tolist()[:2] == ["pinned", "pageable"]
    np.testing.assert_allclose(shown["bandwidth_bytes_per_s"], [r[3] for r in rows])


def test_host_glue_and_table(measured: dict[str, Any]) -> None:
    h = measured["fit"].host
    host = hm.load_host("i9_13900k", "paper")
    eta = cal.host_bandwidth_frac(h, stream_over_peak=0.75)
    glue = chapter.host_glue(h, host, stream_over_peak=0.75, eta_host=eta)
    assert glue["stream_over_peak"] == 0.75
    assert glue["host_peak_GBps"] == rounded(host.dram_bandwidth_bytes_per_s / 1e9)
    assert glue["host_ach_GBps"] == rounded(eta * host.dram_bandwidth_bytes_per_s / 1e9)
    assert glue["gemv_over_stream"] == rounded(h.gemv_fp32_bytes_per_s
                                               / h.stream_copy_bytes_per_s, 3)
    table = chapter.host_table(h)
    assert table["÷ STREAM copy"].iloc[0] == 1.0
    assert table["bandwidth (GB/s)"].iloc[1] == pytest.approx(h.stream_triad_bytes_per_s / 1e9)
    assert table["measurement"].iloc[4] == f"GEMV bf16 {h.gemv_matrix}"


def test_carry_to_target(measured: dict[str, Any]) -> None:
    fit = measured["fit"]
    gpus = {p: hm.load_gpu("rtx_4090", p) for p in chapter.PROFILES}
    links = {p: hm.load_link("pcie4_x16", p) for p in chapter.PROFILES}
    carried = chapter.carry_to_target(gpus, links, fit, "28672x8192")
    for p in chapter.PROFILES:
        one = cal.carry_to(gpus[p], links[p], fit, out_features=28672, in_features=8192)
        assert carried.target.loc[p, "gemv_s"] == one["gemv_s"]
        assert carried.glue[f"target_gemv_us_{p}"] == rounded(one["gemv_s"] * 1e6, 3)
        assert carried.glue[f"target_copy_ms_{p}"] == rounded(one["copy_s"] * 1e3, 3)
        assert carried.glue[f"target_bound_{p}"] == one["bound"]
    assert carried.glue["target_name"] == gpus["paper"].name
    assert carried.glue["example_shape"] == "28672 × 8192"
    # the paper profile's 330 TFLOPS and 64 GB/s against the datasheets' 165 TFLOPS, 31.5 GB/s
    link_paper = carried.target.loc["paper", "link_bytes_per_s"]
    link_ds = carried.target.loc["datasheet", "link_bytes_per_s"]
    assert link_paper == pytest.approx(fit.link.bandwidth_frac * 64e9)
    assert carried.glue["paper_caveat"] == (
        "but the paper's 330 TFLOPS is the FP16-accumulate rate and its PCIe convention counts both "
        f"directions, so the paper-profile link of {link_paper / 1e9:.0f} GB/s is an upper bound "
        f"no copy in one direction reaches (compare {link_ds / 1e9:.1f} GB/s)")
    assert list(carried.shown.columns) == ["bandwidth (GB/s)", "FP16 (TFLOP/s)", "GEMV (µs)",
                                           "bound", "link (GB/s)", "copy (ms)"]


def test_fit_quality_glue_default(measured: dict[str, Any]) -> None:
    fit = measured["fit"]
    g = chapter.fit_quality_glue(fit, 2, catalog_gpu=hm.io.load_efficiency("gpu"),
                                 catalog_pcie=hm.io.load_efficiency("pcie"))
    assert g["fit_matrices_txt"] == "two weight matrices" and g["bounds_txt"] == ""
    assert abs(fit.kernel.gather_penalty - 3) <= 0.25
    assert str(g["gamma_txt"]).startswith("the gathered weights cross HBM three times")
    assert g["catalog_txt"] == "now hold these values"


def test_fit_quality_glue_one_small_matrix(measured: dict[str, Any]) -> None:
    """4096 x 4096 alone: its kernels are launch-bound, and η_b and γ end on their bounds."""
    fit, _, _ = chapter.fit_and_predict(
        measured["measurements"], hm.load_gpu("h200", "datasheet"),
        hm.load_link("pcie5_x16", "datasheet"), fit_matrices=["4096x4096"],
        max_fit_copy_bytes=64 * 2.0**20, min_kernel_s=20e-6)
    assert chapter.constants_on_bounds(fit.kernel) == ["η_b", "γ"]
    # t_0 in seconds: 0 is its lower bound, 5 µs is well inside (0, 1 ms)
    inside = dataclasses.replace(fit.kernel, bandwidth_frac=0.8, compute_frac=0.7,
                                 gather_penalty=1.5, overhead_s=5e-6)
    assert chapter.constants_on_bounds(inside) == []
    assert chapter.constants_on_bounds(dataclasses.replace(inside, overhead_s=0.0)) == ["t_0"]
    g = chapter.fit_quality_glue(fit, 1, catalog_gpu=hm.io.load_efficiency("gpu"),
                                 catalog_pcie=hm.io.load_efficiency("pcie"))
    assert g["fit_matrices_txt"] == "one weight matrix"
    assert g["bounds_txt"] == (
        " Caution: η_b and γ ended on the bounds of the fit: with one matrix size every "
        "memory-bound kernel moves the same bytes, so t_0 and η_b cannot be told apart, and the "
        "values are not calibrated.")
    two = chapter.fit_quality_glue(fit, 2, catalog_gpu=hm.io.load_efficiency("gpu"),
                                   catalog_pcie=hm.io.load_efficiency("pcie"))
    assert two["bounds_txt"] == (
        " Caution: η_b and γ ended on the bounds of the fit, so the fitted matrices do not "
        "determine them: with few kernels long enough to be memory-bound, the values are not "
        "calibrated.")
    assert g["gamma_txt"] == ("the gathered weights cross HBM 1.00 times, not the three that "
                              "the read, write and read of the two kernels predict")
    held = hm.io.load_efficiency("gpu").bandwidth_frac      # the catalog's, not this fit's 1.0
    assert str(g["catalog_txt"]).startswith(f"hold the default fit (η_b = {held:.3f}")


def test_target_links_cap_at_the_gpu_generation() -> None:
    hosts = {p: hm.load_host("i9_13900k", p) for p in chapter.PROFILES}
    t4 = {p: hm.load_gpu("t4", p) for p in chapter.PROFILES}
    links, note = chapter.target_links(t4, "pcie4_x16", hosts)
    assert {lk.generation for lk in links.values()} == {3}
    assert links["datasheet"].bandwidth_per_direction_bytes_per_s == pytest.approx(15.75e9)
    assert note == (" (PCIe 3.0 x16: the PCIe 4.0 x16 asked for, capped at the GPU's own "
                    "PCIe 3.0 as the book's systems cap it)")
    assert chapter.paper_link_note(links["paper"]).startswith(
        " (the paper states no figure for PCIe 3.0 x16: the paper-profile 32 GB/s is assumed")
    rtx = {p: hm.load_gpu("rtx_4090", p) for p in chapter.PROFILES}
    links, note = chapter.target_links(rtx, "pcie4_x16", hosts)
    assert note == "" and links["paper"].generation == 4
    assert chapter.paper_link_note(links["paper"]) == ""


def test_t0_txt_words_the_ratio(measured: dict[str, Any]) -> None:
    """The default fit: t_0 = 9.96 µs against a 4.7 µs launch, about twice; the one-matrix fit
    on 8192 x 28672 (min_kernel_us 100): t_0 = 29.7 µs, about six times, and the reason is that
    one matrix size cannot separate t_0 from η_b."""
    g = chapter.kernel_fit_glue(measured["measurements"], measured["fit"], FIT)
    launch = g["launch_us"]
    assert g["t0_txt"] == (f"is about twice the {launch:.1f} µs between back-to-back empty "
                           "kernels: it also holds the ramp and tail of a kernel that fills "
                           "132 SMs.")
    fit, _, _ = chapter.fit_and_predict(
        measured["measurements"], hm.load_gpu("h200", "datasheet"),
        hm.load_link("pcie5_x16", "datasheet"), fit_matrices=["8192x28672"],
        max_fit_copy_bytes=64 * 2.0**20, min_kernel_s=100e-6)
    one = chapter.kernel_fit_glue(measured["measurements"], fit, ["8192x28672"])
    assert str(one["t0_txt"]).startswith(f"is about six times the {launch:.1f} µs")
    assert str(one["t0_txt"]).endswith("it also absorbs memory time that the fit cannot "
                                       "separate from it.")
    q = chapter.fit_quality_glue(fit, 1, catalog_gpu=hm.io.load_efficiency("gpu"),
                                 catalog_pcie=hm.io.load_efficiency("pcie"))
    assert "with one matrix size every memory-bound kernel moves the same bytes, so t_0 and η_b " \
        "cannot be told apart" in str(q["bounds_txt"])
    assert chapter.t0_txt(5.0, 4.7, 2) == ("is about the same as the 4.7 µs between "
                                           "back-to-back empty kernels.")
    assert [chapter.times_word(r) for r in (0.5, 1.2, 2.2, 3.0, 12.4)] == [
        "0.50 of", "about the same as", "about twice", "about three times", "about 12 times"]


def test_host_catalog_txt() -> None:
    """stream_over_peak 1.0 gives η_host = 1.00; the catalog holds the default's 0.75."""
    cat = hm.io.load_efficiency("host_cpu")
    assert cat.bandwidth_frac == 0.75
    same = chapter.host_catalog_txt(0.75, cat)
    assert same == {"host_catalog_txt": "The catalog's `host_cpu` entry holds this value, "
                                        "labelled as partly assumed.",
                    "host_summary_txt": "and its `host_cpu` entry the GEMV-to-STREAM ratio"}
    other = chapter.host_catalog_txt(1.0, cat)
    assert other["host_catalog_txt"] == ("The catalog's `host_cpu` entry holds the default's "
                                         "η_host = 0.75 (labelled as partly assumed), not this "
                                         "run's 1.00.")
    assert other["host_summary_txt"] == ("and its `host_cpu` entry the default's η_host = 0.75, "
                                         "not this run's 1.00")


def test_target_intro_txt() -> None:
    """target_gpu h200 is the measured GPU: no transfer, and its PCIe 4.0 target link is not
    the PCIe 5.0 it was measured on."""
    assert chapter.target_intro_txt("NVIDIA GeForce RTX 4090", measured=False,
                                    link_name="PCIe 4.0 x16",
                                    measured_link_name="PCIe 5.0 x16") == (
        "The target GPU here is the NVIDIA GeForce RTX 4090 (the paper's RTX 4090 unless the "
        "chapter is re-run with another), which was not measured.")
    txt = chapter.target_intro_txt("NVIDIA H200 SXM", measured=True, link_name="PCIe 4.0 x16",
                                   measured_link_name="PCIe 5.0 x16")
    assert txt.startswith("The target GPU here is the NVIDIA H200 SXM, the measured GPU itself")
    assert txt.endswith("Its link in the table is the PCIe 4.0 x16 of the parameter "
                        "target_link, not the PCIe 5.0 x16 it was measured on.")
    assert "not the" not in chapter.target_intro_txt(
        "NVIDIA H200 SXM", measured=True, link_name="PCIe 5.0 x16",
        measured_link_name="PCIe 5.0 x16")
