"""The sentences of the Rooflines chapter (`hermes_model.chapters.rooflines`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import roofline
from hermes_model.chapters import rooflines as chapter
from hermes_model.roofline import Tier

PAPER_MODELS = ("opt_13b", "opt_30b", "opt_66b", "falcon_40b", "llama2_13b", "llama2_70b")


def _tier(name: str, short: str, flop: float, bw: float) -> Tier:
    return Tier(name=name, short=short, subsystem="GPU", flop_per_s=flop,
                bandwidth_bytes_per_s=bw, flop_label="paper", bandwidth_label="paper")


def _tiers(gpu_flop: float = 100e12, *, others_flop: float = 1e12, gpu_bw: float = 1e12,
           pcie_bw: float = 50e9, dimm_bw: float = 100e9) -> tuple[Tier, ...]:
    return (_tier("GPU memory", "GPU", gpu_flop, gpu_bw), _tier("PCIe", "PCIe", gpu_flop, pcie_bw),
            _tier("host", "host", others_flop / 2, 100e9),
            _tier("1 DIMM", "1 DIMM", others_flop / 8, dimm_bw / 8),
            _tier("8 DIMMs", "8 DIMMs", others_flop, dimm_bw))


@pytest.fixture(scope="module")
def paper() -> dict[str, tuple[Tier, ...]]:
    return {p: roofline.system_tiers(hm.load_system("hermes_paper", p))
            for p in ("paper", "datasheet")}


@pytest.fixture(scope="module")
def steps() -> pd.DataFrame:
    return roofline.decode_gemv_table([hm.load_model(s) for s in PAPER_MODELS], 1, "fp16")


def _steps(intensity: float) -> pd.DataFrame:
    return pd.DataFrame({"intensity_flop_per_byte": [intensity / 2, intensity]})


def _placed(bound: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"tier": ["GPU memory", "8 DIMMs", "8 DIMMs"][:len(bound)],
                         "bound": bound})


@pytest.mark.parametrize(("gpu_flop", "gap"), [
    (15e12, "at least an order of magnitude above the host's and the NDP-DIMMs'"),
    (300e12, "at least two orders of magnitude above the host's and the NDP-DIMMs'"),
    (5e12, "at least 5 times as high as the host's and the NDP-DIMMs'"),
    (2e16, "at least four orders of magnitude above the host's and the NDP-DIMMs'"),
    (2e17, "at least 200000 times as high as the host's and the NDP-DIMMs'"),
])
def test_roof_text_gap(gpu_flop: float, gap: str) -> None:
    text = chapter.roof_text(_tiers(gpu_flop), _steps(1.0), _placed(["memory"]))["roof_txt"]
    assert text.startswith(f"The GPU's roof is {gap}, but the roof is not where decode lives: ")


def test_roof_text_where_the_diamonds_sit() -> None:
    tiers = _tiers()  # GPU ridge 100, PCIe ridge 2,000: far left below 10 FLOP/byte
    far = chapter.roof_text(tiers, _steps(9.9), _placed(["memory"]))["roof_txt"]
    assert far.endswith("every diamond sits on a sloped, memory-bound part of its roofline, "
                        "far left of the GPU's and PCIe's ridge points.")
    near = chapter.roof_text(tiers, _steps(10.0), _placed(["memory"]))["roof_txt"]
    assert near.endswith("roofline, left of the GPU's and PCIe's ridge points.")
    roof = chapter.roof_text(tiers, _steps(1.0), _placed(["compute", "compute", "compute"]))
    assert roof["roof_txt"].endswith(
        "the diamonds reach the flat, compute-bound roof only on GPU memory and 8 DIMMs, and sit "
        "on the sloped, memory-bound part of every other roofline.")


def test_compute_bound_batches_paper(paper: dict[str, tuple[Tier, ...]],
                                     steps: pd.DataFrame) -> None:
    result = chapter.compute_bound_batches(paper["paper"], steps, "fp16")
    assert list(result.table.columns) == [t.short for t in paper["paper"]]
    assert result.table.index.name == "compute-bound from batch"
    for t in paper["paper"]:
        b = roofline.compute_bound_batch(t.ridge_flop_per_byte, steps["weights"],
                                         steps["io_elements"], "fp16")
        np.testing.assert_array_equal(result.table[t.short].to_numpy(), b)
    np.testing.assert_array_equal(result.pcie_b.to_numpy(), result.table["PCIe"].to_numpy())
    # As b grows, the intensity tends to 2 Σkn / (s Σ(k+n)) with s = 2 bytes.
    limit = (steps["weights"] / steps["io_elements"]).to_numpy()
    np.testing.assert_allclose(result.limit_io.to_numpy(), limit)
    assert result.glue["limit_io_min"] == pytest.approx(limit.min(), rel=1e-3)
    assert result.glue["limit_io_max"] == pytest.approx(limit.max(), rel=1e-3)
    # PCIe's ridge is 330e12 / 64e9 = 5,156 FLOP/byte: only OPT-66B and LLaMA2-70B pass it.
    passes = limit > 330e12 / 64e9
    assert steps.loc[passes, "slug"].tolist() == ["opt_66b", "llama2_70b"]
    b = roofline.compute_bound_batch(330e12 / 64e9, steps["weights"], steps["io_elements"],
                                     "fp16")[passes]
    at = [f"{v:,.0f}" for v in hm.plotting.rounded(b, 3)]
    assert result.glue["pcie_txt"] == (
        "Against PCIe's ridge of 5,156 FLOP/byte, 4 of them never turn compute-bound; OPT-66B "
        f"and LLaMA2-70B reach it only at batches of {at[0]} and {at[1]}, far beyond any batch "
        "of decode.")
    assert result.glue["only_dimms_txt"] == (
        "Only the NDP-DIMMs, whose core is small next to its bandwidth, turn compute-bound at "
        "batch sizes the paper uses (up to 16)")
    assert result.glue["summary_only_txt"] == (
        "Only the NDP-DIMMs, with a small core next to their bandwidth, approach their ridge at "
        "the paper's batch sizes.")


def _ridge_tiers(ridges: dict[str, float]) -> tuple[Tier, ...]:
    return tuple(_tier(name, name, ridge * 1e9, 1e9) for name, ridge in ridges.items())


def test_compute_bound_batches_branches(steps: pd.DataFrame) -> None:
    two = steps.iloc[[0, 5]].reset_index(drop=True)  # OPT-13B and LLaMA2-70B
    low, high = sorted(two["weights"] / two["io_elements"])  # limit intensities at fp16
    # PCIe between the two limits: one never turns, the other at a batch beyond 256.
    ridge = (low + high) / 2
    tiers = _ridge_tiers({"GPU": 1.0, "PCIe": ridge, "host": 1.0, "1 DIMM": 30.0,
                          "8 DIMMs": 30.0})
    result = chapter.compute_bound_batches(tiers, two, "fp16")
    b = roofline.compute_bound_batch(ridge, two["weights"], two["io_elements"], "fp16")
    finite = b[np.isfinite(b)]
    assert len(finite) == 1 and finite[0] > 256
    name = two.loc[np.isfinite(b), "model"].iloc[0].split(" (")[0]
    assert result.glue["never_lead"].startswith('"Never" means')   # the table has a never
    assert result.glue["pcie_txt"] == (
        f"Against PCIe's ridge of {ridge:,.0f} FLOP/byte, one of them never turns compute-bound; "
        f"{name} reaches it only at a batch of {hm.plotting.rounded(finite[0], 3):,.0f}, far "
        "beyond any batch of decode.")
    # GPU and host turn compute-bound at batch 1, the DIMMs (ridge 30) only later than 16.
    assert result.glue["only_dimms_txt"] == (
        "Even the NDP-DIMMs, whose core is small next to its bandwidth, stay memory-bound at every "
        "batch size the paper uses (up to 16) for some of these models")
    # Every step turns at a small batch on every tier.
    tiers = _ridge_tiers({"GPU": 2.0, "PCIe": 4.0, "host": 50.0, "1 DIMM": 2.0, "8 DIMMs": 2.0})
    result = chapter.compute_bound_batches(tiers, two, "fp16")
    at = [f"{v:,.0f}" for v in hm.plotting.rounded(result.pcie_b.to_numpy(), 3)]
    assert result.glue["never_lead"].startswith("No step of the table stays memory-bound")
    assert result.glue["pcie_txt"] == (
        "Against PCIe's ridge of 4 FLOP/byte, every one of them turns compute-bound, OPT-13B and "
        f"LLaMA2-70B only at batches of {at[0]} and {at[1]}.")
    assert result.glue["only_dimms_txt"].endswith(
        "turn compute-bound at batch sizes the paper uses (up to 16), and so does the tier of GPU "
        "and PCIe")
    assert result.glue["summary_only_txt"] == (
        "The NDP-DIMMs, with a small core next to their bandwidth, reach their ridge at the "
        "paper's batch sizes, and so does the tier of GPU and PCIe.")


def test_fig1_bandwidths(paper: dict[str, tuple[Tier, ...]]) -> None:
    labels = pd.DataFrame({"value": [1.0, 64.0, 1.6], "unit": ["TB/s", "GB/s", "TB/s"]},
                          index=["gpu_memory", "pcie", "ndp_host_memory"])
    gpu_t, pcie_t, _, _, pool_t = paper["paper"]
    assert chapter.fig1_bandwidths(labels, paper["paper"]) == {
        gpu_t.name: 1e12, pcie_t.name: 64e9, pool_t.name: pytest.approx(1.6e12)}


def test_hierarchy_glue_rtx_4090(paper: dict[str, tuple[Tier, ...]]) -> None:
    _, _, _, one, pool = paper["paper"]
    fig1 = {paper["paper"][0].name: 1e12, paper["paper"][1].name: 64e9, pool.name: 1.6e12}
    glue = chapter.hierarchy_glue(paper, "paper", fig1, gpu="rtx_4090", gpu_name="RTX 4090",
                                  n_dimms=8)
    assert glue["gap_paper"] == pytest.approx(936 / 64, rel=1e-3)
    assert glue["pcie_bw_GBps_paper"] == 64.0
    assert glue["fig1_dimms"] == pytest.approx(1600e9 / one.bandwidth_bytes_per_s, rel=1e-3)
    assert glue["fig1_per_dimm_at_8_GBps"] == 200.0
    assert glue["n_dimms"] == 8
    # 936 GB/s > 8 x 102.4 GB/s > 89.6 GB/s > 64 GB/s
    assert glue["hierarchy_txt"] == (
        "GPU memory, then the NDP-DIMM pool, then host DRAM and PCIe")
    assert round(paper["datasheet"][0].bandwidth_bytes_per_s / 1e12) == 1  # 1,008 GB/s
    assert glue["gpu_label_txt"] == "The GPU label matches both profiles."
    # the datasheets: 1,008 GB/s of GDDR6X over PCIe 4.0 x16's 16 GT/s x 16 lanes x 128/130
    ds_pcie_GBps = 16 * 16 * 128 / 130 / 8
    assert glue["pcie_bw_GBps_datasheet"] == pytest.approx(ds_pcie_GBps, rel=1e-3)
    assert glue["gap_datasheet"] == pytest.approx(1008 / ds_pcie_GBps, rel=1e-3)
    assert glue["pcie_ds_txt"] == f"{ds_pcie_GBps:.1f} GB/s"
    assert glue["gap_txt"] == (
        'So the gap the paper quotes as "more than 15×" between GPU memory and PCIe is '
        f"{936 / 64:.1f}× with the paper's own numbers and {1008 / ds_pcie_GBps:.1f}× per "
        "direction with the datasheets' (for the GPU of the parameters).")
    # a label that matches the GPU bandwidth of one profile only
    half = {**fig1, paper["paper"][0].name: 650e9}  # 936 / 650 rounds to 1, 1,008 / 650 to 2
    one_match = chapter.hierarchy_glue(paper, "paper", half, gpu="rtx_4090",
                                       gpu_name="RTX 4090", n_dimms=8)
    assert one_match["gpu_label_txt"] == "The GPU label matches the RTX 4090's 936 GB/s only."


def test_hierarchy_glue_other_gpu() -> None:
    tiers = {p: roofline.system_tiers(hm.load_system("hermes_paper", p, gpu="t4", n_dimms=2))
             for p in ("paper", "datasheet")}
    fig1 = {tiers["paper"][0].name: 1e12, tiers["paper"][1].name: 64e9,
            tiers["paper"][4].name: 1.6e12}
    glue = chapter.hierarchy_glue(tiers, "datasheet", fig1, gpu="t4", gpu_name="T4", n_dimms=2)
    gpu_GBps = sorted({ts[0].bandwidth_bytes_per_s / 1e9 for ts in tiers.values()})
    assert all(round(v / 1000) != 1 for v in gpu_GBps)  # a T4 has about 320 GB/s
    assert glue["gpu_label_txt"] == (
        "The GPU label, for the paper's RTX 4090, does not match the T4's "
        f"{roofline.prose_list([f'{v:,.0f}' for v in gpu_GBps])} GB/s.")
    link = tiers["datasheet"][1].name.split(",")[0]
    assert link.startswith("PCIe 3.0")
    assert glue["pcie_ds_txt"].endswith(f" GB/s on the T4's {link} link")
    assert glue["gap_txt"].startswith(
        'So for the T4 the gap between GPU memory and PCIe, which the paper quotes as "more '
        'than 15×" for its RTX 4090, is ')
    assert glue["n_dimms"] == 2


def test_compute_bound_batches_every_step_within_the_paper_batches() -> None:
    # fp16 (s = 2), b* = R s w / (2 w - R s io): at a ridge of 10 FLOP/byte step A turns
    # compute-bound at 20,000 / 1,800 = 11.1 and step B at 20,000 / 1,200 = 16.7 (> 16); at a
    # ridge of 5 at 10,000 / 1,900 = 5.3 and 10,000 / 1,600 = 6.25. Limits: 100 and 25 FLOP/byte.
    two = pd.DataFrame({"model": ["A", "B"], "weights": [1000.0, 1000.0],
                        "io_elements": [10.0, 40.0]})
    tiers = _ridge_tiers({"GPU": 200.0, "PCIe": 200.0, "host": 200.0, "1 DIMM": 10.0,
                          "8 DIMMs": 10.0})
    result = chapter.compute_bound_batches(tiers, two, "fp16")
    np.testing.assert_allclose(result.table["8 DIMMs"], [20000 / 1800, 20000 / 1200])
    assert np.isinf(result.table["GPU"]).all()
    # one step within 16 is not enough: the DIMMs stay memory-bound for B
    assert result.glue["only_dimms_txt"].startswith("Even the NDP-DIMMs")
    assert result.glue["summary_only_txt"].startswith("Even the NDP-DIMMs")
    # the DIMMs turn for both steps; the GPU (ridge 10) only for A, so it is not named
    tiers = _ridge_tiers({"GPU": 10.0, "PCIe": 200.0, "host": 200.0, "1 DIMM": 5.0,
                          "8 DIMMs": 5.0})
    result = chapter.compute_bound_batches(tiers, two, "fp16")
    np.testing.assert_allclose(result.table["1 DIMM"], [10000 / 1900, 10000 / 1600])
    assert result.glue["only_dimms_txt"] == (
        "Only the NDP-DIMMs, whose core is small next to its bandwidth, turn compute-bound at "
        "batch sizes the paper uses (up to 16)")


def test_pcie_reading_txt(paper: dict[str, tuple[Tier, ...]]) -> None:
    # the paper's 64 GB/s is PCIe 4.0 x16's two directions together; one direction is
    # 16 GT/s x 16 lanes x 128/130 / 8 = 31.5 GB/s
    ds_pcie_GBps = 16 * 16 * 128 / 130 / 8
    assert paper["paper"][1].bandwidth_label == "paper"
    assert chapter.pcie_reading_txt(paper, "paper") == (
        "the paper's figure, which is the link's two directions together, read per direction "
        "by this book's paper profile (the paper states only the figure); the datasheet gives "
        f"{ds_pcie_GBps:.1f} GB/s per direction")
    assert chapter.pcie_reading_txt(paper, "datasheet") == (
        "the datasheet's rate; the paper's 64 GB/s is the link's two directions together")


def test_tier_table_labels(paper: dict[str, tuple[Tier, ...]]) -> None:
    systems = {p: hm.load_system("hermes_paper", p) for p in ("paper", "datasheet")}
    table = chapter.tier_table(paper, systems).set_index(["profile", "short"])
    plain = pd.concat([roofline.roofline_table(ts).assign(profile=p) for p, ts in paper.items()],
                      ignore_index=True).set_index(["profile", "short"])
    assert table.index.equals(plain.index)
    np.testing.assert_array_equal(table["ridge_flop_per_byte"], plain["ridge_flop_per_byte"])
    # the paper's 64 GB/s, read per direction; the datasheet's per-direction rate keeps its label
    assert table.loc[("paper", "PCIe"), "bandwidth_label"] == "paper, read per direction"
    assert table.loc[("datasheet", "PCIe"), "bandwidth_label"] == "datasheet"
    # the NDP core's peak rests on the derived cycles per operation
    ndp = [s for s in table.loc["paper"].index if "DIMM" in s]
    assert ndp and all(table.loc[("paper", s), "flop_label"] == "derived" for s in ndp)
    changed = (table["flop_label"] != plain["flop_label"]) | (
        table["bandwidth_label"] != plain["bandwidth_label"])
    assert changed.sum() == 2 * len(ndp) + 1


@pytest.fixture(scope="module")
def t4() -> dict[str, tuple[Tier, ...]]:
    return {p: roofline.system_tiers(hm.load_system("hermes_paper", p, gpu="t4"))
            for p in ("paper", "datasheet")}


def test_pcie_texts_for_a_link_the_paper_does_not_quote(
        paper: dict[str, tuple[Tier, ...]], t4: dict[str, tuple[Tier, ...]]) -> None:
    assert chapter.pcie_profile_txt(paper) == "64 GB/s per direction"
    txt = chapter.pcie_profile_txt(t4)
    assert txt.startswith("32 GB/s per direction for the GPU's PCIe 3.0 x16 link")
    assert txt.endswith("(assumed)")
    for p in ("paper", "datasheet"):
        reading = chapter.pcie_reading_txt(t4, p)
        assert "by the paper's convention" in reading and "the paper's 32" not in reading
    systems = {p: hm.load_system("hermes_paper", p, gpu="t4") for p in ("paper", "datasheet")}
    table = chapter.tier_table(t4, systems).set_index(["profile", "short"])
    assert table.loc[("paper", "PCIe"), "bandwidth_label"] == "assumed (the paper's convention)"
    assert table.loc[("datasheet", "PCIe"), "bandwidth_label"] == "datasheet"


def _step_glue(gpu: str, batch: int) -> dict[str, object]:
    system = hm.load_system("hermes_paper", "datasheet", gpu=gpu)
    tiers = roofline.system_tiers(system)
    steps = roofline.decode_gemv_table([hm.load_model(s) for s in PAPER_MODELS], batch, "fp16")
    return chapter.step_time_glue(tiers, roofline.place_on_rooflines(steps, tiers), steps,
                                  batch=batch, gpu_memory_bytes=system.gpu.memory_bytes)


def test_step_time_glue_at_batch_1() -> None:
    g = _step_glue("rtx_4090", 1)
    assert g["step_time_txt"] == ("The time of a step is therefore the bytes of its weights "
                                  "over the bandwidth of the tier that holds them")
    assert g["speed_txt"] == "is the hierarchy of decode speed."
    assert str(g["big_pool_txt"]).endswith("ms from the pool's pin bandwidth")


def test_step_time_glue_t4_at_batch_16() -> None:
    """T4 at batch 16: the pool (819 GB/s) is compute-bound and slower than T4 memory."""
    g = _step_glue("t4", 16)
    assert "on every memory-bound tier; at batch 16 the steps on one NDP-DIMM and the " \
        "NDP-DIMM pool are compute-bound" in str(g["step_time_txt"])
    assert str(g["speed_txt"]).startswith(
        "is not the hierarchy of decode speed here: the step-time table orders them GPU memory, "
        "then the NDP-DIMM pool")
    assert "because the NDP-DIMM pool is limited by compute" in str(g["speed_txt"])
    # LLaMA2-70B: 137.3 GB over 819.2 GB/s = 168 ms at the pins, 735 ms on the multipliers
    assert g["big_pool_txt"] == ("735 ms on the pool, limited by its multipliers (its pin "
                                 "bandwidth alone would take 168 ms)")


def test_summary_only_txt_past_the_ridge(steps: pd.DataFrame) -> None:
    tiers = roofline.system_tiers(hm.load_system("hermes_paper", "paper"))
    at1 = chapter.compute_bound_batches(tiers, steps, "fp16").glue["summary_only_txt"]
    at16 = chapter.compute_bound_batches(tiers, steps, "fp16", batch=16).glue["summary_only_txt"]
    assert str(at1).endswith("approach their ridge at the paper's batch sizes.")
    assert str(at16).endswith("at batch 16 every step is past it on them.")


def test_fig1_bandwidths_leave_the_pcie_label_off_another_generation(
        paper: dict[str, tuple[Tier, ...]], t4: dict[str, tuple[Tier, ...]]) -> None:
    """Fig. 1's 64 GB/s labels PCIe 4.0: the T4's PCIe 3.0 row gets no tick, and the text says
    why; the RTX 4090's PCIe 4.0 row keeps it."""
    labels = pd.DataFrame({"value": [1.0, 64.0, 1.6], "unit": ["TB/s", "GB/s", "TB/s"]},
                          index=["gpu_memory", "pcie", "ndp_host_memory"])
    on_t4 = chapter.fig1_bandwidths(labels, t4["paper"])
    assert t4["paper"][1].name not in on_t4 and len(on_t4) == 2
    assert paper["paper"][1].name in chapter.fig1_bandwidths(labels, paper["paper"])
    assert chapter.pcie_label_txt(paper["paper"]) == (
        "The PCIe label is the paper's 64 GB/s, which is the x16 link's two directions together")
    assert chapter.pcie_label_txt(t4["paper"]) == (
        "The PCIe label, the paper's 64 GB/s for the x16 link's two directions together, is for "
        "PCIe 4.0, and the chart leaves it off this GPU's PCIe 3.0 x16 row")


