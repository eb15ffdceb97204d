"""Tests of hermes_model.whatif: one change at a time, sources, break-even (issue 11)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import hermes_model as hm
from hermes_model import io, policies, whatif


@pytest.fixture(scope="module")
def kw():
    inputs = io.load_generator_inputs()
    models = {s: hm.load_model(s) for s in ("llama2_70b", "llama3_8b")}
    acts = {(s, "relu"): policies.activity_from_inputs(inputs[s]) for s in models}
    return {"system_for": functools.partial(io.load_system, "hermes_paper", "paper"),
            "models": models, "activities": acts}


def test_apply_changes_exactly_one_input():
    case = whatif.Case(model="llama2_70b", system=(("gpu", "rtx_5090"),))
    for w in (whatif.WhatIf(label="a", parameter="dimm", value="ddr5_4800_ndp"),
              whatif.WhatIf(label="b", parameter="gpu", value="h100_pcie_80g"),
              whatif.WhatIf(label="c", parameter="batch", value=4),
              whatif.WhatIf(label="d", parameter="density", value=0.5),
              whatif.WhatIf(label="e", parameter="cuda_graphs", value=True)):
        assert len(whatif.changed_inputs(case, w)) == 1
    same = whatif.WhatIf(label="same", parameter="gpu", value="rtx_5090")
    assert whatif.changed_inputs(case, same) == ()


def test_unknown_parameter_and_bad_case_raise():
    with pytest.raises(ValueError, match="unknown what-if parameter"):
        whatif.WhatIf(label="x", parameter="colour", value=1)
    with pytest.raises(ValueError, match="activation"):
        whatif.Case(model="opt_13b", activation="gelu")
    with pytest.raises(ValueError, match="system override"):
        whatif.Case(model="opt_13b", system=(("cpu", "i9_13900k"),))


def test_run_matches_direct_policy_calls(kw):
    case = whatif.Case(model="llama2_70b")
    w = whatif.WhatIf(label="16", parameter="n_dimms", value=16)
    out = whatif.run(case, [w], **kw)
    system = io.load_system("hermes_paper", "paper", n_dimms=16)
    opts = policies.Assumptions(activity=kw["activities"][("llama2_70b", "relu")])
    direct = policies.estimate("hermes", kw["models"]["llama2_70b"], system, options=opts)
    got = out[(out["label"] == "16") & (out["policy"] == "hermes")]["tokens_per_s"].item()
    assert got == pytest.approx(direct.tokens_per_s, rel=1e-12)
    base = out[(out["label"] == "baseline")].set_index("policy")
    assert base.loc["hermes", "vs_baseline"] == 1.0
    # 70B does not fit one RTX 4090: gpu-only is N.P.
    assert not base.loc["gpu-only", "supported"] and math.isnan(base.loc["gpu-only", "tokens_per_s"])


def test_pcie5_needs_a_pcie5_gpu(kw):
    case = whatif.Case(model="llama2_70b")
    w = whatif.WhatIf(label="pcie5", parameter="host_link", value="pcie5_x16")
    out = whatif.run(case, [w], **kw)
    assert out[out["label"] == "pcie5"]["vs_baseline"].dropna().tolist() == [1.0, 1.0]
    case5 = whatif.Case(model="llama2_70b", system=(("gpu", "rtx_5090"),))
    out5 = whatif.run(case5, [w], **kw)
    h = out5[(out5["label"] == "pcie5") & (out5["policy"] == "hermes")]["vs_baseline"].item()
    assert h > 1.05


def test_input_sources_come_from_the_catalog(kw):
    case = whatif.Case(model="llama2_70b")
    w = whatif.WhatIf(label="ddr5", parameter="dimm", value="ddr5_4800_ndp")
    src = whatif.input_sources(case, w, system_for=kw["system_for"], models=kw["models"],
                               provenance={})
    spec = io.load_dimm("ddr5_4800_ndp", "paper")
    assert dict(zip(src["field"], src["source"], strict=True)) == dict(spec.sources)
    link = whatif.input_sources(case, whatif.WhatIf(label="l", parameter="host_link",
                                                    value="pcie5_x16"),
                                system_for=kw["system_for"], models=kw["models"], provenance={})
    assert link["field"].iloc[0] == "effective link"


def test_with_density_keeps_skew_position():
    act = policies.Activity(mlp_density=0.18, mlp_hot_share=0.43, qkv_density=0.18,
                            qkv_hot_share=0.43, similarity_d1=0.9, similarity_d10=0.7,
                            similarity_d25=0.7)
    s0 = whatif.skew_position(0.18, 0.43)
    assert s0 == pytest.approx((0.43 - 0.144) / (0.8 - 0.144))
    for d in (0.05, 0.5, 0.9):
        a = whatif.with_density(act, d)
        assert a.mlp_density == d and a.qkv_density == d
        assert whatif.skew_position(d, a.mlp_hot_share) == pytest.approx(s0)
    assert whatif.with_density(act, 0.18).mlp_hot_share == pytest.approx(0.43)
    # limits: position 0 is the most skewed (0.8 d), position 1 no skew (0.8)
    assert whatif.hot_share_at(0.3, 0.0) == pytest.approx(0.24)
    assert whatif.hot_share_at(0.3, 1.0) == pytest.approx(0.8)


def test_crossing_closed_form():
    # log-linear: ratio 2 -> 0.5 crosses 1 half way
    assert whatif.crossing([0.1, 0.3], [2.0, 0.5]) == pytest.approx(0.2)
    # ratio 4 -> 0.5 between 1 and 4: log 4 / (log 4 + log 2) = 2/3 of the way
    assert whatif.crossing([1, 4, 8], [8.0, 4.0, 0.5]) == pytest.approx(4 + 4 * 2 / 3)
    assert math.isnan(whatif.crossing([1, 2, 3], [3.0, 2.0, 1.5]))
    assert whatif.crossing([1, 2], [0.9, 0.5]) == 1.0
    assert math.isnan(whatif.crossing([1, 2], [np.nan, np.nan]))
    with pytest.raises(ValueError, match="increasing"):
        whatif.crossing([2, 1], [1.0, 2.0])


def test_host_what_if_from_a_file_of_ones_own(kw, tmp_path):
    """A host of one's own (a YAML file): twice the DRAM bandwidth speeds Hermes-host up, leaves
    Hermes (DIMMs, not host DRAM) as it is, and its sources are the file's."""
    text = (io.data_dir() / "catalog" / "hosts" / "i9_13900k.yaml").read_text()
    assert "dram_bandwidth_GBps: {value: 89.6," in text
    path = tmp_path / "fast_host.yaml"
    path.write_text(text.replace("dram_bandwidth_GBps: {value: 89.6,",
                                 "dram_bandwidth_GBps: {value: 179.2,"))
    case = whatif.Case(model="llama2_70b")
    w = whatif.WhatIf(label="2x host DRAM", parameter="host", value=str(path))
    assert whatif.changed_inputs(case, w) == ("host",)
    out = whatif.run(case, [w], **kw).set_index(["label", "policy"])
    gain = out.loc[("2x host DRAM", "hermes-host"), "vs_baseline"]
    assert 1.2 < gain <= 2.0
    assert out.loc[("2x host DRAM", "hermes"), "vs_baseline"] == pytest.approx(1.0)
    src = whatif.input_sources(case, w, system_for=kw["system_for"], models=kw["models"],
                               provenance={})
    assert "dram_bandwidth_bytes_per_s" in set(src["field"])


