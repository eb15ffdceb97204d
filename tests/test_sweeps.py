"""Sweeps of the sensitivity and cost chapters (issue 10), their CLI and their charts."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hermes_model import cli, io, plotting, policies, shapes, sweeps
from hermes_model import units as u

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def acts() -> dict[str, policies.Activity]:
    return {k: policies.activity_from_inputs(v) for k, v in io.load_generator_inputs().items()}


@pytest.fixture(scope="module")
def system_for():
    return partial(io.load_system, "hermes_paper", "paper")


@pytest.fixture(scope="module")
def fig14(acts, system_for) -> pd.DataFrame:
    models = {s: io.load_model(s) for s in sweeps.FIG14_MODELS}
    return sweeps.dimm_sweep(models, acts, system_for)


# ------------------------------------------------------------------------------- Fig. 14


def test_dimm_sweep_is_np_exactly_where_capacity_is_short(fig14: pd.DataFrame) -> None:
    assert len(fig14) == len(sweeps.FIG14_MODELS) * len(sweeps.FIG14_DIMMS)
    assert (fig14["supported"] == (fig14["need_bytes"] <= fig14["pool_bytes"])).all()
    # need: fp16 weights and 256 tokens (128 of prompt, 128 generated) of KV cache, by hand
    llama = io.load_model("llama2_70b")
    kv_token = 2 * llama.n_layers * llama.n_kv_heads * llama.head_dim * 2  # K and V, fp16
    need = fig14.set_index(["model", "n_dimms"]).loc[("llama2_70b", 8), "need_bytes"]
    assert need == pytest.approx(shapes.weight_bytes(llama, "fp16") + 256 * kv_token)
    assert fig14.loc[~fig14["supported"], "tokens_per_s"].isna().all()
    assert (fig14.loc[fig14["supported"], "tokens_per_s"] > 0).all()


def test_falcon_needs_four_dimms_and_llama2_70b_eight(fig14: pd.DataFrame) -> None:
    """The paper's statements (§V-E1) follow from the catalog's 32 GiB DIMMs and fp16 weights."""
    ok = fig14.set_index(["model", "n_dimms"])["supported"]
    assert [n for n in sweeps.FIG14_DIMMS if ok["falcon_40b", n]] == [4, 8, 16]
    assert [n for n in sweeps.FIG14_DIMMS if ok["llama2_70b", n]] == [8, 16]
    assert [n for n in sweeps.FIG14_DIMMS if ok["opt_30b", n]] == [2, 4, 8, 16]
    paper = io.load_paper_sensitivity("fig14")
    for _, row in paper[~paper["supported"]].iterrows():
        assert not ok[row["model"], int(row["n_dimms"])]


def test_more_dimms_never_slow_hermes_down(fig14: pd.DataFrame) -> None:
    for _, g in fig14[fig14["supported"]].groupby("model"):
        assert np.all(np.diff(g.sort_values("n_dimms")["tokens_per_s"].to_numpy()) >= 0)


def test_step_breakdown_adds_up_to_the_decode_step(fig14: pd.DataFrame) -> None:
    ok = fig14[fig14["supported"]]
    steps = ok[[c for c in ok.columns if c.startswith("step_")]].sum(axis=1)
    np.testing.assert_allclose(steps, ok["decode_step_s"], rtol=1e-9)


def test_progress_wrapper_sees_every_job(acts, system_for) -> None:
    seen: list[int] = []

    def progress(jobs):
        jobs = list(jobs)
        seen.append(len(jobs))
        return jobs

    models = {"opt_13b": io.load_model("opt_13b")}
    df = sweeps.dimm_sweep(models, acts, system_for, n_dimms=(2, 8), progress=progress)
    assert seen == [2] and len(df) == 2


@pytest.mark.parametrize(("model", "n_dimms", "status"), [
    ("falcon_40b", 2, 3), ("falcon_40b", 4, 0), ("llama2_70b", 4, 3), ("llama2_70b", 8, 0),
    ("llama2_70b", 1, 3)])
def test_estimate_exits_3_when_the_pool_is_short(model: str, n_dimms: int, status: int,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = 0
    try:
        code = cli.main(["estimate", "--model", model, "--policy", "hermes",
                         "--n-dimms", str(n_dimms)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == status
    out = capsys.readouterr().out
    assert ("supported: false - " in out and "NDP-DIMM pool" in out) == (status == 3)


def test_capacity_margins_of_llama2_70b_at_four_dimms() -> None:
    """The digest's 0.4 % call (§18): 128.48 GiB of fp16 weights against 4 x 32 GiB."""
    model = io.load_model("llama2_70b")
    dimm = io.load_dimm("ddr4_3200_ndp")
    t = sweeps.capacity_margins(model, dimm_capacity_bytes=dimm.capacity_bytes, n_dimms=4)
    t = t.set_index("reading")
    weights = shapes.weight_bytes(model, "fp16")
    assert t.loc["weights only", "need_bytes"] == weights
    np.testing.assert_allclose(t["margin_frac"], t["pool_bytes"] / t["need_bytes"] - 1)
    assert -0.005 < t.loc["weights only", "margin_frac"] < -0.003
    embed = model.vocab_size * model.d_model * 2
    kv = 256 * shapes.kv_cache_bytes_per_token(model, "fp16")
    # without the embedding it still misses with its KV cache, and fits only without both
    assert t.loc["weights and KV cache without the input embedding", "need_bytes"] == (
        weights - embed + kv)
    assert not t.loc["weights and KV cache without the input embedding", "fits"]
    assert t.loc["weights without the input embedding or the KV cache", "need_bytes"] == (
        weights - embed)
    assert t.loc["weights without the input embedding or the KV cache", "fits"]
    assert not t.loc["weights and KV cache (the model)", "fits"]
    assert t.loc["weights and KV cache, 32 GB = 32e9 B per DIMM", "pool_bytes"] == 4 * 32e9
    assert 128 * u.GiB == 4 * dimm.capacity_bytes