def test_a_pool_of_one_dimm_is_shown_once() -> None:
    """n_dimms 1: the pool is the one DIMM, so the tables and charts drop it, the NDP label of
    Fig. 1 moves to the DIMM, and the text names the pool once and in the singular."""
    systems = {p: hm.load_system("hermes_paper", p, gpu="rtx_5090", n_dimms=1)
               for p in ("paper", "datasheet")}
    tiers = {p: roofline.system_tiers(systems[p]) for p in systems}
    shown = {p: chapter.shown_tiers(tiers[p], 1) for p in tiers}
    assert len(shown["paper"]) == 4
    assert chapter.shown_tiers(tiers["paper"], 2) == tiers["paper"]
    table = chapter.tier_table(shown, systems)
    assert len(table) == 8 and not table["tier"].str.contains(r"\(pin bound\)").any()
    assert chapter.pool_name(tiers["paper"]) == "the pool of one NDP-DIMM"
    g1 = chapter.pool_glue(tiers["paper"], 1)
    assert g1["pool_reach_txt"] == ("The one DIMM of this chapter's parameters reaches 102 GB/s "
                                    "at the pin bound.")
    assert g1["pool_ridge_txt"].startswith("and the pool of this chapter's parameters is that one")
    labels = pd.DataFrame({"value": [1.0, 64.0, 1.6], "unit": ["TB/s", "GB/s", "TB/s"]},
                          index=["gpu_memory", "pcie", "ndp_host_memory"])
    fig1 = chapter.fig1_bandwidths(labels, shown["paper"])
    assert fig1[tiers["paper"][3].name] == pytest.approx(1.6e12)
    glue = chapter.hierarchy_glue(tiers, "paper", fig1, gpu="rtx_5090", gpu_name="RTX 5090",
                                  n_dimms=1)
    assert glue["fig1_dimms"] == pytest.approx(1.6e12 / 102.4e9, rel=1e-3)
    assert "the pool of one NDP-DIMM" in str(glue["hierarchy_txt"])


