"""The NDP-DIMM chapter's text and table logic (`hermes_model.chapters.ndp_dimm`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import dram, ndp, shapes
from hermes_model.chapters import ndp_dimm as chapter


@pytest.fixture(scope="module")
def sets() -> dict:
    return {name: hm.load_dimm(slug) for name, slug in chapter.TIMING_SETS.items()}


@pytest.fixture(scope="module")
def fig16() -> pd.DataFrame:
    return hm.io.load_paper_fig16().set_index("quantity")


def _eff(x: object, **kw: object) -> str:
    return f"{float(dram.rank_efficiency(x, **kw)):.3f}"


def _slow_refresh(x: object) -> object:
    """`x` with four times the refresh time (a different stream efficiency)."""
    return dataclasses.replace(x, timings=dataclasses.replace(x.timings,
                                                              tRFC_s=4 * x.timings.tRFC_s))


def test_organisation_glues(sets: dict) -> None:
    t2 = sets["Table II"]
    g = chapter.organisation_glues(t2)
    assert g["org_chips"] * t2.device_width_bits == t2.bus_width_bits
    assert g["org_row_KiB"] == g["org_chips"] * 2  # 2 KiB rows per x16 chip
    assert g["org_part"] == "x16" and g["org_ranks"] == t2.n_ranks


def test_timing_table_and_glues(sets: dict) -> None:
    table = chapter.timing_table(sets)
    assert table.index.tolist() == ["Table II", "JEDEC x16"]
    for name, x in sets.items():
        t = x.timings
        assert table.loc[name, "tFAW"] == t.tFAW
        assert table.loc[name, "t_col"] == max(t.tBL, t.tCCD_S, t.tCCD_L / x.n_bank_groups)
        assert table.loc[name, "refresh left"] == pytest.approx(1 - t.tRFC_s / t.tREFI_s)
    g = chapter.timing_glues(sets)
    assert g["ndp_refresh_pct_t2"] == pytest.approx(
        100 * sets["Table II"].timings.tRFC_s / sets["Table II"].timings.tREFI_s, rel=1e-3)
    assert g["ndp_tact_jedec"] == pytest.approx(dram.activate_cycles(sets["JEDEC x16"]))


def test_statements_when_the_sets_agree(sets: dict) -> None:
    stream = _eff(sets["Table II"])
    assert stream == _eff(sets["JEDEC x16"])
    assert chapter.stream_statement(sets) == (
        f"{stream} under both timing sets, which refresh alike")
    assert chapter.chunks_statement(sets) == (
        f"16 KiB chunks (a LLaMA2-70B row) and 2 KiB chunks attain {stream} under both timing "
        "sets: all four equal the stream")


def test_statements_when_the_sets_differ(sets: dict) -> None:
    t2, jedec = sets["Table II"], _slow_refresh(sets["JEDEC x16"])
    both = {"Table II": t2, "JEDEC x16": jedec}
    assert chapter.stream_statement(both) == (
        f"{_eff(t2)} under Table II and {_eff(jedec)} under JEDEC")
    c = {(s, k): _eff(x, pattern="chunks", chunk_bytes=s)
         for s in (16384, 2048) for k, x in (("t2", t2), ("j", jedec))}
    assert c[(16384, "t2")] != c[(16384, "j")]
    assert chapter.chunks_statement(both) == (
        f"16 KiB chunks attain {c[(16384, 't2')]} under Table II and {c[(16384, 'j')]} under "
        f"JEDEC; 2 KiB chunks attain {c[(2048, 't2')]} under Table II and {c[(2048, 'j')]} "
        "under JEDEC")


def test_rank_glues(sets: dict) -> None:
    curves = pd.DataFrame({"chunk_bytes": [64.0, 128.0, 256.0] * 2,
                           "timings": ["Table II"] * 3 + ["JEDEC x16"] * 3,
                           "efficiency": [0.5, 0.9, 0.9, 0.4, 0.8, 0.9]})
    g = chapter.rank_glues(sets, curves)
    assert g["ndp_knee_bytes"] == 256.0  # JEDEC reaches the best efficiency last
    t2 = sets["Table II"]
    assert g["ndp_eff_2k_t2"] == pytest.approx(
        float(dram.rank_efficiency(t2, pattern="chunks", chunk_bytes=2048)), rel=1e-3)
    assert g["ndp_stream_eff_norefresh_t2"] == pytest.approx(
        t2.timings.tBL / max(t2.timings.tBL, t2.timings.tCCD_S,
                             t2.timings.tCCD_L / t2.n_bank_groups), rel=1e-3)
    assert g["ndp_bound_64_jedec"] == str(dram.chunk_cycles(sets["JEDEC x16"], 64).bound)
    assert g["ndp_stream_statement"] == (
        f"{_eff(t2)} under both timing sets, which refresh alike")
    assert g["ndp_chunks_statement"].endswith("under both timing sets: all four equal the stream")
    # both sets reach the best efficiency at 128 B and stay there: the knee is the smallest
    flat = curves.assign(efficiency=[0.5, 0.9, 0.9, 0.4, 0.9, 0.9])
    assert chapter.rank_glues(sets, flat)["ndp_knee_bytes"] == 128.0


def test_dimm_bandwidth_and_table(sets: dict) -> None:
    d = sets["Table II"]
    rank = float(dram.rank_bandwidth_bytes_per_s(d, pattern="chunks", chunk_bytes=10240))
    assert chapter.dimm_bandwidth(d, 10240, True) == pytest.approx(d.n_ranks * rank)
    assert chapter.dimm_bandwidth(d, None, True) == pytest.approx(
        d.n_ranks * float(dram.rank_bandwidth_bytes_per_s(d)))
    assert chapter.dimm_bandwidth(d, None, False) <= d.rank_pin_bandwidth_bytes_per_s * (1 + 1e-12)
    table = chapter.bandwidth_table(sets, "OPT-13B", 10240.0)
    assert len(table) == 10
    row = table[(table.timings == "Table II") & (table.pattern == "OPT-13B rows (10240 B)")]
    assert row["ranks in parallel (GB/s)"].item() == pytest.approx(d.n_ranks * rank / 1e9)
    shared = float(dram.dimm_bandwidth_bytes_per_s(d, pattern="chunks", chunk_bytes=10240,
                                                   ranks_parallel=False))
    assert row["one shared bus (GB/s)"].item() == pytest.approx(shared / 1e9)
    # one 64-bit DDR4-3200 bus: 3200 MT/s x 8 B = 25.6 GB/s at most
    assert 20.0 < row["one shared bus (GB/s)"].item() <= 25.6


def test_dimm_glues_name_and_mode(sets: dict) -> None:
    d = sets["JEDEC x16"]
    kw = {"bandwidth_bytes_per_s": 80e9, "inferred_bytes_per_s": 100e9}
    g = chapter.dimm_glues(d, "ddr4_3200_ndp_jedec", ranks_parallel=False, **kw)
    assert g["ndp_dimm_name"].endswith(" with JEDEC x16 timings")
    assert g["ndp_ranks_mode"] == "over one shared bus" and g["ndp_bw_over_inferred"] == 0.8
    other = chapter.dimm_glues(d, "my_dimm", ranks_parallel=True, **kw)
    assert other["ndp_dimm_name"] == d.name and other["ndp_ranks_mode"] == "in parallel"
    assert g["ndp_shared_share"] == pytest.approx(
        chapter.dimm_bandwidth(d, None, False) / chapter.dimm_bandwidth(d, None, True), rel=1e-3)
    # B/s shown in GB/s: 80e9 and 100e9 B/s; 4 ranks x 25.6 GB/s of pins
    assert (g["ndp_dimm_bw_GBps"], g["ndp_inferred_bw_GBps"]) == (80.0, 100.0)
    assert d.n_ranks == 4 and g["ndp_pin_GBps"] == pytest.approx(4 * 25.6)
    shared = float(dram.dimm_bandwidth_bytes_per_s(d, ranks_parallel=False))
    assert g["ndp_dimm_shared_GBps"] == pytest.approx(shared / 1e9, rel=1e-3)
    assert 20.0 < g["ndp_dimm_shared_GBps"] <= 25.6  # one 64-bit DDR4-3200 bus at most
    stream = float(dram.dimm_bandwidth_bytes_per_s(d, ranks_parallel=True))
    assert g["ndp_dimm_stream_GBps"] == pytest.approx(stream / 1e9, rel=1e-3)


def test_pool_rooflines() -> None:
    roofs = chapter.pool_rooflines(3, mac_per_s=100e9, bandwidth_bytes_per_s=50e9)
    assert [t.short for t in roofs.tiers] == ["1", "2", "3", "4", "8", "16"]
    assert roofs.pool.name == "3 NDP-DIMMs" and roofs.tiers[0].name == "1 NDP-DIMM"
    assert roofs.pool.bandwidth_bytes_per_s == 150e9 and roofs.pool.flop_per_s == 600e9
    g = roofs.glues
    assert g["ndp_ridge_batch"] == 4.0  # 2 MAC/s per B/s: 2 FLOP per MAC
    assert g["ndp_util_bs1_pct"] == 25.0 and g["ndp_util_bs16_pct"] == 100.0
    assert g["ndp_16_TBps"] == 0.8 and g["ndp_n_dimms"] == 3
    assert roofs.points["bound"].tolist() == ["memory", "memory", "compute", "compute",
                                              "compute"]
    assert roofs.points["attainable_flop_per_s"].iloc[0] == pytest.approx(150e9)


def test_fig16_sweep_and_reference(sets: dict, fig16: pd.DataFrame) -> None:
    d = sets["Table II"]
    kw = chapter.gemv_kwargs(d, 95e9)
    sweep = chapter.fig16_sweep(kw, cycles_per_op=11.0, saturation_gain=0.05)
    assert sweep.speedup.shape == (5, 13, 5) and np.allclose(sweep.speedup[0], 1)
    c11 = list(chapter.C_SWEEP).index(11.0)
    assert np.allclose(sweep.at_parameters, sweep.speedup[:, c11, :])
    direct = ndp.multiplier_speedup(512.0, cycles_per_op=11.0, batch=16.0, **kw)
    assert sweep.table.iloc[-1].tolist() == [512.0, 16, pytest.approx(float(direct))]
    assert np.array_equal(sweep.saturation, ndp.saturation_multipliers(
        sweep.speedup, chapter.M_SWEEP, min_gain=0.05), equal_nan=True)
    ref = chapter.fig16_reference(fig16, sweep.at_parameters)
    assert ref["multipliers"].tolist() == [64, 512]
    assert ref["speedup"].tolist() == [sweep.at_parameters[1, 0], 3.86]
    assert ref["label"].iloc[1] == "paper: batch 16, 3.86×"


def test_fig16_evidence_verdicts(sets: dict, fig16: pd.DataFrame) -> None:
    d = sets["Table II"]
    kw = chapter.gemv_kwargs(d, 95e9)
    at = chapter.fig16_sweep(kw, cycles_per_op=11.0, saturation_gain=0.05).at_parameters
    ev = chapter.fig16_evidence(fig16, kw, at, saturation_gain=0.05, default_cycles_per_op=11.0,
                                other_bandwidth_bytes_per_s=25e9)
    lo, hi = ndp.implied_cycles_per_op_range(64.0, batch=1, min_gain=0.05, **kw)
    assert (ev.low, ev.high) == (pytest.approx(float(lo)), pytest.approx(float(hi)))
    g = ev.glues
    assert g["ndp_default_in_range"] == ("inside" if lo <= 11.0 < hi else "outside")
    assert g["ndp_c_plausible"] == "6 to 16" and g["ndp_stated_speedup"] == 3.86
    s16 = float(at[-1, -1])
    assert g["ndp_s16"] == pytest.approx(s16, rel=1e-3)
    assert g["ndp_amdahl_share_pct"] == pytest.approx(
        100 * (1 - 1 / 3.86) / (1 - 1 / s16), rel=1e-3)  # Amdahl: (1 - 1/S) / (1 - 1/s)
    # the batch-16 cycles give 3.86x from 32 to 512 multipliers (inverting the speedup)
    s_c16 = ndp.multiplier_speedup(512.0, cycles_per_op=g["ndp_c_bs16"], batch=16.0, **kw)
    assert float(s_c16) == pytest.approx(3.86, rel=1e-3)
    # on the shared bus (a quarter of the bandwidth here) the same saturation needs slower MACs
    shared = ndp.implied_cycles_per_op_range(64.0, batch=1, min_gain=0.05,
                                             **{**kw, "bandwidth_bytes_per_s": 25e9})
    assert (g["ndp_c_lo_other"], g["ndp_c_hi_other"]) == (
        pytest.approx(float(shared[0]), rel=1e-3), pytest.approx(float(shared[1]), rel=1e-3))
    assert g["ndp_c_lo_other"] > g["ndp_c_lo"] and g["ndp_other_mode"] == "on one shared bus"
    # a saturation at 4096 multipliers would need far more cycles than any bit-serial design
    far = fig16.copy()
    far.loc["saturation_multipliers", "value"] = 4096
    g_far = chapter.fig16_evidence(far, kw, at, saturation_gain=0.05,
                                   default_cycles_per_op=11.0,
                                   other_bandwidth_bytes_per_s=25e9).glues
    assert g_far["ndp_range_verdict"] == "lies outside"
    assert g_far["ndp_default_in_range"] == "outside"


def test_neuron_moves(sets: dict) -> None:
    d = sets["Table II"]
    link = hm.load_link("dimm_link")
    sizes = {"small": 20480.0, "large": float(shapes.neuron_bytes(hm.load_model("llama2_70b"),
                                                                    "mlp"))}
    moves = chapter.neuron_moves(sizes, d, link, host_overhead_s=10e-6)
    t_link = link.latency_s + sizes["large"] / link.achievable_bandwidth_bytes_per_s
    assert moves.table["DIMM-link (µs)"].iloc[-1] == pytest.approx(t_link * 1e6)
    assert moves.glues["ndp_link_70b_us"] == round(t_link * 1e6, 2)
    host = ndp.host_move(np.array(list(sizes.values())), d, host_overhead_s=10e-6)
    ratio = host.time_s / moves.via_link.time_s
    assert moves.glues["ndp_move_ratio_lo"] == pytest.approx(ratio.min(), rel=1e-3)
    assert moves.glues["ndp_move_ratio_hi"] == pytest.approx(ratio.max(), rel=1e-3)
    assert moves.glues["ndp_host_overhead_us"] == 10.0
    assert moves.glues["ndp_move_energy_ratio"] == pytest.approx(
        2 * ndp.ASSUMED_CHANNEL_ENERGY_J_PER_BIT / link.energy_j_per_bit, rel=1e-3)
    assert moves.table["bytes"].tolist() == [20480, 49152]
    # the 70B neuron's chunks over one shared channel: at most 3200 MT/s x 8 B = 25.6 GB/s
    channel = float(dram.dimm_bandwidth_bytes_per_s(d, pattern="chunks", chunk_bytes=49152,
                                                    ranks_parallel=False))
    assert moves.glues["ndp_channel_GBps"] == pytest.approx(channel / 1e9, rel=1e-3)
    assert 20.0 < moves.glues["ndp_channel_GBps"] <= 25.6
    # 8 lanes x 25 Gb/s = 25 GB/s per direction, at the link's attained 90 %
    assert (link.lanes, link.efficiency.bandwidth_frac) == (8, 0.9)
    assert moves.glues["ndp_link_GBps"] == pytest.approx(22.5)  # 25 GB/s x 0.9


def test_fig16_evidence_on_a_shared_bus_compares_the_parallel_layout(
        sets: dict, fig16: pd.DataFrame) -> None:
    """On a shared bus the range is compared with the ranks in parallel, not with itself."""
    d = sets["Table II"]
    shared, parallel = 25.5e9, 95.2e9
    kw = chapter.gemv_kwargs(d, shared)
    at = chapter.fig16_sweep(kw, cycles_per_op=11.0, saturation_gain=0.05).at_parameters
    g = chapter.fig16_evidence(fig16, kw, at, saturation_gain=0.05, default_cycles_per_op=11.0,
                               other_bandwidth_bytes_per_s=parallel, ranks_parallel=False).glues
    assert g["ndp_other_mode"] == "read in parallel"
    assert g["ndp_c_lo_other"] < g["ndp_c_lo"]  # more bandwidth: fewer cycles to saturate
    # 11 cycles lies in the parallel layout's range only: evidence for the other layout
    assert g["ndp_c_lo_other"] <= 11.0 < g["ndp_c_hi_other"] and g["ndp_c_lo"] > 11.0
    assert g["ndp_layout_verdict"].endswith("evidence for ranks read in parallel")
    assert g["ndp_default_in_range"] == "outside"
    assert g["ndp_cycles_clause"].startswith("the derived 11 cycles per operation lie outside")


def test_layout_verdict_branches() -> None:
    par, shared = (7.0, 14.0), (14.0, 28.0)  # the ranges of the default DDR4 DIMM, roughly
    v = chapter.layout_verdict(11.0, par, shared, ranks_parallel=True)
    assert v == "the paper's batch-1 observation is evidence for ranks read in parallel"
    assert chapter.layout_verdict(11.0, shared, par, ranks_parallel=False) == v
    assert chapter.layout_verdict(20.0, par, shared, ranks_parallel=True).endswith(
        "evidence for ranks on one shared bus")
    assert "does not tell them apart" in chapter.layout_verdict(11.0, par, par,
                                                                ranks_parallel=False)
    assert "fits neither layout" in chapter.layout_verdict(40.0, par, shared,
                                                           ranks_parallel=True)


def test_cycles_clause_branches() -> None:
    assert chapter.cycles_clause(11.0, 7.0, 14.0) == (
        "the derived cycles per operation are consistent with its batch-1 statement")
    assert chapter.cycles_clause(11.0, 14.03, 28.05) == (
        "the derived 11 cycles per operation lie outside the 14.0 to 28.1 its batch-1 "
        "statement implies here")


def test_batch1_clause_branches() -> None:
    # the default: 256 multipliers, ridge at a batch of about 10
    assert chapter.batch1_clause(10.2, 256, 64) == (
        "At batch 1 the DIMM is memory-bound, as the paper's Fig. 16 says")
    # 32 multipliers: ridge at 0.49, below the paper's saturation count
    low = chapter.batch1_clause(0.49, 32, 64)
    assert low.startswith("With 32 multipliers the DIMM is compute-bound already at batch 1")
    assert "as the paper's Fig. 16 implies below 64" in low
    assert "unlike the paper's Fig. 16" in chapter.batch1_clause(0.8, 128, 64)
    assert "memory-bound at batch 1, though" in chapter.batch1_clause(2.0, 32, 64)


def test_ridge_sentence_branches() -> None:
    assert chapter.ridge_sentence(10.24) == (
        "One DIMM turns compute-bound at a batch of 10.24: at batch 1 its multipliers are busy "
        "10 % of the time, at 16 they are 100 % busy")
    low = chapter.ridge_sentence(0.49)
    assert low.startswith("One DIMM is compute-bound already at batch 1")
    assert "a batch of 0.49" not in low and "busy 100 % of the time at batch 1 and at 16" in low


def test_fig1_clause_branches() -> None:
    label, value = "~1.6 TB/s", 1.6e12
    assert chapter.fig1_clause(8, 1.523e12, label, value) == (
        '; sixteen would read 1.52 TB/s, close to Fig. 1\'s "~1.6 TB/s" label')
    # a DDR5 DIMM on a shared bus: 16 x 38.3 GB/s is far below the label
    assert chapter.fig1_clause(4, 0.613e12, label, value) == (
        '; sixteen would read 0.61 TB/s, 0.38 of Fig. 1\'s "~1.6 TB/s" label')
    sixteen = chapter.fig1_clause(16, 1.523e12, label, value)
    assert "sixteen would" not in sixteen and "close to" in sixteen
    assert "2.4 times" in chapter.fig1_clause(16, 3.8e12, label, value)
    roofs = chapter.pool_rooflines(16, mac_per_s=100e9, bandwidth_bytes_per_s=95e9)
    assert roofs.glues["ndp_fig1_clause"] == sixteen


def test_mac_glues_scale_the_inferred_rate(fig16: pd.DataFrame) -> None:
    # 128 multipliers at 11 cycles: 128 x 8 x 1 GHz / 11 = 93.1 GMAC/s; the inferred
    # 256 GMAC/s is for 256 multipliers, so 128 of them retire 128 GMAC/s at its 8 cycles
    g = chapter.mac_glues(128 * 8 * 1e9 / 11, 128, fig16)
    assert g["ndp_inferred_mac_GMACps"] == 256 and g["ndp_inferred_multipliers"] == 256
    assert g["ndp_inferred_mac_at_m_GMACps"] == 128
    assert g["ndp_mac_over_inferred"] == pytest.approx(8 / 11, rel=1e-3)
    g256 = chapter.mac_glues(256 * 8 * 1e9 / 11, 256, fig16)
    assert g256["ndp_inferred_mac_at_m_GMACps"] == 256
    assert g256["ndp_mac_over_inferred"] == g["ndp_mac_over_inferred"]


def test_dimm_kind_and_ranks(sets: dict) -> None:
    ddr5 = hm.load_dimm("ddr5_4800_ndp")
    assert chapter.dimm_kind(ddr5) == "DDR5-4800" and chapter.dimm_kind(sets["Table II"]) == (
        "DDR4-3200")
    g = chapter.dimm_glues(ddr5, "ddr5_4800_ndp", bandwidth_bytes_per_s=38e9,
                           ranks_parallel=False, inferred_bytes_per_s=102.4e9)
    assert (g["ndp_dimm_kind"], g["ndp_dimm_ranks"]) == ("DDR5-4800", "two")
    assert g["ndp_pin_GBps"] == pytest.approx(2 * 38.4)  # two ranks at 4800 MT/s x 8 B


def test_fig16_evidence_judges_the_runs_cycles(sets: dict, fig16: pd.DataFrame) -> None:
    """cycles_per_op 30 (saturation gain 0.2): the verdicts judge the run's 30 cycles, which
    lie outside the batch-1 range, and say that the catalog's 11 would lie inside it."""
    d = sets["Table II"]
    kw = chapter.gemv_kwargs(d, 95.2e9)
    at = chapter.fig16_sweep(kw, cycles_per_op=30.0, saturation_gain=0.2).at_parameters
    ev = chapter.fig16_evidence(fig16, kw, at, saturation_gain=0.2, default_cycles_per_op=11.0,
                                other_bandwidth_bytes_per_s=25.5e9, cycles_per_op=30.0)
    assert ev.low <= 11.0 < ev.high and not ev.low <= 30.0 < ev.high
    g = ev.glues
    assert g["ndp_c_verdict"] == ("this run's 30 cycles lie outside it (the catalog's derived 11 "
                                  "would lie inside it)")
    assert str(g["ndp_cycles_clause"]).startswith(
        "this run's 30 cycles per operation lie outside the")
    assert str(g["ndp_cycles_clause"]).endswith("(the catalog's derived 11 would lie inside it)")
    # at the default the verdicts read as before
    at11 = chapter.fig16_sweep(kw, cycles_per_op=11.0, saturation_gain=0.2).at_parameters
    g11 = chapter.fig16_evidence(fig16, kw, at11, saturation_gain=0.2, default_cycles_per_op=11.0,
                                 other_bandwidth_bytes_per_s=25.5e9, cycles_per_op=11.0).glues
    assert g11["ndp_c_verdict"] == "the catalog's derived default of 11 cycles lies inside it"
    assert g11["ndp_cycles_clause"] == (
        "the derived cycles per operation are consistent with its batch-1 statement")