# ------------------------------------------------------------------------------- Fig. 15


def test_gpu_sweep_and_speedups_agree_with_direct_estimates(acts, system_for) -> None:
    models = {s: io.load_model(s) for s in sweeps.FIG15_MODELS}
    df = sweeps.gpu_sweep(models, acts, system_for)
    assert len(df) == 2 * 3 * 3
    assert set(df.loc[df["gpu"] == "t4", "link"]) == {"pcie3_x16"}
    assert set(df.loc[df["gpu"] != "t4", "link"]) == {"pcie4_x16"}
    sp = sweeps.gpu_speedups(df)
    assert len(sp) == 12 and set(sp["over"]) == {"t4", "rtx_3090"}
    opts = policies.Assumptions(activity=acts["opt_30b"])
    num = policies.estimate("hermes", models["opt_30b"], system_for(gpu="rtx_4090"), batch=4,
                            options=opts).tokens_per_s
    den = policies.estimate("hermes", models["opt_30b"], system_for(gpu="t4"), batch=4,
                            options=opts).tokens_per_s
    got = sp[(sp["model"] == "opt_30b") & (sp["batch"] == 4) & (sp["over"] == "t4")]["speedup"]
    assert float(got.iloc[0]) == pytest.approx(num / den, rel=1e-12)
    # Same bandwidth and memory, more FLOP/s: the 4090 is never slower than the 3090.
    assert (sp.loc[sp["over"] == "rtx_3090", "speedup"] >= 1 - 1e-12).all()


def test_gpu_ratio_by_reading_starts_at_the_defaults_and_moves(acts, system_for) -> None:
    models = {s: io.load_model(s) for s in sweeps.FIG15_MODELS}
    t = sweeps.gpu_ratio_by_reading(models, acts, system_for, batches=(1, 16))
    assert t.iloc[0]["parameter"] == "defaults"
    sp = sweeps.gpu_speedups(sweeps.gpu_sweep(models, acts, system_for, gpus=("rtx_3090",
                                                                               "rtx_4090"),
                                              batches=(1, 16)))
    assert t.iloc[0]["speedup"] == pytest.approx(float(sp["speedup"].mean()), rel=1e-12)
    # only what Hermes reads, and no end equal to the default
    hermes_params = {p.name for p in policies.unstated_for("hermes", system_for())}
    single = t[~t["parameter"].isin(["defaults", "raising ends together", "corner"])]
    assert set(single["parameter"]) == hermes_params
    # the 3090 streams prefill over the same link: a half-speed link narrows the gap
    link = t[t["parameter"] == "link_bandwidth_scale"]["speedup"].iloc[0]
    assert link < t.iloc[0]["speedup"]
    assert (t["speedup"] >= 1 - 1e-12).all()
    # the combined favourable reading is at least as high as every one-at-a-time end that fed it
    raising = t[t["parameter"] == "raising ends together"]
    assert len(raising) == 1
    fed = [kv.split("=")[0] for kv in raising["value"].iloc[0].split(", ")]
    singles = t[t["parameter"].isin(fed)]
    assert (singles.groupby("parameter")["speedup"].max() > t.iloc[0]["speedup"]).all()
    # eight corners of the three parameters that move the ratio most
    assert (t["parameter"] == "corner").sum() == 8


def test_ratio_error_is_taken_on_the_gain() -> None:
    assert sweeps.ratio_error(2.02, 2.02) == 0
    assert sweeps.ratio_error(1.51, 2.02) == pytest.approx(-0.5)
    assert sweeps.ratio_error(1.34 + 0.34 * 0.25, 1.34) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="undefined"):
        sweeps.ratio_error(1.2, 1.0)