def test_pool_glue_for_eight_dimms(paper: dict[str, tuple[Tier, ...]]) -> None:
    g = chapter.pool_glue(paper["paper"], 8)
    assert g["pool_ridge_txt"] == ("and the pool's is the same, since both rates scale with the "
                                   "count (819 GB/s and 2.98 TFLOP/s for the whole pool)")
    assert g["pool_reach_txt"] == ("The pool of 8 DIMMs of this chapter's parameters reaches "
                                   "819 GB/s at the pin bound.")
    assert chapter.pool_name(paper["paper"]) == "the NDP-DIMM pool"


def test_step_time_glue_names_a_pool_of_one_dimm_once() -> None:
    """T4 at batch 16 with one DIMM: the one DIMM and the pool are both compute-bound; the
    text names them once."""
    tiers = roofline.system_tiers(hm.load_system("hermes_paper", "datasheet", gpu="t4",
                                                 n_dimms=1))
    steps = roofline.decode_gemv_table([hm.load_model(s) for s in PAPER_MODELS], 16, "fp16")
    g = chapter.step_time_glue(tiers, roofline.place_on_rooflines(steps, tiers), steps, batch=16,
                               gpu_memory_bytes=16 * 2**30)
    assert "at batch 16 the steps on the pool of one NDP-DIMM are compute-bound" in str(
        g["step_time_txt"])
    assert "one NDP-DIMM and" not in str(g["step_time_txt"])


