"""Activation sparsity: statistic oracles, the fitted families, the generator, and its
validation against MiniLM's held-out measurements (tolerances fixed before the first run)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from hermes_model import io
from hermes_model import sparsity as sp
from hermes_model.cli import bench_trace_llama2_70b_256tok_s, sparsity_payload, sparsity_targets

# ------------------------------------------------------------------------------ statistics


def test_hot_share_oracles() -> None:
    # equal frequencies: 80 % of the neurons carry 80 % of the activations
    assert sp.hot_share(np.full(100, 0.3)) == pytest.approx(0.80)
    # one neuron carries 90 %: it alone is the hot set
    assert sp.hot_share(np.r_[0.9, np.full(10, 0.01)]) == pytest.approx(1 / 11)
    # per row, and counts work like frequencies
    # 4 of 5 activations (80 %) on one neuron of five: hot share 1/5
    rows = sp.hot_share(np.array([[4, 1, 0, 0, 0], [1, 1, 1, 1, 1]]))
    assert rows == pytest.approx([0.2, 0.8])
    assert np.isnan(sp.hot_share(np.zeros(5)))


def test_memoryless_similarity_oracles() -> None:
    assert sp.memoryless_similarity(np.full(50, 0.2)) == pytest.approx(0.2)
    p = np.array([0.5, 0.1])
    assert sp.memoryless_similarity(p) == pytest.approx((0.25 + 0.01) / 0.6)


def test_similarity_and_density_oracles() -> None:
    same = np.zeros((6, 1, 4), dtype=bool)
    same[:, 0, :2] = True  # the same two neurons on every token
    seq = np.zeros(6, dtype=int)
    assert sp.similarity(same, seq, 1) == pytest.approx([1.0])
    assert sp.density(same) == pytest.approx([0.5])
    alt = same.copy()
    alt[1::2, 0] = ~alt[1::2, 0]  # disjoint sets on odd tokens
    assert sp.similarity(alt, seq, 1) == pytest.approx([0.0])
    assert sp.similarity(alt, seq, 2) == pytest.approx([1.0])
    # pairs across sequences are skipped: two sequences of 3 tokens
    assert sp.similarity(alt, np.repeat([0, 1], 3), 2) == pytest.approx([1.0])
    with pytest.raises(ValueError, match="distance"):
        sp.similarity(same, seq, 0)


def test_layer_correlation_finds_a_planted_and() -> None:
    rng = np.random.default_rng(3)
    prev = rng.random((4000, 30)) < 0.4
    cur = rng.random((4000, 5)) < 0.1
    cur[:, 0] |= prev[:, 7] & prev[:, 12]  # neuron 0 fires whenever 7 and 12 both do
    parents = sp.top2_parents(prev, cur)
    assert set(parents[:, 0]) == {7, 12}
    lc = sp.layer_correlation(prev, cur[:, :1], np.arange(4000) % 2 == 0)
    assert lc.p_active_given_top2 == pytest.approx(1.0)
    assert lc.p_active_unconditional < 0.35


# ------------------------------------------------------------------------- fitted families


@pytest.mark.parametrize("slug", ["opt_30b", "llama2_13b", "llama2_70b", "falcon_40b"])
def test_frequency_fit_is_exact_for_the_catalog_inputs(slug: str) -> None:
    row = io.load_generator_inputs()[slug]
    fit = sp.fit_frequencies(28672, row["mlp_density"], row["hot_share_80"])
    p = sp.logit_normal_frequencies(28672, fit.logit_mean, fit.logit_std)
    assert p.mean() == pytest.approx(row["mlp_density"], abs=1e-6)
    assert abs(sp.hot_share(p) - row["hot_share_80"]) <= 0.02  # the issue's ±2 points
    assert abs(sp.hot_share(p) - row["hot_share_80"]) <= 2 / 28672  # in fact one neuron


def test_more_skew_means_a_smaller_hot_share() -> None:
    fits = [sp.fit_frequencies(4096, 0.18, h) for h in (0.3, 0.43, 0.6, 0.75)]
    sigmas = [f.logit_std for f in fits]
    assert sigmas == sorted(sigmas, reverse=True)
    with pytest.raises(ValueError, match="not reachable"):
        sp.fit_frequencies(4096, 0.18, 0.85)


def test_single_timescale_fit_passes_through_its_end_points() -> None:
    pers = sp.fit_persistence((1, 10, 25), (0.91, 0.70, 0.70), memoryless=0.35)
    curve = sp.similarity_curve(pers, [0, 1, 10, 25, 100])
    assert curve[0] == pytest.approx(1.0)
    assert curve[1] == pytest.approx(0.91, abs=1e-9)
    assert curve[3] == pytest.approx(0.70, abs=1e-9)
    assert 0.65 <= curve[2] <= 0.80
    assert np.all(np.diff(curve) <= 1e-12)  # monotone decay to the plateau
    assert curve[4] >= 0.35


def test_two_timescale_fit_recovers_a_known_curve() -> None:
    truth = sp.Persistence(0.40, 0.8, 0.1, 0.85)
    d = (1, 2, 5, 10, 25, 50)
    pers = sp.fit_persistence(d, sp.similarity_curve(truth, d), memoryless=0.3, timescales=2)
    assert sp.similarity_curve(pers, d) == pytest.approx(sp.similarity_curve(truth, d), abs=1e-4)


def test_sequence_share_closed_form() -> None:
    p = sp.logit_normal_frequencies(1000, -1.5, 1.0)
    m = float(sp.memoryless_similarity(p))
    assert sp.sequence_share(p, m) == pytest.approx(0.0, abs=1e-12)
    assert sp.sequence_share(p, 1.0) == pytest.approx(1.0)
    c = sp.sequence_share(p, 0.6)
    assert (np.sum(p**2) + c * np.sum(p * (1 - p))) / p.sum() == pytest.approx(0.6)


# ------------------------------------------------------------------------------ generator


@pytest.fixture(scope="module")
def small_model() -> sp.TraceModel:
    group = sp.GroupTargets("mlp", 2048, 0.2, 0.45, (1, 10, 25), (0.9, 0.7, 0.7))
    return sp.build_trace_model([group], 3, 0.5, np.random.default_rng(11))


def test_generator_is_reproducible_with_its_rng(small_model: sp.TraceModel) -> None:
    a = sp.generate_trace(small_model, 2, np.random.default_rng(5)).active
    b = sp.generate_trace(small_model, 2, np.random.default_rng(5)).active
    c = sp.generate_trace(small_model, 2, np.random.default_rng(6)).active
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generated_statistics_match_the_targets(small_model: sp.TraceModel) -> None:
    s = sp.summarize_generated(small_model, 96, np.random.default_rng(1))
    assert s.density == pytest.approx(0.2, abs=0.01)
    assert s.hot_share_80 == pytest.approx(0.45, abs=0.02)
    pers = small_model.persistence[0][0]
    for d in (1, 10, 25):
        assert s.similarity[d] == pytest.approx(sp.similarity_curve(pers, d), abs=0.015)
    assert s.memoryless_similarity < s.similarity[25]
    # the coupled neurons follow their parents: far above their own frequency
    assert s.p_active_given_parents > 2 * s.density


def test_trace_shape_and_lengths(small_model: sp.TraceModel) -> None:
    tr = sp.generate_trace(small_model, 3, np.random.default_rng(0), [5, 9, 2])
    assert tr.active.shape == (16, 3, 2048)
    assert np.array_equal(np.bincount(tr.seq_id), [5, 9, 2])
    children, parents = small_model.parents(1)
    assert children.shape == (1024,) and parents.shape == (1024, 2)
    assert np.all(parents[:, 0] != parents[:, 1])


def test_bad_generator_inputs_raise() -> None:
    g = sp.GroupTargets("mlp", 64, 0.2, 0.45, (1, 25), (0.9, 0.7))
    with pytest.raises(ValueError, match="coupled_share"):
        sp.build_trace_model([g], 2, 0.7, np.random.default_rng(0))
    with pytest.raises(ValueError, match="per-layer"):
        sp.build_trace_model([sp.GroupTargets("mlp", 64, (0.2, 0.3), 0.45, (1, 25), (0.9, 0.7))],
                             3, 0.0, np.random.default_rng(0))


# -------------------------------------------------------------------- catalog models, CLI


def test_llama2_70b_acceptance() -> None:
    """Issue 6: d1 ≥ 0.90, d10 in [0.65, 0.80], d25 ≤ d10; density and hot share ±2 points."""
    out = sparsity_payload("llama2_70b", 8192, 0, "relu", 2)
    assert out["similarity_d1"] >= 0.90
    assert 0.65 <= out["similarity_d10"] <= 0.80
    assert out["similarity_d25"] <= out["similarity_d10"]
    assert out["memoryless_similarity"] < out["similarity_d25"]
    assert abs(out["sparsity"] - (1 - 0.18)) <= 0.02
    assert abs(out["hot_share_for_80pct"] - 0.43) <= 0.02


def test_swiglu_option_is_denser_and_less_persistent() -> None:
    relu = sparsity_targets("llama2_70b", "relu")
    swiglu = sparsity_targets("llama2_70b", "swiglu")
    r, s = relu.groups[1], swiglu.groups[1]
    assert s.density > r.density and s.hot_share_80 > r.hot_share_80
    assert s.similarity[0] < r.similarity[0]
    assert "SmolLM2" in swiglu.provenance["similarity_d1"]
    with pytest.raises(ValueError, match="native activation"):
        sparsity_targets("opt_30b", "swiglu")


def test_qkv_statistics_are_marked_assumed() -> None:
    t = sparsity_targets("llama2_70b", "relu")
    assert [g.name for g in t.groups] == ["qkv", "mlp"]
    assert t.groups[0].n_neurons == 8192 and t.groups[1].n_neurons == 28672
    assert t.provenance["qkv_density"].startswith("assumed")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hermes_model", *args], capture_output=True,
                          text=True, check=False, timeout=300)


def test_cli_sparsity_json_keys() -> None:
    res = run_cli("sparsity", "--model", "llama2_13b", "--tokens", "512", "--seed", "3",
                  "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    keys = {"sparsity", "hot_share_for_80pct", "similarity_d1", "similarity_d10",
            "similarity_d25", "memoryless_similarity"}
    assert keys <= set(out)
    assert 0.7 < out["sparsity"] < 0.85


def test_cli_sparsity_errors_are_one_line() -> None:
    res = run_cli("sparsity", "--model", "nosuch")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = run_cli("sparsity", "--model", "opt_13b", "--activation", "swiglu")
    assert res.returncode == 2 and "native activation" in res.stderr


@pytest.mark.slow
def test_trace_bench_under_ten_seconds() -> None:
    # CPU time, so that other processes sharing the two cores do not make the test flaky; the
    # wall-clock figure of `bench --json` equals it on an idle machine (numpy runs one thread).
    assert bench_trace_llama2_70b_256tok_s(time.process_time) <= 10.0


# ------------------------------------------------------------- validation on MiniLM (real)

# Tolerances fixed before the validation was first run (commit b260e3a, where they were
# literals here; now `sp.HELD_OUT_TOLERANCES`, pinned below): the held-out half has 11 sequences
# (~1,000 tokens), so these allow for its sampling noise.
TOL_DENSITY = sp.HELD_OUT_TOLERANCES["density"]  # layer-mean density, absolute
TOL_FREQ_QUANTILE = sp.HELD_OUT_TOLERANCES["frequency_quantile"]  # quantiles 10 %..90 %, absolute
TOL_HOT_SHARE = sp.HELD_OUT_TOLERANCES["hot_share_80"]  # layer-mean hot share for 80 %, absolute
TOL_SIMILARITY = sp.HELD_OUT_TOLERANCES["similarity"]  # layer-mean S(d), d = 1, 5, 10, 25, absolute
TOL_LAYER_CORRELATION = sp.HELD_OUT_TOLERANCES["layer_correlation"]  # mean P(active | top-2)
N_REPLICATES = 4  # generated replicates of the held-out half, averaged


def test_held_out_tolerances_are_the_ones_fixed_before_the_first_run() -> None:
    """The values committed before the validation was first run (b260e3a); moving them into the
    package must not loosen them."""
    assert dict(sp.HELD_OUT_TOLERANCES) == {"density": 0.02, "frequency_quantile": 0.05,
                                            "hot_share_80": 0.05, "similarity": 0.04,
                                            "layer_correlation": 0.10}
    np.testing.assert_allclose(sp.HELD_OUT_QUANTILES, [0.1 * k for k in range(1, 10)], atol=1e-15)


@pytest.fixture(scope="module")
def minilm_held_out() -> sp.HeldOutValidation:
    """The validation as first run: fit rng 2024, generation rng 7, 4 replicates (the seeds of
    ``scripts/make_sparsity_validation.py``)."""
    active, seq, _ = io.load_activation_masks("minilm")
    return sp.held_out_validation(active, seq, fit_rng=np.random.default_rng(2024),
                                  gen_rng=np.random.default_rng(7), n_replicates=N_REPLICATES)


@pytest.fixture(scope="module")
def minilm_validation(minilm_held_out: sp.HeldOutValidation) -> dict[str, tuple[float, float]]:
    v = minilm_held_out
    keys = {"density": "density", "hot": "hot_share_80", "corr": "layer_correlation",
            **{f"sim{d}": f"similarity_d{d}" for d in (1, 5, 10, 25)}}
    return {"freq_q": (v.real_quantiles, v.generated_quantiles),
            **{k: (v.real[key], v.generated[key]) for k, key in keys.items()}}


def test_minilm_held_out_density_and_frequencies(minilm_validation: dict) -> None:
    real, gen = minilm_validation["density"]
    assert abs(real - gen) <= TOL_DENSITY
    real_q, gen_q = minilm_validation["freq_q"]
    assert np.max(np.abs(real_q - gen_q)) <= TOL_FREQ_QUANTILE
    real, gen = minilm_validation["hot"]
    assert abs(real - gen) <= TOL_HOT_SHARE


@pytest.mark.parametrize("d", [1, 5, 10, 25])
def test_minilm_held_out_similarity(minilm_validation: dict, d: int) -> None:
    real, gen = minilm_validation[f"sim{d}"]
    assert abs(real - gen) <= TOL_SIMILARITY


def test_minilm_held_out_layer_correlation(minilm_validation: dict) -> None:
    real, gen = minilm_validation["corr"]
    assert abs(real - gen) <= TOL_LAYER_CORRELATION


def test_committed_validation_table_is_the_recomputation(
        minilm_held_out: sp.HeldOutValidation) -> None:
    """``data/derived/sparsity_validation_minilm.csv`` (the chapter's table) is what the package
    computes now: re-run ``scripts/make_sparsity_validation.py`` after a generator change."""
    committed = io.load_sparsity_validation()
    fresh = minilm_held_out.table()
    assert list(committed.columns) == list(io.SPARSITY_VALIDATION_COLUMNS) == list(fresh.columns)
    assert committed["statistic"].tolist() == fresh["statistic"].tolist()
    assert committed["within"].tolist() == fresh["within"].tolist()
    for column in ("real", "generated", "abs_diff", "tolerance"):
        np.testing.assert_allclose(committed[column], fresh[column], rtol=0, atol=1e-12,
                                   err_msg=column)
    assert len(fresh) == 8 and fresh["within"].all()


def test_held_out_rows_by_hand() -> None:
    """Every statistic gets its tolerance; the quantiles give one row, the level where real and
    generated differ most; a gap above its tolerance is not within."""
    keys = ("density", "hot_share_80", "similarity_d1", "similarity_d5", "similarity_d10",
            "similarity_d25", "layer_correlation")
    real = dict.fromkeys(keys, 0.5)
    gen = {**real, "density": 0.53, "similarity_d5": 0.46, "layer_correlation": 0.41}
    levels = np.asarray(sp.HELD_OUT_QUANTILES)
    v = sp.HeldOutValidation(real, gen, levels, np.linspace(0.1, 0.5, 9),
                             np.linspace(0.1, 0.5, 9) + np.r_[0, 0, 0.04, 0, 0, 0, 0, 0, -0.01],
                             n_replicates=2)
    t = v.table().set_index("statistic")
    assert t["tolerance"].tolist() == [0.02, 0.05, 0.04, 0.04, 0.04, 0.04, 0.10, 0.05]
    assert t.loc["density", "abs_diff"] == pytest.approx(0.03)
    assert not t.loc["density", "within"] and t.loc["similarity at d = 5", "within"]
    assert t.loc["layer correlation P(active | top-2 active)", "within"]
    last = t.iloc[-1]
    assert t.index[-1] == "worst neuron-frequency quantile of 10–90 % (at 30 %)"
    assert (last["real"], last["generated"]) == (pytest.approx(0.2), pytest.approx(0.24))
    assert last["within"] and t["within"].sum() == 7


def test_held_out_validation_needs_both_halves() -> None:
    active = np.zeros((4, 2, 8), dtype=bool)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="odd"):
        sp.held_out_validation(active, [0, 0, 2, 2], fit_rng=rng, gen_rng=rng, n_replicates=1)
    with pytest.raises(ValueError, match="n_replicates"):
        sp.held_out_validation(active, [0, 0, 1, 1], fit_rng=rng, gen_rng=rng, n_replicates=0)


@pytest.mark.parametrize(("active_shape", "seq", "match"), [
    ((4, 8), [0, 0, 1, 1], r"active must have shape \(T, L, N\)"),
    ((4, 2, 8), [0, 0, 1], r"seq_id must be integers of shape \(4,\)"),
    ((4, 2, 8), [[0, 0, 1, 1]], r"seq_id must be integers of shape \(4,\)"),
    ((4, 2, 8), [0.0, 0.0, 1.0, 1.0], "seq_id must be integers"),
    ((4, 2, 8), [0, 1, 0, 1], "contiguous, got 4 runs of 2 sequences"),
])
def test_held_out_validation_refuses_malformed_traces(active_shape, seq, match) -> None:
    """A clear error, not an IndexError or a silently wrong sequence length."""
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=match):
        sp.held_out_validation(np.zeros(active_shape, dtype=bool), seq, fit_rng=rng,
                               gen_rng=rng, n_replicates=1)


def test_sparsity_validation_loader_refuses_a_bad_within(tmp_path, monkeypatch) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "derived").mkdir()
    path = tmp_path / "derived" / "sparsity_validation_minilm.csv"
    path.write_text("statistic,real,generated,abs_diff,tolerance,within\n"
                    "density,0.25,0.26,0.01,0.02,yes\n", encoding="utf-8")
    monkeypatch.setenv("HERMES_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="within"):
        io.load_sparsity_validation()
    path.write_text("statistic,real,generated\ndensity,0.25,0.26\n", encoding="utf-8")
    with pytest.raises(ValueError, match="abs_diff"):
        io.load_sparsity_validation()


def test_trace_size_phrase_says_how_the_count_was_rounded() -> None:
    assert sp.trace_size_phrase(4096, 32) == "32 sequences"
    assert sp.trace_size_phrase(8200, 65) == (
        "65 sequences (8,320 tokens: the 8,200 asked for, rounded up to whole 128-token sequences)")
    assert sp.trace_size_phrase(1024, 32).endswith("rounded up to the minimum of 32 sequences)")
    assert "whole 128-token sequences and to the minimum" in sp.trace_size_phrase(1000, 32)


def test_headline_fit_where_twenty_eighty_is_out_of_reach() -> None:
    fit, text = sp.headline_fit(4096, 0.18)
    assert fit is not None and abs(fit.hot_share_80 - 0.20) < 0.01
    assert text == f"that is a skew of σ = {fit.logit_std:.2f} at the same density"
    # at density 0.3 the hottest 20 % carry at most 0.2 / 0.3 of the activations
    fit, text = sp.headline_fit(4096, 0.30)
    assert fit is None and "no skew reaches" in text and "at most 67 %" in text


def test_persistence_warns_below_the_memoryless_baseline() -> None:
    """A far similarity below independent tokens' cannot be met: a warning, the curve at M."""
    with pytest.warns(UserWarning, match="below the memoryless baseline 0.500"):
        pers = sp.fit_persistence([1, 25], [0.9, 0.3], memoryless=0.5)
    far = float(sp.similarity_curve(pers, np.array([25.0]))[0])
    assert 0.5 <= far < 0.55
    assert float(sp.similarity_curve(pers, np.array([1.0]))[0]) == pytest.approx(0.9)


def test_persistence_above_the_baseline_is_quiet() -> None:
    """Targets above the baseline raise no warning and are met at both ends."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pers = sp.fit_persistence([1, 25], [0.9, 0.6], memoryless=0.3)
    got = sp.similarity_curve(pers, np.array([1.0, 25.0]))
    np.testing.assert_allclose(got, [0.9, 0.6], rtol=1e-9)


def test_model_targets_origin_reads_the_provenance():
    """Each generator input's kind and, when borrowed, the model it is borrowed from; a
    provenance naming no kind is refused."""
    t = sparsity_targets("opt_13b", "relu")
    assert t.origin("mlp_density") == ("published", None)
    assert t.origin("hot_share_80") == ("borrowed", "opt_30b")
    assert t.origin("coupled_share") == ("assumed", None)
    # Hermes' own Fig. 4a is *paper*, PowerInfer's statistics *published*
    assert sparsity_targets("llama2_13b", "relu").origin("similarity_d1") == ("paper", None)
    assert sparsity_targets("falcon_40b", "relu").origin("similarity_d25") == ("paper", None)
    assert sparsity_targets("falcon_40b", "relu").origin("mlp_density") == ("published", None)
    assert sparsity_targets("llama2_70b", "swiglu").origin("similarity_d1")[0] == "measured"
    for slug in ("opt_30b", "llama2_70b", "falcon_40b", "llama3_8b"):
        targets = sparsity_targets(slug, "relu")
        assert {targets.origin(k)[0] for k in targets.provenance} <= set(
            sp.PROVENANCE_KINDS)
    bad = sp.ModelTargets((), 0.5, {"x": "guessed: by hand"})
    with pytest.raises(ValueError, match=r"'x'.*guessed"):
        bad.origin("x")


def test_top2_parents_rank_by_the_phi_coefficient() -> None:
    """φ is Pearson's correlation of the 0/1 masks: the parents are the two largest
    ``np.corrcoef`` entries of each column, most correlated first, whatever the frequencies."""
    rng = np.random.default_rng(11)
    t, n_prev, n_cur = 600, 16, 12
    freq = np.linspace(0.05, 0.9, n_prev)  # very different parent frequencies
    prev = rng.random((t, n_prev)) < freq
    cur = np.zeros((t, n_cur), dtype=bool)
    for j in range(n_cur):
        a, b = rng.choice(n_prev, 2, replace=False)
        cur[:, j] = (prev[:, a] | prev[:, b]) ^ (rng.random(t) < 0.1)
    corr = np.corrcoef(prev.T.astype(float), cur.T.astype(float))[:n_prev, n_prev:]
    order = np.argsort(-corr, axis=0)
    ranked = np.take_along_axis(corr, order, 0)
    assert np.all(np.diff(ranked[:3], axis=0) < -1e-3)  # no near-tie among the top three
    np.testing.assert_array_equal(sp.top2_parents(prev, cur), order[:2])


@pytest.mark.parametrize(("values", "memoryless", "stationary"),
                         [((0.5, 0.6), 0.3, 0.6),  # flat above M: S∞ is the far target
                          ((0.2, 0.25), 0.3, 0.3)])  # flat below M: kept at M
def test_flat_curve_is_memoryless_within_a_sequence(values, memoryless, stationary) -> None:
    """A curve that does not decay has no within-sequence memory: S∞ = max(S(last), M)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the below-baseline case warns
        pers = sp.fit_persistence((1, 25), values, memoryless=memoryless)
    assert pers == sp.Persistence(stationary, 0.0, 0.0, 0.0)
    curve = sp.similarity_curve(pers, np.array([1.0, 25.0]))
    np.testing.assert_allclose(curve, [stationary, stationary], rtol=1e-12)


def test_swiglu_similarity_keeps_smollm2s_normalised_excess() -> None:
    """S(d) = M + (1 - M) e(d): the excess e = (S_ref - M_ref) / (1 - M_ref) measured on
    SmolLM2 carried over onto the memoryless baseline M of the model's own frequencies."""
    s = sparsity_targets("llama2_70b", "swiglu").groups[1]
    ref_runs = io.load_activation_summary("smollm2")["sensitivity_by_density_target"]
    key = min(ref_runs, key=lambda k: abs(float(k) - s.density))
    ref = ref_runs[key]
    m_ref = float(ref["memoryless_similarity"])
    fit = sp.fit_frequencies(s.n_neurons, s.density, s.hot_share_80)
    m = float(np.mean(sp.logit_normal_frequencies(s.n_neurons, fit.logit_mean, fit.logit_std)
                      ** 2) / s.density)  # Σp²/Σp with Σp = N × density
    for d, got in zip((1, 10, 25), s.similarity, strict=True):
        e = (float(ref["similarity"][str(d)]) - m_ref) / (1 - m_ref)
        assert 0 < e < 1
        assert got == pytest.approx(m + (1 - m) * e, rel=1e-4)
        assert (got - m) / (1 - m) == pytest.approx(e, rel=1e-3)


def test_similarity_pairs_each_token_with_the_one_d_later() -> None:
    """A0 = {0, 1}, A1 = {0}, A2 = {0, 1, 2, 3}: at d = 1 the pairs (A0, A1) and (A1, A2)
    give 1/2 and 1/1, mean 0.75; at d = 2 the pair (A0, A2) gives 2/2."""
    active = np.zeros((3, 1, 4), dtype=bool)
    active[0, 0, [0, 1]] = True
    active[1, 0, 0] = True
    active[2, 0, :] = True
    seq = np.zeros(3, dtype=int)
    assert sp.similarity(active, seq, 1) == pytest.approx([0.75])
    assert sp.similarity(active, seq, 2) == pytest.approx([1.0])


def test_summary_density_and_sparsity_add_to_one() -> None:
    active = np.zeros((4, 1, 10), dtype=bool)
    active[:, 0, :3] = True  # three of ten neurons on every token
    s = sp.summarize(active, np.zeros(4, dtype=int), distances=(1,))
    assert (s.density, s.sparsity) == (pytest.approx(0.3), pytest.approx(0.7))


def test_active_weight_bytes_per_token_by_hand() -> None:
    """OPT-13B at QKV density 0.5 and MLP density 0.25: 40 layers × (0.5 × 15,360 QKV neurons ×
    5,120 × 2 B + 0.25 × 20,480 MLP neurons × 2 × 5,120 × 2 B)."""
    model = io.load_model("opt_13b")
    expected = 40 * (0.5 * 15360 * 5120 * 2 + 0.25 * 20480 * 2 * 5120 * 2)
    assert sp.active_weight_bytes_per_token(model, 0.5, 0.25) == pytest.approx(expected)