# ------------------------------------------------------------------------------- Fig. 17


def test_pipeline_system_is_one_gpu_with_the_memory_of_all_stages(system_for) -> None:
    one = system_for(gpu="a100_40g_sxm4", n_gpus=1)
    p5 = sweeps.pipeline_system(one, 5)
    assert p5.n_gpus == 1 and p5.gpu.memory_bytes == 5 * one.gpu.memory_bytes
    assert sweeps.pipeline_system(one, 1) == one
    with pytest.raises(ValueError, match="n_stages"):
        sweeps.pipeline_system(one, 0)


def test_deployments_of_the_reference(system_for) -> None:
    model = io.load_model("llama2_70b")
    d = sweeps.deployment_sweep(model, system_for, batches=(1, 16))
    assert set(d["deployment"]) == {"tensor parallel x5, NVLink", "tensor parallel x4, NVLink",
                                    "tensor parallel x5, PCIe", "pipeline x5, one batch in flight"}
    t = d.set_index(["deployment", "batch"])["tokens_per_s"]
    for b in (1, 16):
        assert t["tensor parallel x5, PCIe", b] < t["tensor parallel x5, NVLink", b]
        assert t["pipeline x5, one batch in flight", b] < t["tensor parallel x4, NVLink", b]
    # 8 KV heads: no TP degree between 5 and 8 would divide them, 4 is the largest below 5.
    assert model.n_kv_heads % 4 == 0 and model.n_kv_heads % 5 != 0


def test_decode_roofline_of_five_a100s() -> None:
    """The digest's bound (§18): five A100-40GB read LLaMA2-70B at about 50 tokens/s."""
    model, gpu = io.load_model("llama2_70b"), io.load_gpu("a100_40g_sxm4")
    w = shapes.weight_bytes(model, "fp16")
    peak = sweeps.decode_roofline_tokens_per_s(w, gpu.memory_bandwidth_bytes_per_s, n_gpus=5)
    assert float(peak) == pytest.approx(5 * 1555e9 / w)
    assert 45 < float(peak) < 60
    both = sweeps.decode_roofline_tokens_per_s(w, 1e12, n_gpus=2, batch=np.array([1, 4]))
    np.testing.assert_allclose(both, [2e12 / w, 8e12 / w])


def test_cost_sweep_is_the_ratio_of_two_estimates(acts, system_for) -> None:
    model = io.load_model("llama2_70b")
    ref = system_for(gpu="a100_40g_sxm4", n_gpus=5)
    c = sweeps.cost_sweep(model, acts["llama2_70b"], system_for(), ref, batches=(1, 4))
    np.testing.assert_allclose(c["efficiency"],
                               c["hermes_tokens_per_s"] / c["reference_tokens_per_s"])
    opts = policies.Assumptions(activity=acts["llama2_70b"])
    direct = policies.estimate("gpu-only", model, ref, batch=4, options=opts).tokens_per_s
    assert c.loc[c["batch"] == 4, "reference_tokens_per_s"].iloc[0] == pytest.approx(direct)


# --------------------------------------------------------------------------------- bands


def test_band_sweep_brackets_the_default_and_ranks_the_unknowns(acts, system_for) -> None:
    bars = pd.DataFrame({"model": ["llama2_70b", "llama2_70b", "falcon_40b"],
                         "policy": ["hermes", "hermes", "flexgen"], "batch": [1, 16, 1],
                         "paper": [13.75, 57.02, math.nan]})
    models = {s: io.load_model(s) for s in set(bars["model"])}
    bands, oat = sweeps.band_sweep(bars, models, acts, system_for())
    assert list(bands["paper"][:2]) == [13.75, 57.02]  # other columns are kept
    ok = bands.dropna(subset=["default"])
    assert len(ok) == 2 and bands["default"].isna().sum() == 1  # FlexGen is OPT-only
    assert (ok["low"] <= ok["default"]).all() and (ok["default"] <= ok["high"]).all()
    n_params = len(policies.unstated_for("hermes", system_for()))
    assert len(oat) == 2 * 2 * n_params
    np.testing.assert_allclose(oat["change_frac"], oat["tokens_per_s"] / oat["default"] - 1)
    rank = sweeps.influence(oat)
    assert set(rank["parameter"]) == {p.name for p in policies.unstated_for("hermes",
                                                                             system_for())}
    assert (np.diff(rank["median_spread"].to_numpy()) <= 0).all()
    np.testing.assert_allclose(rank["max_factor"], np.exp(rank["max_spread"]))


# ---------------------------------------------------------------------------------- CLI


