"""Hermes' lightweight activation predictor (§IV-C): a 4-bit state per neuron and a top-2 table.

The predictor
-------------
* **State table**: a saturating counter :math:`s \\in \\{0..15\\}` per neuron (4 bit). After each
  generated token: :math:`s \\leftarrow \\min(s + 4, 15)` if the neuron fired, else
  :math:`\\max(s - 1, 0)`.
* **Initialisation** from the neuron's frequency *f* over the prompt (prefill) in 16 stages. The
  paper fixes the ends (f > 90 % → 15, f < 2 % → 0); the binning chosen here splits
  [2 %, 90 %] into 14 equal bins for states 1..14:
  :math:`s_0 = 0` if :math:`f < 0.02`; 15 if :math:`f > 0.90`; else
  :math:`\\min(14, 1 + \\lfloor (f - 0.02) / (0.88 / 14) \\rfloor)`.
* **Correlation table**: each neuron's two most correlated neurons of the previous layer (φ
  coefficient of the binary masks, `sparsity.top2_parents`), chosen offline on profiling tokens
  that are never scored.
* **Rule**: neuron predicted active iff :math:`s_1 + \\lambda s_2 > T` with :math:`s_1` its state,
  :math:`s_2 \\in \\{0,1,2\\}` how many of its two correlated neurons fired at this token,
  :math:`\\lambda = 6`, :math:`T = 15`. Since :math:`s_1 \\le 15`, a neuron is predicted active only
  if at least one correlated neuron fired: the first layer (no previous layer) is not scored.
* **Hot set**: state > :math:`T_h = 10` is hot. During the projection, each newly hot neuron not on
  the GPU is copied there, overwriting the GPU-resident neuron with the lowest state (only
  non-hot residents are overwritten, so the hot set does not churn against itself).

Tables are numpy arrays over neurons; the simulation loops over tokens only.

References
----------
Hermes (HPCA 2025) §IV-C (state table, rule, λ = 6, T = 15, T_h = 10, 98 % accuracy, 232 KB for
LLaMA-7B), §III-B (MLP predictors ≈ 2 GB and 10–25 % runtime for LLaMA-7B), §V-D; Deja Vu
(ICML 2023); PowerInfer (SOSP 2024) Table 6. Values in ``data/paper/predictor.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from hermes_model import shapes, sparsity
from hermes_model.shapes import ModelSpec

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

STATE_BITS: Final = 4
"""Bits of one neuron's state (Hermes §IV-C)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictorConfig:
    """The predictor's constants (defaults: Hermes §IV-C).

    Attributes
    ----------
    step_up, step_down : int
        State change when the neuron fires / does not.
    lam, threshold : int
        λ and T of the rule :math:`s_1 + λ s_2 > T`.
    hot_threshold : int
        :math:`T_h`: state above it is hot.
    init_low, init_high : float
        Prefill frequency below which the state starts at 0, above which at 15.
    """

    step_up: int = 4
    step_down: int = 1
    lam: int = 6
    threshold: int = 15
    hot_threshold: int = 10
    init_low: float = 0.02
    init_high: float = 0.90

    def __post_init__(self) -> None:
        if not 0.0 <= self.init_low < self.init_high <= 1.0:
            raise ValueError(f"need 0 <= init_low < init_high <= 1, got {self.init_low}, "
                             f"{self.init_high}")
        if self.step_up < 0 or self.step_down < 0:
            raise ValueError("step_up and step_down must be >= 0")

    @property
    def state_max(self) -> int:
        """Largest state, :math:`2^{bits} - 1` = 15."""
        return 2**STATE_BITS - 1


def initial_states(prefill_freq: npt.ArrayLike, config: PredictorConfig = PredictorConfig()
                   ) -> npt.NDArray[np.int8]:
    """States after the prefill from each neuron's prefill frequency (16 stages, see module)."""
    f = np.asarray(prefill_freq, dtype=float)
    inner = config.state_max - 1  # states 1..14 cover [init_low, init_high]
    width = (config.init_high - config.init_low) / inner
    mid = np.minimum(inner, 1 + np.floor((f - config.init_low) / width))
    s = np.where(f < config.init_low, 0, np.where(f > config.init_high, config.state_max, mid))
    return s.astype(np.int8)


