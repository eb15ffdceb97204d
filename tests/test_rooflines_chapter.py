"""The roofline functions behind the Rooflines chapter: tiers, lines, decode GEMVs, provenance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_model as hm
from hermes_model import roofline
from hermes_model.shapes import layer_matrices

PAPER_MODELS = ("opt_13b", "opt_30b", "opt_66b", "falcon_40b", "llama2_13b", "llama2_70b")


@pytest.mark.parametrize(("sources", "label"), [
    (("Hermes §V-A",), "paper"),
    (("NVIDIA Ada whitepaper",), "datasheet"),
    (("Hermes Table II", "JEDEC JESD79-4"), "paper + datasheet"),
    (("Hermes Table II", "assumed default"), "assumed"),
    (("derived (the paper does not state it)",), "assumed"),
    (("calibrated: fitted to the H200",), "calibrated"),
    (("measured on an H200", "Hermes"), "measured"),
    (("override", "Hermes"), "paper"),
    # the paper is the origin only when the source begins by citing it
    (("NVIDIA GA102 whitepaper: 936 GB/s; Hermes §V-E2 ('about the same bandwidth')",),
     "datasheet"),
    (("Hermes §V-E2 (320 GB/s); NVIDIA T4 datasheet (320+ GB/s)",), "paper"),
    # the paper's convention applied to a link it never quotes is a choice of this book
    (("the paper's convention (bidirectional x16 figure, as its 64 GB/s for PCIe 4.0)",),
     "assumed"),
])
def test_provenance(sources: tuple[str, ...], label: str) -> None:
    assert roofline.provenance(*sources) == label


@pytest.mark.parametrize(("gpu", "profile", "gpu_bw", "pcie_bw"), [
    ("rtx_4090", "paper", "paper", "paper"),      # 936 GB/s and 64 GB/s: Hermes §IV-A, §V-A
    ("rtx_3090", "paper", "datasheet", "paper"),  # 936 GB/s: GA102 whitepaper, not the paper
    ("rtx_3090", "datasheet", "datasheet", "datasheet"),
    ("t4", "paper", "paper", "assumed"),          # 320 GB/s stated; PCIe 3.0 by convention
    ("t4", "datasheet", "datasheet", "datasheet"),  # the same 320 GB/s, from NVIDIA's datasheet
])
def test_catalog_labels(gpu: str, profile: str, gpu_bw: str, pcie_bw: str) -> None:
    g, pcie, *_ = roofline.system_tiers(hm.load_system("hermes_paper", profile, gpu=gpu))
    assert (g.bandwidth_label, pcie.bandwidth_label) == (gpu_bw, pcie_bw)


def test_profile_provenance_reads_the_datasheet_clause() -> None:
    t4 = "Hermes §V-E2 (320 GB/s); NVIDIA T4 datasheet (320+ GB/s)"
    assert roofline.profile_provenance("paper", t4) == "paper"
    assert roofline.profile_provenance("datasheet", t4) == "datasheet"
    # nothing but the paper, or the paper with a document of its own: as provenance says
    assert roofline.profile_provenance("datasheet", "Hermes Table II", "JEDEC JESD79-4") == (
        "paper + datasheet")
    assert roofline.profile_provenance("datasheet", "override", "Hermes §V-A") == "paper"
    g, *_ = roofline.system_tiers(hm.load_system("hermes_paper", "datasheet", gpu="t4"))
    assert (g.flop_label, g.bandwidth_label) == ("datasheet", "datasheet")


def test_provenance_needs_a_source() -> None:
    with pytest.raises(ValueError, match="at least one source"):
        roofline.provenance("override")


def test_system_tiers_paper_profile() -> None:
    """The paper's system: 330 TFLOPS over 936 GB/s, PCIe at 64 GB/s, 8 DIMMs = 8 x one."""
    system = hm.load_system("hermes_paper", "paper")
    gpu, pcie, host, one, pool = roofline.system_tiers(system)
    assert (gpu.flop_per_s, gpu.bandwidth_bytes_per_s) == (330e12, 936e9)
    assert gpu.flop_label == gpu.bandwidth_label == "paper"
    assert pcie.flop_per_s == gpu.flop_per_s and pcie.bandwidth_bytes_per_s == 64e9
    assert host.bandwidth_bytes_per_s == pytest.approx(89.6e9)
    assert one.bandwidth_bytes_per_s == pytest.approx(4 * 25.6e9)
    assert pool.bandwidth_bytes_per_s == pytest.approx(8 * one.bandwidth_bytes_per_s)
    assert pool.flop_per_s == pytest.approx(8 * one.flop_per_s)
    assert pool.ridge_flop_per_byte == pytest.approx(one.ridge_flop_per_byte)
    assert gpu.ridge_flop_per_byte == pytest.approx(330e12 / 936e9)
    assert [t.subsystem for t in (gpu, pcie, host, one, pool)] == [
        "GPU", "PCIe", "host", "NDP-DIMM", "NDP-DIMM"]
    assert pool.short == "8 DIMMs" and one.short == "1 DIMM"