def test_cli_sweep_json_has_no_nan_and_no_bar_off_a_terminal() -> None:
    proc = subprocess.run([sys.executable, "-m", "hermes_model", "sweep", "--figure", "14",
                           "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # stderr is a pipe here: no progress bar
    payload = json.loads(proc.stdout)  # NaN would not parse as strict JSON
    assert "NaN" not in proc.stdout
    rows = payload["fig14"]
    assert len(rows) == 20 and sum(r["tokens_per_s"] is None for r in rows) == 6


def test_cli_sweep_rejects_an_unknown_figure(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["sweep", "--figure", "16"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_progress_bar_is_off_when_quiet_or_not_a_tty() -> None:
    bar = cli._sweep_progress(quiet=True)(range(3))
    assert bar.disable and list(bar) == [0, 1, 2]


def test_bench_reports_sweeps_s() -> None:
    assert "sweeps_s" in cli.BENCHMARKS
    assert cli.BENCHMARKS["sweeps_s"]() > 0


# ------------------------------------------------------------------------------- charts


def test_tornado_chart_sorts_by_swing_and_rounds() -> None:
    df = pd.DataFrame({"panel": ["a"] * 4 + ["b"] * 4,
                       "parameter": ["x", "x", "y", "y"] * 2, "end": ["low", "high"] * 4,
                       "change_frac": [-0.1, 0.0, -0.5, 0.2, -0.05, 0.123456789, 0.0, 0.01]})
    spec = plotting.tornado_chart(df).to_dict()
    layer = spec["spec"]["layer"][0]
    assert layer["encoding"]["y"]["sort"] == ["y", "x"]
    values = next(iter(spec["datasets"].values()))
    assert {v["change_pct"] for v in values} >= {12.35, -50.0}
    with pytest.raises(ValueError, match="change_frac"):
        plotting.tornado_chart(df.drop(columns="change_frac"))


def test_band_chart_drops_rows_without_a_band() -> None:
    df = pd.DataFrame({"panel": ["p", "p"], "label": ["a", "b"], "low": [1.0, math.nan],
                       "high": [3.0, math.nan], "default": [2.0, math.nan],
                       "paper": [2.5, math.nan]})
    spec = plotting.band_chart(df).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert [v["label"] for v in values] == ["a"]


def test_influence_takes_the_median_and_the_largest_spread_by_hand() -> None:
    """Spread |ln(high/low)| per bar; per parameter the bar count, median and maximum."""
    rows = []
    for name, pairs in {"a": [(10.0, 20.0), (10.0, 15.0), (8.0, 8.8)],
                        "b": [(30.0, 10.0), (5.0, 5.5)]}.items():
        for i, (lo, hi) in enumerate(pairs):
            for end, v in (("low", lo), ("high", hi)):
                rows.append({"model": "m", "policy": "hermes", "batch": i, "parameter": name,
                             "end": end, "tokens_per_s": v})
    got = sweeps.influence(pd.DataFrame(rows)).set_index("parameter")
    assert list(got.index) == ["b", "a"]  # median (ln 3 + ln 1.1)/2 = 0.60 > ln 1.5 = 0.41
    assert got.loc["a", "n_bars"] == 3 and got.loc["b", "n_bars"] == 2
    assert got.loc["a", "median_spread"] == pytest.approx(math.log(1.5))
    assert got.loc["b", "median_spread"] == pytest.approx((math.log(3) + math.log(1.1)) / 2)
    assert got.loc["a", "max_spread"] == pytest.approx(math.log(2))
    assert got.loc["b", "max_spread"] == pytest.approx(math.log(3))
    assert got.loc["b", "max_factor"] == pytest.approx(3.0)


def test_gpu_ratio_corners_are_the_parameters_that_move_the_ratio_most(acts,
                                                                       system_for) -> None:
    """The corner parameters are the `n_corner` largest swings |speedup(end) - default| of
    the one-at-a-time rows, a lowering end counting as much as a raising one."""
    models = {s: io.load_model(s) for s in sweeps.FIG15_MODELS[:1]}
    t = sweeps.gpu_ratio_by_reading(models, acts, system_for, batches=(16,), n_corner=2)
    default = t.iloc[0]["speedup"]
    single = t[~t["parameter"].isin(["defaults", "raising ends together", "corner"])]
    swing = (single["speedup"] - default).abs().groupby(single["parameter"]).max()
    top = swing.sort_values(ascending=False)
    assert top.iloc[1] > top.iloc[2] + 1e-3  # the two largest are unambiguous
    # on opt_13b at batch 16 both lower the ratio: a signed ranking would pick others
    assert (single.groupby("parameter")["speedup"].max()[top.index[:2]] < default).all()
    corners = t[t["parameter"] == "corner"]["value"]
    assert len(corners) == 4
    named = {kv.split("=")[0] for v in corners for kv in v.split(", ")}
    assert named == set(top.index[:2])