def update_states(states: npt.ArrayLike, fired: npt.ArrayLike,
                  config: PredictorConfig = PredictorConfig()) -> npt.NDArray[np.int8]:
    """One token's FSM step: +step_up if fired, −step_down if not, saturating at 0 and 15."""
    s = np.asarray(states, dtype=np.int16)
    s = s + np.where(np.asarray(fired, dtype=bool), config.step_up, -config.step_down)
    return np.clip(s, 0, config.state_max).astype(np.int8)


def predict(states: npt.ArrayLike, parents_fired: npt.ArrayLike,
            config: PredictorConfig = PredictorConfig()) -> BoolArray:
    """The rule :math:`s_1 + λ s_2 > T` (`parents_fired` = :math:`s_2` in 0..2)."""
    return (np.asarray(states, dtype=np.int16)
            + config.lam * np.asarray(parents_fired, dtype=np.int16)) > config.threshold


def correlation_table(prev: BoolArray, cur: BoolArray, *, chunk: int = 2048
                      ) -> npt.NDArray[np.intp]:
    """Top-2 φ-correlated neurons of the previous layer for each current neuron.

    Parameters
    ----------
    prev, cur : ndarray of bool, shapes (T, N_prev) and (T, N_cur)
        Profiling tokens (never the scored ones).
    chunk : int
        Current neurons per block (bounds the memory of the N_prev × chunk φ matrix).

    Returns
    -------
    ndarray of int, shape (N_cur, 2)
        Column 0 the most correlated. Same φ as `sparsity.top2_parents`, computed in blocks
        with two arg-max passes.
    """
    x = prev.astype(np.float32)
    n_tok = x.shape[0]
    mx = x.mean(axis=0)
    sx = np.sqrt(mx * (1 - mx))
    out = np.empty((cur.shape[1], 2), dtype=np.intp)
    rows = np.arange(min(chunk, cur.shape[1]))
    for i in range(0, cur.shape[1], chunk):
        y = cur[:, i:i + chunk].astype(np.float32)
        my = y.mean(axis=0)
        cov = (y.T @ x) / n_tok - np.outer(my, mx)  # (chunk, N_prev), rows contiguous
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = cov / np.outer(np.sqrt(my * (1 - my)), sx)
        phi[~np.isfinite(phi)] = -np.inf
        r = rows[:y.shape[1]]
        first = phi.argmax(axis=1)
        phi[r, first] = -np.inf
        out[i:i + chunk, 0], out[i:i + chunk, 1] = first, phi.argmax(axis=1)
    return out


# ---------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictorResult:
    """Scores of the predictor over the scored tokens and layers (1 .. L-1).

    Attributes
    ----------
    tp, fp, fn, tn : int
        Confusion counts over (token, layer, neuron).
    recall, precision, accuracy : float
        TP/(TP+FN) (share of active neurons predicted), TP/(TP+FP), (TP+TN)/all.
    trivial_accuracy : float
        Accuracy of predicting that nothing fires: the share of inactive neurons (the sparsity).
    n_tokens : int
        Scored tokens.
    gpu_hit_share, gpu_hit_share_static : float
        Share of the active neurons that were on the GPU with the online swap, and with the
        initial (offline) GPU set kept fixed.
    swaps_per_token : float
        Neurons copied into GPU memory per token, summed over the scored layers.
    """

    tp: int
    fp: int
    fn: int
    tn: int
    recall: float
    precision: float
    accuracy: float
    trivial_accuracy: float
    n_tokens: int
    gpu_hit_share: float
    gpu_hit_share_static: float
    swaps_per_token: float


def _swap(states: npt.NDArray[np.int8], gpu: BoolArray, hot_threshold: int) -> int:
    """Copy newly hot neurons onto the GPU over the lowest-state non-hot residents (in place)."""
    moved = 0
    for layer in range(states.shape[0]):
        s, g = states[layer], gpu[layer]
        hot = s > hot_threshold
        incoming = np.flatnonzero(hot & ~g)
        if incoming.size == 0:
            continue
        evictable = np.flatnonzero(g & ~hot)
        k = min(incoming.size, evictable.size)
        if k == 0:
            continue
        if k < incoming.size:
            incoming = incoming[np.argpartition(-s[incoming], k - 1)[:k]]
        if k < evictable.size:
            evictable = evictable[np.argpartition(s[evictable], k - 1)[:k]]
        g[incoming] = True
        g[evictable] = False
        moved += k
    return moved