def test_cycles_clause_and_verdict_for_the_runs_cycles() -> None:
    assert chapter.cycles_clause(8.0, 7.0, 14.0, default_cycles_per_op=11.0) == (
        "this run's 8 cycles per operation are consistent with its batch-1 statement (the "
        "catalog's derived 11 would lie inside it too)")
    assert chapter.cycles_clause(4.0, 5.6, 11.3, default_cycles_per_op=11.0) == (
        "this run's 4 cycles per operation lie outside the 5.6 to 11.3 its batch-1 statement "
        "implies here (the catalog's derived 11 would lie inside it)")
    assert chapter.cycles_verdict(20.0, 14.0, 28.0, default_cycles_per_op=11.0) == (
        "this run's 20 cycles lie inside it (the catalog's derived 11 would lie outside it)")
    assert chapter.cycles_verdict(11.0, 14.0, 28.0, default_cycles_per_op=11.0) == (
        "the catalog's derived default of 11 cycles lies outside it")
    assert chapter.layout_verdict(4.0, (5.6, 11.3), (22.0, 42.0), ranks_parallel=True,
                                  derived=False) == (
        "at this run's 4 cycles the paper's batch-1 observation fits neither layout")


def test_mac_table_and_run_cycles_txt(sets: dict) -> None:
    d = sets["Table II"]
    t = chapter.mac_table(d, multipliers=256, cycles_per_op=11.0)
    assert t.index.tolist() == ["6", "8", "11 (this run)", "16"]
    assert t.loc["11 (this run)", "GMAC/s per DIMM"] == pytest.approx(
        float(ndp.dimm_mac_per_s(d, multipliers=256, cycles_per_op=11.0)) / 1e9)
    t30 = chapter.mac_table(d, multipliers=256, cycles_per_op=30.0)
    assert t30.index.tolist() == ["6", "8", "11", "16", "30 (this run)"]
    assert t30["GMAC/s per DIMM"].iloc[-1] == pytest.approx(
        t30["GMAC/s per DIMM"].iloc[2] * 11 / 30)
    assert chapter.run_cycles_txt(11.0, 11.0) == ""
    assert chapter.run_cycles_txt(4.5, 11.0) == (
        "; this run sets c = 4.5 instead (the parameter cycles_per_op)")


def test_pool_txt_singular_for_one_dimm() -> None:
    kw = {"mac_per_s": 186e9, "bandwidth_bytes_per_s": 95e9, "fig1_label": "~1.6 TB/s",
          "fig1_bytes_per_s": 1.6e12}
    assert chapter.pool_rooflines(1, **kw).glues["ndp_pool_txt"] == "A pool of 1 DIMM"
    assert chapter.pool_rooflines(8, **kw).glues["ndp_pool_txt"] == "A pool of 8 DIMMs"