def test_system_tiers_datasheet_and_overrides() -> None:
    assert roofline.system_tiers(hm.load_system("hermes_paper", "datasheet"))[0].flop_label == (
        "datasheet")
    system = hm.load_system("hermes_paper", "datasheet", gpu="t4", n_dimms=1)
    _, pcie, *_, pool = roofline.system_tiers(system)
    assert pcie.name.startswith("PCIe 3.0")  # a T4 is a PCIe 3.0 device
    assert pool.short == "1 DIMM"


def test_roofline_table_columns() -> None:
    table = roofline.roofline_table(roofline.system_tiers(hm.load_system("hermes_paper")))
    assert list(table.columns) == ["tier", "short", "subsystem", "peak_flop_per_s",
                                   "bandwidth_bytes_per_s", "ridge_flop_per_byte", "flop_label",
                                   "bandwidth_label"]
    np.testing.assert_allclose(table["ridge_flop_per_byte"],
                               table["peak_flop_per_s"] / table["bandwidth_bytes_per_s"])


def test_roofline_lines_are_exact_vertices() -> None:
    tiers = roofline.system_tiers(hm.load_system("hermes_paper"))
    lines = roofline.roofline_lines(tiers, 0.25, 1e5)
    assert len(lines) == 3 * len(tiers)
    for t in tiers:
        rows = lines[lines["tier"] == t.name]
        assert t.ridge_flop_per_byte in rows["intensity_flop_per_byte"].tolist()
        np.testing.assert_allclose(rows["attainable_flop_per_s"], np.minimum(
            t.flop_per_s, rows["intensity_flop_per_byte"] * t.bandwidth_bytes_per_s))
    # A ridge outside the range is clipped to it: two vertices only.
    assert len(roofline.roofline_lines(tiers[:1], 1000, 2000)) == 2
    with pytest.raises(ValueError, match="intensity_min"):
        roofline.roofline_lines(tiers, 5, 1)


def test_gemv_intensity_equals_matmul_flop_over_bytes() -> None:
    """Consistency of two code paths: one matrix, every batch and dtype."""
    for dtype in ("fp16", "int8", "fp32"):
        for b in (1, 4, 16, 256):
            k, n = 8192, 28672
            expected = roofline.matmul_flop(b, n, k) / roofline.matmul_bytes(b, n, k, dtype)
            got = roofline.gemv_intensity_flop_per_byte(b, k * n, k + n, dtype)
            assert float(got) == pytest.approx(float(expected), rel=1e-12)


@given(st.integers(1, 4096), st.integers(1, 50_000), st.integers(1, 50_000),
       st.sampled_from(["fp16", "int8", "int4", "fp32"]))