def simulate(active: BoolArray, seq_id: npt.ArrayLike, parents: Sequence[npt.ArrayLike], *,
             prefill_tokens: int, gpu_resident: BoolArray | None = None,
             prev_active: BoolArray | None = None, scored: npt.ArrayLike | None = None,
             config: PredictorConfig = PredictorConfig()) -> PredictorResult:
    """Run the predictor over a trace, one sequence at a time.

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)
        Activation masks (the tokens of a sequence in order). Must not contain the profiling
        tokens the correlation table was built from.
    seq_id : array_like of int, shape (T,)
        Sequence of each token. In each sequence the first `prefill_tokens` tokens play the
        prefill (they initialise the states and are not scored); the rest are scored.
    parents : sequence of array_like, length L - 1
        ``parents[l - 1]``, shape (N, 2): the correlation table of layer l, indices into layer
        l - 1 of `prev_active` (or of `active` when `prev_active` is None).
    prefill_tokens : int
    gpu_resident : ndarray of bool, shape (L, N), optional
        The offline GPU set at the start of each sequence (default: none, so no swaps).
    prev_active : ndarray of bool, shape (T, L, N_prev), optional
        Full-width masks of the previous layers when `active` holds only a sample of each
        layer's neurons (see `scored`).
    scored : array_like of int, shape (L, N), optional
        Neuron indices of `active`'s columns in the full layers (documentation only).
    config : PredictorConfig

    Returns
    -------
    PredictorResult
    """
    del scored
    seq = np.asarray(seq_id)
    if active.ndim != 3 or seq.shape != (active.shape[0],):
        raise ValueError(f"active must be (T, L, N) with one seq_id per token; got "
                         f"{active.shape} and {seq.shape}")
    n_layers = active.shape[1]
    if len(parents) != n_layers - 1:
        raise ValueError(f"need {n_layers - 1} parent tables, got {len(parents)}")
    if prefill_tokens < 1:
        raise ValueError(f"prefill_tokens must be >= 1, got {prefill_tokens}")
    src = active if prev_active is None else prev_active
    par = np.stack([np.asarray(p, dtype=np.intp) for p in parents])  # (L-1, N, 2)
    lay = np.arange(n_layers - 1)[:, None, None]
    gpu0 = (np.zeros(active.shape[1:], dtype=bool) if gpu_resident is None
            else np.asarray(gpu_resident, dtype=bool))
    tp = fp = fn = tn = 0
    hits = hits_static = fired_total = moved = n_scored = 0
    for s_id in np.unique(seq):
        toks = np.flatnonzero(seq == s_id)
        if toks.size <= prefill_tokens:
            continue
        states = initial_states(active[toks[:prefill_tokens]].mean(axis=0), config)
        gpu = gpu0.copy()
        for t in toks[prefill_tokens:]:
            a = active[t]
            s2 = src[t][:-1][lay, par].sum(axis=2)  # (L-1, N) parents fired
            pred = predict(states[1:], s2, config)
            real = a[1:]
            tp += int(np.count_nonzero(pred & real))
            fp += int(np.count_nonzero(pred & ~real))
            fn += int(np.count_nonzero(~pred & real))
            tn += int(np.count_nonzero(~pred & ~real))
            hits += int(np.count_nonzero(gpu[1:] & real))
            hits_static += int(np.count_nonzero(gpu0[1:] & real))
            fired_total += int(np.count_nonzero(real))
            states = update_states(states, a, config)
            moved += _swap(states[1:], gpu[1:], config.hot_threshold)
            n_scored += 1
    total = tp + fp + fn + tn
    if total == 0:
        raise ValueError("no token was scored: sequences are not longer than prefill_tokens")
    return PredictorResult(
        tp=tp, fp=fp, fn=fn, tn=tn, recall=tp / max(tp + fn, 1),
        precision=tp / max(tp + fp, 1), accuracy=(tp + tn) / total,
        trivial_accuracy=(fp + tn) / total, n_tokens=n_scored,
        gpu_hit_share=hits / max(fired_total, 1),
        gpu_hit_share_static=hits_static / max(fired_total, 1),
        swaps_per_token=moved / n_scored)