@pytest.mark.parametrize("density", [0.0, 1.0])
def test_density_bounds_are_open(density):
    """Density 0 or 1 leaves no room between the most skewed and the flat hot share: refused."""
    act = policies.Activity(mlp_density=0.18, mlp_hot_share=0.43, qkv_density=0.18,
                            qkv_hot_share=0.43, similarity_d1=0.9, similarity_d10=0.7,
                            similarity_d25=0.7)
    for call in (lambda: whatif.skew_position(density, 0.5),
                 lambda: whatif.hot_share_at(density, 0.5),
                 lambda: whatif.with_density(act, density)):
        with pytest.raises(ValueError, match=r"density must be in \(0, 1\)"):
            call()


def test_crossing_at_exactly_one():
    """A ratio of exactly 1 is the crossing itself, at the first point or the last."""
    assert whatif.crossing([1, 2], [1.0, 0.5]) == 1.0
    assert whatif.crossing([1, 2], [2.0, 1.0]) == 2.0
    # a zero ratio has no logarithm: it is skipped like a missing one
    assert whatif.crossing([1, 2, 3], [2.0, 0.0, 0.5]) == pytest.approx(2.0)
    assert whatif.crossing([1, 2, 3], [2.0, np.nan, 0.5]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="increasing"):
        whatif.crossing([1, 1, 2], [2.0, 1.5, 0.5])