def test_ridge_batch_table_marks_batches_below_one() -> None:
    """H200, int4, batch 32: the DIMMs' ridge (3.6 FLOP/byte) is reached below batch 1."""
    tiers = roofline.system_tiers(hm.load_system("hermes_paper", "paper", gpu="h200"))
    steps = roofline.decode_gemv_table([hm.load_model(s) for s in PAPER_MODELS], 32, "int4")
    b = chapter.compute_bound_batches(tiers, steps, "int4", batch=32)
    assert (b.table["1 DIMM"] < 1).all()
    shown = chapter.ridge_batch_table(b.table)
    assert (shown["1 DIMM"] == "≤ 1").all() and (shown["8 DIMMs"] == "≤ 1").all()
    assert shown["host"].iloc[0] == "6.43"
    fp16 = chapter.ridge_batch_table(chapter.compute_bound_batches(
        tiers, roofline.decode_gemv_table([hm.load_model("opt_13b")], 1, "fp16"), "fp16").table)
    assert fp16["1 DIMM"].iloc[0] == "3.64" and fp16["PCIe"].iloc[0] == "never"


@pytest.mark.parametrize(("pcie_ms", "pool_ms", "fits", "start", "end"), [
    (2139, 1337, False, "This is the paper's argument in three numbers: a step of an offloading",
     "remove that transfer."),
    (300, 100, True, "The last two are the paper's argument:", "need neither."),
    (1076, 1471, False, "Here the pool is slower than streaming the weights over PCIe",
     "does not hold."),
    (538, 1471, True, "Here the pool is slower than streaming the weights over PCIe",
     "(and on this GPU the weights fit in GPU memory and need neither)."),
])
def test_argument_txt(pcie_ms: float, pool_ms: float, fits: bool, start: str, end: str) -> None:
    """The int8 and H200 int4 runs at batch 32: the pool (1,471 ms) is slower than PCIe."""
    txt = chapter.argument_txt(pcie_s=pcie_ms / 1e3, pool_s=pool_ms / 1e3, fits=fits)
    assert txt.startswith(start) and txt.endswith(end)


def test_step_time_glue_argument_at_int8_batch_32() -> None:
    tiers = roofline.system_tiers(hm.load_system("hermes_paper", "paper"))
    steps = roofline.decode_gemv_table([hm.load_model(s) for s in PAPER_MODELS], 32, "int8")
    g = chapter.step_time_glue(tiers, roofline.place_on_rooflines(steps, tiers), steps,
                               batch=32, gpu_memory_bytes=24 * 2**30)
    assert str(g["argument_txt"]).startswith("Here the pool is slower than streaming")
    g1 = _step_glue("rtx_4090", 1)
    assert str(g1["argument_txt"]).startswith("This is the paper's argument in three numbers")