def top_frequency_set(freq: npt.ArrayLike, share: float) -> BoolArray:
    """The `share` most frequent neurons of each layer (rows of `freq`): an offline GPU set."""
    f = np.asarray(freq, dtype=float)
    k = round(share * f.shape[1])
    out = np.zeros(f.shape, dtype=bool)
    if k > 0:
        top = np.argpartition(-f, k - 1, axis=1)[:, :k]
        np.put_along_axis(out, top, True, axis=1)
    return out


# ---------------------------------------------------------------------------------------------
# Memory and cost
# ---------------------------------------------------------------------------------------------


def predictor_neurons(model: ModelSpec) -> int:
    """Neurons the tables cover: every layer's QKV and MLP neurons (count)."""
    return model.n_layers * (shapes.qkv_neurons_per_layer(model)
                             + shapes.mlp_neurons_per_layer(model))


def state_table_bytes(n_neurons: int) -> float:
    """Bytes of the state table: 4 bit per neuron (digest §18: LLaMA-7B 236 KiB)."""
    return n_neurons * STATE_BITS / 8


def correlation_table_bytes(n_neurons: int, prev_layer_neurons: int, *,
                            index_bits: int | None = None) -> float:
    """Bytes of the correlation table: two indices into the previous layer per neuron.

    `index_bits` defaults to the fewest bits that address the previous layer,
    ``ceil(log2(prev_layer_neurons))``, packed.
    """
    bits = math.ceil(math.log2(prev_layer_neurons)) if index_bits is None else index_bits
    return n_neurons * 2 * bits / 8


def model_table_bytes(model: ModelSpec) -> tuple[float, float]:
    """State-table and correlation-table bytes of a model (QKV and MLP neurons of every layer;
    a neuron's previous layer is the whole previous FC block: QKV's is the MLP before it, the
    MLP's the QKV block)."""
    n_q, n_m = shapes.qkv_neurons_per_layer(model), shapes.mlp_neurons_per_layer(model)
    corr = model.n_layers * (correlation_table_bytes(n_q, n_m)
                             + correlation_table_bytes(n_m, n_q))
    return state_table_bytes(predictor_neurons(model)), corr


@dataclass(frozen=True, slots=True, kw_only=True)
class MlpPredictorCost:
    """A Deja Vu-style learned predictor: one low-rank MLP per layer (d_model → r → d_ffn).

    Attributes
    ----------
    parameters : int
    bytes : float
        Weights at the given dtype (bytes).
    time_s : float
        Per decoded token, reading all predictor weights once at `bandwidth_bytes_per_s` (s).
    """

    parameters: int
    bytes: float
    time_s: float


def mlp_predictor_cost(model: ModelSpec, *, rank: int, bandwidth_bytes_per_s: float,
                       dtype: str = "fp16") -> MlpPredictorCost:
    """Cost of Deja Vu-style MLP predictors for every layer's MLP neurons.

    Parameters
    ----------
    model : ModelSpec
    rank : int
        Hidden width r of each predictor (an assumption: Deja Vu and PowerInfer size it per
        model; :func:`rank_for_parameters` inverts a published size).
    bandwidth_bytes_per_s : float
        Where the predictors run (B/s): at batch 1 they are GEMVs, bound by reading the weights.
    dtype : str

    Notes
    -----
    Parameters :math:`L\\,r\\,(d_{model} + d_{ffn})` (biases ignored).
    """
    if rank <= 0 or bandwidth_bytes_per_s <= 0:
        raise ValueError(f"rank and bandwidth must be positive, got {rank}, "
                         f"{bandwidth_bytes_per_s}")
    params = model.n_layers * rank * (model.d_model + model.d_ffn)
    nbytes = params * shapes.dtype_bytes(dtype)
    return MlpPredictorCost(parameters=params, bytes=nbytes,
                            time_s=nbytes / bandwidth_bytes_per_s)


def rank_for_parameters(model: ModelSpec, parameters: float) -> float:
    """Hidden width r at which :func:`mlp_predictor_cost` has `parameters` parameters."""
    return parameters / (model.n_layers * (model.d_model + model.d_ffn))


# ---------------------------------------------------------------------------------------------
# End to end on a trace
# ---------------------------------------------------------------------------------------------