def test_gemv_intensity_bounds_and_monotonicity(b: int, k: int, n: int, dtype: str) -> None:
    """Below 2b/s; grows with the batch."""
    s = hm.shapes.dtype_bytes(dtype)
    i = float(roofline.gemv_intensity_flop_per_byte(b, k * n, k + n, dtype))
    assert 0 < i < 2 * b / s
    assert float(roofline.gemv_intensity_flop_per_byte(b + 1, k * n, k + n, dtype)) > i


@given(st.floats(0.5, 1e4), st.integers(64, 50_000), st.integers(64, 50_000))
def test_compute_bound_batch_reaches_the_ridge(ridge: float, k: int, n: int) -> None:
    b = float(roofline.compute_bound_batch(ridge, k * n, k + n, "fp16"))
    limit = 2 * k * n / (2 * (k + n))
    if ridge >= limit:
        assert b == np.inf
    else:
        assert float(roofline.gemv_intensity_flop_per_byte(b, k * n, k + n)) == pytest.approx(
            ridge, rel=1e-9)


def test_decode_gemv_table_counts_every_layer_matrix() -> None:
    models = [hm.load_model(s) for s in PAPER_MODELS]
    table = roofline.decode_gemv_table(models, batch=1)
    for model, row in zip(models, table.itertuples(), strict=True):
        mats = layer_matrices(model)
        assert row.weights == sum(m.n_elements for m in mats) * model.n_layers
        assert row.flop == pytest.approx(2 * row.weights)
        assert row.intensity_flop_per_byte == pytest.approx(row.flop / row.bytes)
        assert 0.99 < row.intensity_flop_per_byte < 1.0  # fp16, batch 1
    llama = table.set_index("slug").loc["llama2_70b"]
    assert llama["bytes"] / 1e9 == pytest.approx(2 * 68.5e9 / 1e9, rel=0.03)


def test_place_on_rooflines_time_is_the_larger_bound() -> None:
    tiers = roofline.system_tiers(hm.load_system("hermes_paper"))
    steps = roofline.decode_gemv_table([hm.load_model("opt_13b")], batch=1)
    placed = roofline.place_on_rooflines(steps, tiers)
    assert len(placed) == len(tiers)
    for t, row in zip(tiers, placed.itertuples(), strict=True):
        expected = max(steps["flop"][0] / t.flop_per_s, steps["bytes"][0] / t.bandwidth_bytes_per_s)
        assert row.time_s == pytest.approx(expected)
        assert row.bound == "memory"  # batch 1 is memory-bound on every tier
        assert row.attainable_flop_per_s <= t.flop_per_s


@pytest.mark.parametrize(("items", "text"), [
    ([], ""), (["a"], "a"), (["a", "b"], "a and b"), ([1, 2, 3], "1, 2 and 3")])
def test_prose_list(items: list[object], text: str) -> None:
    assert roofline.prose_list(items) == text


def _catalog_source(path: str, *keys: str) -> str:
    """The `source` string of one catalog value (tests read the YAML directly)."""
    import yaml

    node = yaml.safe_load((hm.io.data_dir() / "catalog" / path).read_text())
    for k in keys:
        node = node[k]
    return node["source"]


@pytest.mark.parametrize(("path", "keys", "label"), [
    # the paper configures DIMM-Link (Table II): its figures are the paper's
    ("links/dimm_link.yaml", ("generation",), "paper"),
    ("links/dimm_link.yaml", ("bandwidth_per_direction_GBps",), "paper"),
    ("dimms/ddr4_3200_ndp.yaml", ("timings_cycles",), "paper"),
    # the paper's 64 GB/s convention carried to links and a GPU it never quotes
    ("links/pcie5_x16.yaml", ("bandwidth_per_direction_GBps", "paper"), "assumed"),
    ("gpus/rtx_5090.yaml", ("fp16_tensor_TFLOPS", "paper"), "assumed"),
    ("gpus/rtx_4090.yaml", ("memory_bandwidth_GBps", "datasheet"), "datasheet"),
])
def test_catalog_source_kinds(path: str, keys: tuple[str, ...], label: str) -> None:
    assert roofline.source_kind(_catalog_source(path, *keys)) == label