def score_trace(active: BoolArray, seq_id: npt.ArrayLike, profile: npt.ArrayLike, *,
                prefill_tokens: int, gpu_share: float = 0.2, sample: int | None = None,
                rng: np.random.Generator | None = None,
                config: PredictorConfig = PredictorConfig()) -> PredictorResult:
    """Build the tables on the profiling sequences, then score the others.

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)
    seq_id : array_like of int, shape (T,)
    profile : array_like of bool, shape (T,)
        Tokens of the profiling sequences: they choose the correlation table and the offline
        GPU set (the `gpu_share` most frequent neurons of each layer) and are never scored.
    prefill_tokens : int
        Tokens at the start of each scored sequence that initialise the states.
    gpu_share : float
        Share of each layer's neurons resident on the GPU.
    sample : int, optional
        Score a random sample of this many neurons per layer (their correlated neurons are
        still searched over the whole previous layer); needs `rng`. For LLM-size layers, where
        the full φ matrix (N × N) would not fit.
    rng : numpy.random.Generator, optional
    config : PredictorConfig
    """
    prof = np.asarray(profile, dtype=bool)
    seq = np.asarray(seq_id)
    n_layers, n = active.shape[1], active.shape[2]
    if sample is not None and sample < n:
        if rng is None:
            raise ValueError("sampling neurons needs an rng")
        cols = np.stack([np.sort(rng.choice(n, sample, replace=False)) for _ in range(n_layers)])
    else:
        cols = np.tile(np.arange(n), (n_layers, 1))
    lay = np.arange(n_layers)[:, None]
    parents = [correlation_table(active[prof, layer - 1], active[prof][:, layer, cols[layer]])
               for layer in range(1, n_layers)]
    freq = active[prof].mean(axis=0)[lay, cols]
    scored = active[~prof][:, lay, cols]
    return simulate(scored, seq[~prof], parents, prefill_tokens=prefill_tokens,
                    gpu_resident=top_frequency_set(freq, gpu_share),
                    prev_active=active[~prof] if sample is not None and sample < n else None,
                    config=config)


def profile_sequences(seq_id: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Tokens of the profiling sequences of a measured trace: every other sequence (the first,
    third, ... of the sorted sequence ids); the others are scored (`score_trace`'s `profile`).

    >>> profile_sequences([3, 3, 5, 8, 8]).tolist()
    [True, True, False, True, True]

    Parameters
    ----------
    seq_id : array_like of int, shape (T,)

    Returns
    -------
    ndarray of bool, shape (T,)
    """
    seq = np.asarray(seq_id)
    return np.isin(seq, np.unique(seq)[::2])


@dataclass(frozen=True, slots=True)
class GeneratedScore:
    """The predictor's scores on a generated trace (`score_generated`).

    Attributes
    ----------
    result : PredictorResult
    n_neurons : int
        Neurons of one generated layer (QKV and MLP groups together).
    """

    result: PredictorResult
    n_neurons: int


def score_generated(targets: sparsity.ModelTargets, n_sequences: int, rng: np.random.Generator,
                    *, prefill_tokens: int, gpu_share: float = 0.2,
                    sample: int | None = None) -> GeneratedScore:
    """Generate three layers of a model's neurons and score the predictor on them.

    The first third of the `n_sequences` generated sequences (at least one) profile, the others
    are scored.

    Parameters
    ----------
    targets : sparsity.ModelTargets
        The generator's targets (`sparsity.model_targets`).
    n_sequences : int
        Generated sequences (`sparsity.SEQUENCE_TOKENS` tokens each), count.
    rng : numpy.random.Generator
        Draws the trace model, the trace and the sample, in that order.
    prefill_tokens, gpu_share, sample
        As `score_trace` takes them (`sample`: scored neurons per layer; all where None).
    """
    trace_model = sparsity.build_trace_model(targets.groups, 3, targets.coupled_share, rng)
    trace = sparsity.generate_trace(trace_model, n_sequences, rng)
    n_profile = max(1, n_sequences // 3)
    result = score_trace(trace.active, trace.seq_id, trace.seq_id < n_profile,
                         prefill_tokens=prefill_tokens, gpu_share=gpu_share, sample=sample,
                         rng=rng)
    return GeneratedScore(result, int(trace.active.shape[2]))
