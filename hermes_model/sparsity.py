"""Activation sparsity: statistics of activation traces and a calibrated trace generator.

Definitions (issue 6; the names are used everywhere in the package and the book):

* **density** of a layer on a token: the share of its neurons that are active; **sparsity** is
  ``1 - density``.
* **hot share for 80 %**: the smallest share of a layer's neurons (most frequent first) that
  accounts for 80 % of its activations, averaged over layers. A population statistic: measure it
  over many independent sequences (at least 32).
* a **sequence** is :data:`SEQUENCE_TOKENS` = 128 tokens, the paper's generation length.
* **similarity at distance d**: the mean over tokens t and layers of
  ``|A_t ∩ A_{t+d}| / |A_t|`` (t and t + d in one sequence), A_t the set of active neurons.
  The **memoryless baseline** is the same quantity for independent tokens with the same
  per-neuron frequencies p: ``Σ p² / Σ p`` per layer.
* **layer correlation**: for each neuron, its top-2 φ-correlated neurons of the previous layer
  (chosen on training tokens) and ``P(active | both active)`` on held-out tokens.

The generator (:func:`build_trace_model`, :func:`generate_trace`) has three parts, each solved
from targets, never fitted by hand:

1. **Frequencies**: per layer, logit-normal frequencies on a deterministic quantile grid,
   ``p_i = expit(μ + σ Φ⁻¹((i + ½)/N))``; μ and σ are solved so that the mean is the target
   density and the hot share for 80 % is the target (exact to one neuron, :func:`fit_frequencies`).
2. **Persistence**: in each sequence a neuron is *engaged* with probability p (then its
   within-sequence rate is ``p + √c (1 - p)``) or not (rate ``p (1 - √c)``): the rate has mean p
   and variance ``c p (1 - p)``. Within the sequence the neuron is a two-state Markov chain with
   that stationary rate and lag-1 autocorrelation ρ (ρ per neuron, one of two timescales).
   The expected similarity curve is then (:func:`similarity_curve`)

   ``S(d) = S∞ + (1 - S∞) [π ρ_f^d + (1 - π) ρ_s^d]``,  ``S∞ = (Σp² + c Σp(1-p)) / Σp``,

   so c follows in closed form from the far-distance level S∞, and (S∞, π, ρ_f, ρ_s) are
   solved from the target curve (:func:`fit_persistence`).
3. **Layer coupling**: a share β of each layer's neurons (all but the first layer) is *coupled*
   to two parents of the previous layer with about its own frequency p (rank matched): the
   coupled neuron's uniform random numbers are ``max(u_a, u_b)²`` of its parents' (still
   uniform, so its own marginal process is exactly as above), so it switches on when both
   parents are pushed on.

The per-token random numbers are 16-bit (thresholds quantised to 1/65536); the per-sequence
draws and the coupled neurons' ``max(u_a, u_b)²`` are float64. No Python loop runs over neurons
(the loops are over layers and tokens).

References
----------
Hermes (HPCA 2025) §III-B, Fig. 4a/4b; PowerInfer (arXiv 2312.12456) §3 for the hot share;
``data/paper/sparsity_published.csv`` and ``data/activations/`` for the values.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq, least_squares
from scipy.special import expit, ndtri

if TYPE_CHECKING:
    import pandas as pd

SEQUENCE_TOKENS: Final = 128
"""Tokens per sequence (the paper's generation length, §V-A)."""

HOT_ACTIVATION_SHARE: Final = 0.8
"""Share of a layer's activations that the hot share counts neurons for (PowerInfer's 80 %)."""

DISTANCES: Final = (1, 5, 10, 25)
"""Token distances at which the chapters and the CLI report similarity."""

MIN_SEQUENCES_FOR_POPULATION: Final = 32
"""Fewest independent sequences over which a population statistic (hot share) is measured."""

_U16: Final = 65536
_MAX_SEQUENCE_BATCH: Final = 8
_MAX_CHILDREN: Final = 4096  # coupled neurons per layer that summaries evaluate (a sample)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# ---------------------------------------------------------------------------------------------
# Statistics of traces
# ---------------------------------------------------------------------------------------------


def hot_share(frequencies: npt.ArrayLike, share: float = HOT_ACTIVATION_SHARE) -> FloatArray:
    """Smallest share of neurons, most frequent first, that carries `share` of the activations.

    Parameters
    ----------
    frequencies : array_like, shape (..., N)
        Per-neuron activation frequencies (or counts) of one layer per row.
    share : float, default 0.8
        Share of the activations to account for.

    Returns
    -------
    ndarray, shape (...)
        Hot share per row (fraction of N); nan for a row without activations.
    """
    f = np.sort(np.asarray(frequencies, dtype=np.float64), axis=-1)[..., ::-1]
    csum = np.cumsum(f, axis=-1)
    total = csum[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.sum(csum / total < share - 1e-12, axis=-1) + 1
        out = k / f.shape[-1]
    return np.where(total[..., 0] > 0, out, np.nan)


def memoryless_similarity(frequencies: npt.ArrayLike) -> FloatArray:
    """Similarity of independent tokens with the given per-neuron frequencies, ``Σp² / Σp``.

    Parameters
    ----------
    frequencies : array_like, shape (..., N)

    Returns
    -------
    ndarray, shape (...)
    """
    p = np.asarray(frequencies, dtype=np.float64)
    return np.sum(p * p, axis=-1) / np.sum(p, axis=-1)


def density(active: BoolArray) -> FloatArray:
    """Mean density per layer: the share of a layer's neurons active on a token, over tokens.

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)

    Returns
    -------
    ndarray, shape (L,)
    """
    return _count(active, (0, 2)) / (active.shape[0] * active.shape[2])


def neuron_frequencies(active: BoolArray) -> FloatArray:
    """Per-neuron activation frequency over the tokens of a trace, shape (L, N)."""
    return _count(active, 0) / active.shape[0]


def _count(x: BoolArray, axis: int | tuple[int, ...]) -> npt.NDArray[np.int64]:
    """Number of True values along `axis` (a uint8 sum: faster than ``count_nonzero``)."""
    return x.view(np.uint8).sum(axis=axis, dtype=np.int64)


def _similarity_sums(active: BoolArray, seq_id: npt.NDArray[np.integer], d: int
                     ) -> tuple[FloatArray, int]:
    """Sum over valid token pairs of |A_t ∩ A_t+d| / |A_t| per layer, and the pair count."""
    same = seq_id[:-d] == seq_id[d:]
    idx = np.flatnonzero(same)
    sums = np.zeros(active.shape[1])
    count = np.zeros(active.shape[1], dtype=np.int64)
    for start in range(0, idx.size, 512):  # chunks bound the temporary arrays
        i = idx[start:start + 512]
        a, b = active[i], active[i + d]
        na = _count(a, -1)
        inter = _count(a & b, -1)
        ok = na > 0
        sums += np.sum(np.where(ok, inter / np.maximum(na, 1), 0.0), axis=0)
        count += np.sum(ok, axis=0)
    return sums, count


def similarity(active: BoolArray, seq_id: npt.ArrayLike, d: int) -> FloatArray:
    """Similarity at distance `d` per layer: mean of ``|A_t ∩ A_{t+d}| / |A_t|``.

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)
        Tokens in order; tokens of one sequence are consecutive.
    seq_id : array_like of int, shape (T,)
        Sequence of each token; pairs across sequences are skipped, and so are tokens with no
        active neuron.
    d : int
        Token distance (≥ 1).

    Returns
    -------
    ndarray, shape (L,)
        nan for a layer without a valid pair.
    """
    if d < 1:
        raise ValueError(f"distance must be >= 1, got {d}")
    sums, count = _similarity_sums(active, np.asarray(seq_id), d)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / count


@dataclass(frozen=True)
class LayerCorrelation:
    """Top-2 layer correlation of one layer pair.

    Attributes
    ----------
    p_active_given_top2 : float
        Mean over evaluated neurons of ``P(active | both top-2 parents active)`` on test tokens.
    p_active_unconditional : float
        Mean unconditional frequency of the same neurons on test tokens.
    n_neurons : int
        Neurons evaluated (those whose parents were both active on ≥ `min_events` test tokens).
    """

    p_active_given_top2: float
    p_active_unconditional: float
    n_neurons: int


def top2_parents(prev: BoolArray, cur: BoolArray) -> npt.NDArray[np.intp]:
    """Each current neuron's two most φ-correlated neurons of the previous layer.

    Parameters
    ----------
    prev, cur : ndarray of bool, shape (T, N_prev) and (T, N_cur)

    Returns
    -------
    ndarray of int, shape (2, N_cur)
    """
    x = prev.astype(np.float32)
    y = cur.astype(np.float32)
    n = x.shape[0]
    mx, my = x.mean(0), y.mean(0)
    cov = (x.T @ y) / n - np.outer(mx, my)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = cov / np.outer(np.sqrt(mx * (1 - mx)), np.sqrt(my * (1 - my)))
    phi[~np.isfinite(phi)] = -np.inf
    top = np.argpartition(-phi, 1, axis=0)[:2]
    # order the two by φ so that row 0 is the most correlated
    swap = np.take_along_axis(phi, top[1:2], 0)[0] > np.take_along_axis(phi, top[:1], 0)[0]
    return np.where(swap, top[::-1], top)


def layer_correlation(prev: BoolArray, cur: BoolArray, train: npt.ArrayLike,
                      min_events: int = 20) -> LayerCorrelation:
    """Top-2 parents chosen on `train` tokens; ``P(active | both active)`` on the others.

    Parameters
    ----------
    prev, cur : ndarray of bool, shape (T, N_prev) and (T, N_cur)
        One layer pair of a trace (``cur`` may be a subset of a layer's neurons).
    train : array_like of bool, shape (T,)
        Tokens used to choose the parents; the rest are the test tokens.
    min_events : int, default 20
        Test tokens on which both parents must be active for a neuron to count.

    Returns
    -------
    LayerCorrelation
    """
    train = np.asarray(train, dtype=bool)
    parents = top2_parents(prev[train], cur[train])
    xp, yc = prev[~train], cur[~train]
    both = xp[:, parents[0]] & xp[:, parents[1]]
    nb = np.count_nonzero(both, axis=0)
    hit = np.count_nonzero(both & yc, axis=0)
    valid = (nb >= min_events) & (cur[train].any(axis=0))
    if not valid.any():
        return LayerCorrelation(np.nan, np.nan, 0)
    return LayerCorrelation(float(np.mean(hit[valid] / nb[valid])),
                            float(np.mean(yc[:, valid].mean(0))), int(valid.sum()))


# ---------------------------------------------------------------------------------------------
# Frequencies: a logit-normal family fitted to density and hot share
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyFit:
    """Logit-normal frequency family of one neuron group, solved from two targets.

    Attributes
    ----------
    n_neurons : int
    logit_mean, logit_std : float
        μ and σ of ``logit(p)`` (σ is the skew: larger σ, fewer neurons carry the work).
    density : float
        Mean frequency achieved on the quantile grid (equals the target to 1e-9).
    hot_share_80 : float
        Hot share for 80 % achieved on the grid (equals the target to one neuron).
    """

    n_neurons: int
    logit_mean: float
    logit_std: float
    density: float
    hot_share_80: float


def logit_normal_frequencies(n_neurons: int, logit_mean: float, logit_std: float) -> FloatArray:
    """Frequencies ``expit(μ + σ Φ⁻¹((i + ½)/N))``, i = 0..N-1 (ascending), shape (N,)."""
    z = ndtri((np.arange(n_neurons) + 0.5) / n_neurons)
    return expit(logit_mean + logit_std * z)


def _mean_for_std(n_neurons: int, target_density: float, logit_std: float) -> float:
    """μ whose frequencies have mean `target_density` (Newton's method: the mean is increasing
    and its derivative is mean(p (1 - p)); bisection takes over if a step leaves the bracket)."""
    z = logit_std * ndtri((np.arange(n_neurons) + 0.5) / n_neurons)
    lo, hi = -40.0, 40.0
    mu = float(np.log(target_density / (1 - target_density)))
    for _ in range(100):
        p = expit(mu + z)
        gap = float(p.mean()) - target_density
        if abs(gap) < 1e-13:
            break
        if gap > 0:
            hi = mu
        else:
            lo = mu
        slope = float(np.mean(p * (1 - p)))
        step = mu - gap / slope if slope > 0 else 0.5 * (lo + hi)
        mu = step if lo < step < hi else 0.5 * (lo + hi)
    return mu


def fit_frequencies(n_neurons: int, density: float, hot_share_80: float) -> FrequencyFit:
    """Solve the logit-normal family for a target density and hot share for 80 %.

    Parameters
    ----------
    n_neurons : int
        Neurons in the group (per layer).
    density : float
        Target mean frequency, in (0, 1).
    hot_share_80 : float
        Target hot share for 80 %; must lie between the most skewed value reachable
        (about ``0.8 × density``) and 0.8 (all neurons equally frequent).

    Returns
    -------
    FrequencyFit

    Notes
    -----
    For a fixed σ, μ is solved so that the mean is `density`; the hot share then falls
    monotonically with σ, and σ is solved by bisection.
    """
    if not 0.0 < density < 1.0:
        raise ValueError(f"density must be in (0, 1), got {density}")
    if n_neurons < 16:
        raise ValueError(f"need at least 16 neurons, got {n_neurons}")

    def share_at(s: float) -> float:
        p = logit_normal_frequencies(n_neurons, _mean_for_std(n_neurons, density, s), s)
        return float(hot_share(p)) - hot_share_80

    lo, hi = 1e-3, 12.0
    if not share_at(hi) < 0.0 < share_at(lo):
        raise ValueError(f"hot share {hot_share_80} is not reachable at density {density} "
                         f"with {n_neurons} neurons")
    sigma = brentq(share_at, lo, hi, xtol=1e-6)
    mu = _mean_for_std(n_neurons, density, sigma)
    p = logit_normal_frequencies(n_neurons, mu, sigma)
    return FrequencyFit(n_neurons, mu, sigma, float(p.mean()), float(hot_share(p)))


def trace_size_phrase(n_tokens: int, n_sequences: int) -> str:
    """``"32 sequences"``, saying how `n_tokens` was rounded up where the trace is longer.

    A trace is whole `SEQUENCE_TOKENS`-token sequences, at least
    `MIN_SEQUENCES_FOR_POPULATION` of them.
    """
    tokens = n_sequences * SEQUENCE_TOKENS
    if tokens == n_tokens:
        return f"{n_sequences} sequences"
    why = []
    if n_tokens % SEQUENCE_TOKENS:
        why.append(f"whole {SEQUENCE_TOKENS}-token sequences")
    if -(-n_tokens // SEQUENCE_TOKENS) < MIN_SEQUENCES_FOR_POPULATION:
        why.append(f"the minimum of {MIN_SEQUENCES_FOR_POPULATION} sequences")
    return (f"{n_sequences} sequences ({tokens:,} tokens: the {n_tokens:,} asked for, rounded up "
            f"to {' and to '.join(why)})")


def headline_fit(n_neurons: int, density: float,
                 hot_share_80: float = 0.20) -> tuple[FrequencyFit | None, str]:
    """The skew the paper's "20 % of the neurons carry 80 %" needs at `density`, and a phrase.

    Returns the fit and ``"that is a skew of σ = 2.34 at the same density"``; or, where no skew
    reaches it (the hottest share ``h`` of the neurons carries at most ``h / density`` of the
    activations even if they fire on every token), ``None`` and a phrase that says so.
    """
    try:
        fit = fit_frequencies(n_neurons, density, hot_share_80)
    except ValueError:
        top = min(1.0, hot_share_80 / density)
        return None, (f"which no skew reaches at a density of {density:.2f}: even neurons that "
                      f"fire on every token would leave the hottest {100 * hot_share_80:.0f} % "
                      f"with at most {100 * top:.0f} % of the activations")
    return fit, f"that is a skew of σ = {float(f'{fit.logit_std:.4g}'):.2f} at the same density"


# ---------------------------------------------------------------------------------------------
# Persistence: the similarity curve
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persistence:
    """Similarity-curve parameters: ``S(d) = S∞ + (1 - S∞)[π ρ_f^d + (1 - π) ρ_s^d]``.

    Attributes
    ----------
    stationary : float
        S∞, the similarity between far-apart tokens of one sequence (≥ the memoryless value).
    fast_share : float
        π, the share of neurons on the fast timescale.
    fast_rho, slow_rho : float
        Lag-1 autocorrelation of the fast and slow neurons' within-sequence chains.
    """

    stationary: float
    fast_share: float
    fast_rho: float
    slow_rho: float


def similarity_curve(persistence: Persistence, distances: npt.ArrayLike) -> FloatArray:
    """Expected similarity at each distance (d ≥ 0; S(0) = 1)."""
    d = np.asarray(distances, dtype=np.float64)
    p = persistence
    decay = p.fast_share * p.fast_rho**d + (1 - p.fast_share) * p.slow_rho**d
    return p.stationary + (1 - p.stationary) * decay


def fit_persistence(distances: Sequence[int], values: Sequence[float], memoryless: float,
                    timescales: int = 1) -> Persistence:
    """Solve the persistence parameters from a target similarity curve.

    Parameters
    ----------
    distances, values : sequence
        Target similarity at each distance (at least two points, distances increasing).
    memoryless : float
        The memoryless baseline of the same frequencies; S∞ is kept at or above it (with a
        ``UserWarning`` when the last target lies below it: it cannot be met).
    timescales : {1, 2}
        1: one timescale, solved *exactly* through the first and the last point (the paper's
        adjacent-token value and its far plateau); points in between are predictions.
        2: two timescales, least squares over all points (for measured curves).

    Returns
    -------
    Persistence
    """
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(values, dtype=np.float64)
    if d.size < 2 or np.any(np.diff(d) <= 0) or d[0] < 1:
        raise ValueError("need at least two increasing distances >= 1")
    if np.any((s <= 0) | (s >= 1)):
        raise ValueError("similarities must lie in (0, 1)")
    if timescales == 1:
        d1, dn, s1, sn = d[0], d[-1], s[0], s[-1]
        if sn < memoryless:  # no generator of these frequencies goes below independent tokens
            warnings.warn(f"similarity {sn:g} asked at distance {dn:g} is below the memoryless "
                          f"baseline {memoryless:.3f} of these frequencies (independent tokens); "
                          f"the curve is kept at the baseline there, and the far similarity "
                          f"will read higher than asked", UserWarning, stacklevel=2)
        if sn >= s1:  # flat curve: no within-sequence memory
            return Persistence(max(float(sn), memoryless), 0.0, 0.0, 0.0)

        def gap(r: float) -> float:
            stat = (sn - r**dn) / (1 - r**dn)
            return stat + (1 - stat) * r**d1 - s1

        rho = brentq(gap, 1e-9, 1 - 1e-9, xtol=1e-12)
        stat = (sn - rho**dn) / (1 - rho**dn)
        if stat < memoryless:
            stat = memoryless
            rho = ((s1 - stat) / (1 - stat)) ** (1 / d1)
        return Persistence(float(stat), 0.0, 0.0, float(rho))
    if timescales != 2:
        raise ValueError(f"timescales must be 1 or 2, got {timescales}")

    def resid(x: FloatArray) -> FloatArray:
        return similarity_curve(Persistence(*x), d) - s

    best = None
    for start in ([s[-1] * 0.98, 0.8, 0.05, 0.9], [s[-1] * 0.95, 0.5, 0.3, 0.95],
                  [max(memoryless, s[-1] - 0.05), 0.9, 0.1, 0.8]):
        lo = [memoryless, 0.0, 0.0, 0.0]
        x0 = np.clip(start, np.add(lo, 1e-6), 1 - 1e-6)
        res = least_squares(resid, x0, bounds=(lo, [1.0, 1.0, 1.0, 1.0]))
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    return Persistence(*(float(v) for v in best.x))


def sequence_share(frequencies: npt.ArrayLike, stationary: float) -> float:
    """c: the share of each neuron's variance ``p(1-p)`` fixed per sequence, from S∞.

    Solves ``S∞ = (Σp² + c Σp(1-p)) / Σp`` for c, clipped to [0, 1].
    """
    p = np.asarray(frequencies, dtype=np.float64)
    c = (stationary * p.sum() - np.sum(p * p)) / np.sum(p * (1 - p))
    return float(np.clip(c, 0.0, 1.0))


# ---------------------------------------------------------------------------------------------
# Targets and the trace model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupTargets:
    """Targets of one neuron group (e.g. a layer's MLP or QKV neurons).

    Attributes
    ----------
    name : str
        ``"mlp"``, ``"qkv"`` or any label.
    n_neurons : int
        Neurons of the group per layer.
    density, hot_share_80 : float or tuple of float
        One value for all layers, or one per layer.
    similarity_distances, similarity : tuple
        Target similarity curve (shared by all layers, or one tuple of values per layer).
    timescales : int
        1 or 2, see :func:`fit_persistence`.
    """

    name: str
    n_neurons: int
    density: float | tuple[float, ...]
    hot_share_80: float | tuple[float, ...]
    similarity_distances: tuple[int, ...]
    similarity: tuple[float, ...] | tuple[tuple[float, ...], ...]
    timescales: int = 1


@dataclass(frozen=True, eq=False)
class TraceModel:
    """A fitted generator: everything :func:`generate_trace` needs (arrays are read-only).

    Attributes
    ----------
    frequencies : ndarray, shape (L, N)
        Stationary frequency p of every neuron (groups side by side along N).
    sequence_share : ndarray, shape (L, N)
        c of every neuron (its group's value).
    rho : ndarray, shape (L, N)
        Lag-1 autocorrelation of every neuron's within-sequence chain.
    order : ndarray of int, shape (L, N)
        Generation order: position k of a layer is generated for neuron ``order[l, k]``. The
        last ``n_coupled`` positions are the coupled neurons; the parents of position k are
        positions ``k - (N - n_coupled)`` and k of the previous layer.
    n_coupled : int
        Coupled neurons per layer (layers ≥ 1), ``round(β N)``, at most N/2.
    groups : tuple of (str, int, int)
        Name, first and one-past-last neuron index of each group.
    persistence : tuple of tuple of Persistence
        Fitted persistence per group and layer.
    frequency_fits : tuple of tuple of FrequencyFit
        Fitted frequency family per group and layer.
    coupled_share : float
        β, the share of neurons coupled to two parents (layers ≥ 1).
    """

    frequencies: FloatArray
    sequence_share: FloatArray
    rho: FloatArray
    order: npt.NDArray[np.intp]
    n_coupled: int
    groups: tuple[tuple[str, int, int], ...]
    persistence: tuple[tuple[Persistence, ...], ...]
    frequency_fits: tuple[tuple[FrequencyFit, ...], ...]
    coupled_share: float

    @property
    def n_layers(self) -> int:
        return int(self.frequencies.shape[0])

    @property
    def n_neurons(self) -> int:
        return int(self.frequencies.shape[1])

    def group_slice(self, name: str) -> slice:
        """Neuron slice of the group called `name`."""
        for g, lo, hi in self.groups:
            if g == name:
                return slice(lo, hi)
        raise ValueError(f"no neuron group {name!r}; groups: {[g[0] for g in self.groups]}")

    def parents(self, layer: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Coupled neurons of `layer` and their two parents in layer - 1 (neuron indices).

        Returns
        -------
        children : ndarray of int, shape (n_coupled,)
        parents : ndarray of int, shape (n_coupled, 2)
        """
        if layer < 1 or layer >= self.n_layers:
            raise ValueError(f"layer must be in [1, {self.n_layers - 1}], got {layer}")
        n, c = self.n_neurons, self.n_coupled
        pos = np.arange(n - c, n)
        prev = self.order[layer - 1]
        return self.order[layer, pos], np.stack([prev[pos - (n - c)], prev[pos]], axis=1)


def _per_layer(value: Any, n_layers: int, what: str) -> list[Any]:
    nested = isinstance(value, (tuple, list)) and value and isinstance(value[0], (tuple, list))
    per_layer = nested or (isinstance(value, (tuple, list)) and what != "similarity")
    if not per_layer:
        return [value] * n_layers
    if len(value) != n_layers:
        raise ValueError(f"{what}: {len(value)} per-layer values for {n_layers} layers")
    return list(value)


def _rank_match(freq: FloatArray, positions: npt.NDArray[np.intp], order: npt.NDArray[np.intp],
                reference: FloatArray) -> None:
    """Reassign the neurons at `positions` of `order` so their frequencies follow `reference`'s
    rank order (in place)."""
    neurons = order[positions]
    by_freq = neurons[np.argsort(freq[neurons], kind="stable")]
    order[positions[np.argsort(reference, kind="stable")]] = by_freq


def build_trace_model(groups: Sequence[GroupTargets], n_layers: int, coupled_share: float,
                      rng: np.random.Generator) -> TraceModel:
    """Fit the generator to per-group targets.

    Parameters
    ----------
    groups : sequence of GroupTargets
        Neuron groups of every layer (e.g. QKV then MLP); each has its own targets.
    n_layers : int
    coupled_share : float
        β in [0, 0.5]: share of each layer's neurons (layers ≥ 1) coupled to two parents.
    rng : numpy.random.Generator
        Draws the neuron order, timescale classes and the coupled neurons.

    Returns
    -------
    TraceModel

    Notes
    -----
    A coupled neuron's two parents have about its own frequency (rank matched), so when both
    parents are engaged in a sequence, so is the child. Neuron indices are a random
    permutation of the generation order, so they carry no structure.
    """
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers}")
    if not 0.0 <= coupled_share <= 0.5:
        raise ValueError(f"coupled_share must be in [0, 0.5], got {coupled_share}")
    n_total = sum(g.n_neurons for g in groups)
    freq = np.empty((n_layers, n_total))
    share = np.empty((n_layers, n_total))
    rho = np.empty((n_layers, n_total))
    spans, pers_all, fits_all = [], [], []
    lo = 0
    for g in groups:
        hi = lo + g.n_neurons
        spans.append((g.name, lo, hi))
        dens = _per_layer(g.density, n_layers, "density")
        hots = _per_layer(g.hot_share_80, n_layers, "hot_share_80")
        sims = _per_layer(g.similarity, n_layers, "similarity")
        cache: dict[tuple[float, float], FrequencyFit] = {}
        pers_g, fits_g = [], []
        for layer in range(n_layers):
            key = (float(dens[layer]), float(hots[layer]))
            if key not in cache:
                cache[key] = fit_frequencies(g.n_neurons, *key)
            fit = cache[key]
            p = logit_normal_frequencies(g.n_neurons, fit.logit_mean, fit.logit_std)
            pers = fit_persistence(g.similarity_distances, sims[layer],
                                   float(memoryless_similarity(p)), g.timescales)
            freq[layer, lo:hi] = p[rng.permutation(g.n_neurons)]
            share[layer, lo:hi] = sequence_share(p, pers.stationary)
            fast = rng.random(g.n_neurons) < pers.fast_share
            rho[layer, lo:hi] = np.where(fast, pers.fast_rho, pers.slow_rho)
            pers_g.append(pers)
            fits_g.append(fit)
        pers_all.append(tuple(pers_g))
        fits_all.append(tuple(fits_g))
        lo = hi
    n_c = round(coupled_share * n_total)
    order = np.stack([rng.permutation(n_total) for _ in range(n_layers)]).astype(np.intp)
    if n_c:
        block_a = np.arange(n_c)
        block_c = np.arange(n_total - n_c, n_total)
        for layer in range(1, n_layers):
            ref = freq[layer - 1, order[layer - 1, block_c]]
            _rank_match(freq[layer - 1], block_a, order[layer - 1], ref)
            _rank_match(freq[layer], block_c, order[layer], ref)
    for arr in (freq, share, rho, order):
        arr.setflags(write=False)
    return TraceModel(freq, share, rho, order, n_c, tuple(spans), tuple(pers_all),
                      tuple(fits_all), float(coupled_share))


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Trace:
    """A generated activation trace.

    Attributes
    ----------
    active : ndarray of bool, shape (T, L, N)
        Active neurons, tokens of one sequence consecutive.
    seq_id : ndarray of int, shape (T,)
        Sequence of each token.
    """

    active: BoolArray
    seq_id: npt.NDArray[np.int64]


def _thresholds(q: FloatArray, r: FloatArray) -> tuple[npt.NDArray[np.uint16], ...]:
    """16-bit thresholds: initial state (q), stay on (q + (1-q)ρ), switch on (q(1-ρ))."""
    def u16(x: FloatArray) -> npt.NDArray[np.uint16]:
        return np.minimum(np.rint(x * _U16), _U16 - 1).astype(np.uint16)
    return u16(q), u16(q + (1 - q) * r), u16(q * (1 - r))


def _uniform16(rng: np.random.Generator, shape: tuple[int, ...]) -> npt.NDArray[np.uint16]:
    """Uniform 16-bit integers: the generator's raw 64-bit words cut in four (fast)."""
    size = int(np.prod(shape))
    raw = rng.bit_generator.random_raw(-(-size // 4))
    return np.asarray(raw).view(np.uint16)[:size].reshape(shape)


def _generate_batch(model: TraceModel, n_seq: int, n_tok: int, rng: np.random.Generator,
                    out: BoolArray) -> None:
    """Fill ``out`` (n_seq, n_tok, L, N) with independent sequences."""
    n_layers, n, n_c = model.n_layers, model.n_neurons, model.n_coupled
    thr = np.empty((n_seq, n), dtype=np.uint16)
    buf = np.empty((n_tok, n_seq, n_c), dtype=np.uint32)
    states = np.empty((n_tok, n_seq, n), dtype=bool)
    inverse = np.argsort(model.order, axis=1)
    u_prev = v_prev = None
    for layer in range(n_layers):
        order = model.order[layer]
        u = _uniform16(rng, (n_tok, n_seq, n))
        v = rng.random((n_seq, n))
        coupled = n_c > 0 and u_prev is not None and v_prev is not None
        if coupled:
            assert v_prev is not None
            v[:, n - n_c:] = np.maximum(v_prev[:, :n_c], v_prev[:, n - n_c:]) ** 2
        p = model.frequencies[layer, order]
        root = np.sqrt(model.sequence_share[layer, order])
        q = np.where(v < p, p + root * (1 - p), p * (1 - root))
        q_init, stay_on, switch_on = _thresholds(q, model.rho[layer, order])
        gap = stay_on - switch_on  # >= 0 since ρ >= 0
        if coupled:
            assert u_prev is not None
            np.maximum(u_prev[:, :, :n_c], u_prev[:, :, n - n_c:], out=buf)
            np.multiply(buf, buf, out=buf)
            np.right_shift(buf, 16, out=buf)
            u[:, :, n - n_c:] = buf
        for t in range(n_tok):
            ut = u[t]
            if t == 0:
                np.less(ut, q_init, out=states[0])
            else:
                np.multiply(states[t - 1], gap, out=thr)
                np.add(thr, switch_on, out=thr)
                np.less(ut, thr, out=states[t])
        # back from generation order to neuron order
        out[:, :, layer, :] = np.take(states, inverse[layer], axis=2).transpose(1, 0, 2)
        u_prev, v_prev = u, v


def generate_trace(model: TraceModel, n_sequences: int, rng: np.random.Generator,
                   tokens_per_sequence: int | Sequence[int] = SEQUENCE_TOKENS) -> Trace:
    """Draw independent sequences of activation masks from a fitted model.

    Parameters
    ----------
    model : TraceModel
    n_sequences : int
    rng : numpy.random.Generator
    tokens_per_sequence : int or sequence of int, default 128
        Length of every sequence, or one length per sequence (sequences are drawn at the
        longest length and cut, so a shorter one is a prefix of a stationary sequence).

    Returns
    -------
    Trace
        ``active`` of shape (total tokens, L, N).
    """
    lengths = np.broadcast_to(np.asarray(tokens_per_sequence, dtype=np.int64), (n_sequences,))
    if n_sequences < 1 or np.any(lengths < 1):
        raise ValueError("need at least one sequence of at least one token")
    n_tok = int(lengths.max())
    full = np.empty((n_sequences, n_tok, model.n_layers, model.n_neurons), dtype=bool)
    for start in range(0, n_sequences, _MAX_SEQUENCE_BATCH):
        stop = min(start + _MAX_SEQUENCE_BATCH, n_sequences)
        _generate_batch(model, stop - start, n_tok, rng, full[start:stop])
    seq_id = np.repeat(np.arange(n_sequences), n_tok)
    active = full.reshape(n_sequences * n_tok, model.n_layers, model.n_neurons)
    if np.all(lengths == n_tok):
        return Trace(active, seq_id)
    keep = (np.arange(n_tok)[None, :] < lengths[:, None]).reshape(-1)
    return Trace(active[keep], seq_id[keep])


# ---------------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceSummary:
    """Layer-averaged statistics of a trace (one neuron group).

    Attributes
    ----------
    density, sparsity, hot_share_80, memoryless_similarity : float
    similarity : Mapping[int, float]
        Similarity at each distance.
    n_sequences, n_tokens : int
    p_active_given_parents : float
        Mean over coupled neurons (with ≥ 20 events) of ``P(active | both parents active)``,
        the generator's own top-2 table; nan when not computed.
    """

    density: float
    sparsity: float
    hot_share_80: float
    memoryless_similarity: float
    similarity: Mapping[int, float]
    n_sequences: int
    n_tokens: int
    p_active_given_parents: float = float("nan")


def summarize(active: BoolArray, seq_id: npt.ArrayLike,
              distances: Sequence[int] = DISTANCES) -> TraceSummary:
    """Layer-averaged density, hot share, memoryless baseline and similarity of a trace.

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)
    seq_id : array_like of int, shape (T,)
    distances : sequence of int

    Returns
    -------
    TraceSummary
    """
    seq_id = np.asarray(seq_id)
    freq = neuron_frequencies(active)
    dens = float(np.mean(density(active)))
    return TraceSummary(
        density=dens, sparsity=1.0 - dens,
        hot_share_80=float(np.nanmean(hot_share(freq))),
        memoryless_similarity=float(np.nanmean(memoryless_similarity(freq))),
        similarity={int(d): float(np.nanmean(similarity(active, seq_id, d))) for d in distances},
        n_sequences=int(np.unique(seq_id).size), n_tokens=int(active.shape[0]))


def summarize_generated(model: TraceModel, n_sequences: int, rng: np.random.Generator,
                        group: str | None = None, distances: Sequence[int] = DISTANCES,
                        chunk_sequences: int = 16) -> TraceSummary:
    """Generate `n_sequences` sequences chunk by chunk and summarise them (bounded memory).

    Parameters
    ----------
    model : TraceModel
    n_sequences : int
    rng : numpy.random.Generator
    group : str, optional
        Summarise only this neuron group (default: all neurons).
    distances : sequence of int
    chunk_sequences : int, default 16
        Sequences generated at a time.

    Returns
    -------
    TraceSummary
        Same definitions as :func:`summarize` on the whole trace.
    """
    cols = model.group_slice(group) if group is not None else slice(None)
    n = len(range(model.n_neurons)[cols])
    counts = np.zeros((model.n_layers, n), dtype=np.int64)
    dens_sum = 0.0
    n_tok = 0
    sim_sum = {d: np.zeros(model.n_layers) for d in distances}
    sim_cnt = {d: np.zeros(model.n_layers, dtype=np.int64) for d in distances}
    links = [model.parents(layer) for layer in range(1, model.n_layers)] if model.n_coupled else []
    links = [(child[:_MAX_CHILDREN], par[:_MAX_CHILDREN]) for child, par in links]
    both_n = np.zeros((len(links), min(model.n_coupled, _MAX_CHILDREN)), dtype=np.int64)
    both_hit = np.zeros_like(both_n)
    for start in range(0, n_sequences, chunk_sequences):
        k = min(chunk_sequences, n_sequences - start)
        tr = generate_trace(model, k, rng)
        for i, (child, par) in enumerate(links):
            prev, cur = tr.active[:, i], tr.active[:, i + 1]
            both = prev[:, par[:, 0]] & prev[:, par[:, 1]]
            both_n[i] += _count(both, 0)
            both_hit[i] += _count(both & cur[:, child], 0)
        act = tr.active[:, :, cols]
        counts += _count(act, 0)
        dens_sum += float(_count(act, (0, 1, 2))) / (model.n_layers * n)
        n_tok += act.shape[0]
        # fixed-length sequences: token pairs are slices, no gather
        seqs = act.reshape(k, SEQUENCE_TOKENS, model.n_layers, n)
        for d in distances:
            for j in range(k):
                a, b = seqs[j, :-d], seqs[j, d:]
                na = _count(a, -1)
                ok = na > 0
                ratio = _count(a & b, -1) / np.maximum(na, 1)
                sim_sum[d] += np.sum(np.where(ok, ratio, 0.0), axis=0)
                sim_cnt[d] += np.sum(ok, axis=0)
    freq = counts / n_tok
    dens = dens_sum / n_tok
    return TraceSummary(
        density=dens, sparsity=1.0 - dens,
        hot_share_80=float(np.nanmean(hot_share(freq))),
        memoryless_similarity=float(np.nanmean(memoryless_similarity(freq))),
        similarity={int(d): float(np.mean(sim_sum[d] / sim_cnt[d])) for d in distances},
        n_sequences=n_sequences, n_tokens=n_tok,
        p_active_given_parents=_parent_p(both_n, both_hit))


def _parent_p(both_n: npt.NDArray[np.int64], both_hit: npt.NDArray[np.int64],
              min_events: int = 20) -> float:
    ok = both_n >= min_events
    return float(np.mean(both_hit[ok] / both_n[ok])) if ok.any() else float("nan")


# ---------------------------------------------------------------------------------------------
# Targets of the catalog models
# ---------------------------------------------------------------------------------------------

BOUND_MARGIN: Final = 0.01
"""Where the paper gives only a strict lower bound (Fig. 4a: adjacent similarity "> 0.90",
"> 0.95" for Falcon-40B), the generator aims this far inside it, so that generated traces
satisfy the bound rather than straddle it. An assumption, shown in the chapter."""

DEFAULT_COUPLED_SHARE: Final = 0.5
"""β for the LLMs: half of each layer's neurons have a strong top-2 parent pair (the most the
generator allows). An assumption: Hermes Fig. 4b shows one example (when one neuron of a layer
fires, two neurons of the next fire with probability > 0.90), not a population share."""

SWIGLU_DENSITY_ROW: Final = ("LLaMA2-13B (SwiGLU)", "mlp_sparsity")
"""Published row whose sparsity the ``swiglu`` option borrows (PowerInfer's LLaMA2-13B)."""

SWIGLU_HOT_SHARE_ROW: Final = ("LLaMA2(SwiGLU)-70B", "hot_share_80", "within one MLP block")
"""Published row whose hot share for 80 % the ``swiglu`` option borrows."""

ACTIVATION_OPTIONS: Final = ("relu", "swiglu")


@dataclass(frozen=True)
class ModelTargets:
    """Generator targets of one catalog model, with where each number comes from.

    Attributes
    ----------
    groups : tuple of GroupTargets
        QKV then MLP neurons of one layer.
    coupled_share : float
    provenance : Mapping[str, str]
        Statistic name → source (paper, published, borrowed, measured or assumed:
        `PROVENANCE_KINDS`).
    """

    groups: tuple[GroupTargets, ...]
    coupled_share: float
    provenance: Mapping[str, str]

    def origin(self, key: str) -> tuple[str, str | None]:
        """Where statistic `key` comes from: its kind (``paper``, ``published``,
        ``measured``, ``borrowed`` or ``assumed``) and, for a borrowed one, the slug of the model it is
        borrowed from (else None). For the catalog's targets (`model_targets`, whose provenance
        is the generator inputs' per value); targets built from an `Activity`
        (`targets_from_activity`) carry one source for every value, which this does not split.

        >>> ModelTargets((), 0.5, {"x": "borrowed family default from opt_30b; note"}).origin("x")
        ('borrowed', 'opt_30b')
        """
        text = self.provenance[key]
        if text.startswith(BORROWED_PREFIX):
            return "borrowed", text.removeprefix(BORROWED_PREFIX).split(";")[0].strip()
        kind = text.split(":")[0].split(";")[0].strip()
        if kind not in PROVENANCE_KINDS:
            raise ValueError(f"provenance of {key!r} names no kind of "
                             f"{', '.join(PROVENANCE_KINDS)}: {text!r}")
        return kind, None


#: What a generator input's provenance starts with when another model's value is borrowed.
BORROWED_PREFIX: Final = "borrowed family default from "
#: The kinds of provenance of a generator input: ``paper`` (a figure of Hermes itself, Fig. 4a),
#: ``published`` (another paper: PowerInfer), ``measured``, ``borrowed`` (another model's value)
#: and ``assumed``; the sparsity chapter's labels.
PROVENANCE_KINDS: Final = ("paper", "published", "measured", "borrowed", "assumed")


def _published_percent(published: Any, key: tuple[str, ...]) -> float:
    rows = published
    mask = (rows["model"] == key[0]) & (rows["statistic"] == key[1])
    if len(key) > 2:
        mask &= rows["scope"] == key[2]
    values = rows.loc[mask, "value"]
    if len(values) != 1:
        raise ValueError(f"expected one published row for {key}, found {len(values)}")
    return float(values.iloc[0]) / 100.0


def model_targets(model_slug: str, n_qkv: int, n_mlp: int, native_activation: str,
                  activation: str, generator_inputs: Mapping[str, Mapping[str, Any]],
                  published: Any = None, swiglu_reference: Mapping[str, Any] | None = None
                  ) -> ModelTargets:
    """Targets of a catalog model under the ReLU-fied statistics or its original SwiGLU.

    Parameters
    ----------
    model_slug : str
    n_qkv, n_mlp : int
        QKV and MLP neurons per layer (``shapes.qkv_neurons_per_layer`` and
        ``shapes.mlp_neurons_per_layer``).
    native_activation : str
        The checkpoint's own activation (``ModelSpec.native_activation``).
    activation : {"relu", "swiglu"}
        ``relu``: the ReLU-fied model the paper evaluates (``sparsity_generator_inputs.csv``).
        ``swiglu``: the original SwiGLU model: PowerInfer's published SwiGLU density and hot
        share, and the persistence measured on SmolLM2 (a SwiGLU decoder) carried over as the
        normalised excess ``(S(d) - M) / (1 - M)`` over its memoryless baseline M.
    generator_inputs : mapping
        ``io.load_generator_inputs()``.
    published : DataFrame, optional
        ``io.load_published_sparsity()`` (needed for ``swiglu``).
    swiglu_reference : mapping, optional
        ``io.load_activation_summary("smollm2")`` (needed for ``swiglu``).

    Returns
    -------
    ModelTargets
        QKV neurons take the model's MLP statistics (assumed: no QKV statistic is published).
    """
    if activation not in ACTIVATION_OPTIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATION_OPTIONS)}, "
                         f"got {activation!r}")
    if model_slug not in generator_inputs:
        raise ValueError(f"no sparsity inputs for model {model_slug!r}; valid: "
                         f"{', '.join(sorted(generator_inputs))}")
    row = generator_inputs[model_slug]
    dists = (1, 10, 25)
    prov = {k: str(row[f"{k}_provenance"]) for k in _TARGET_FIELDS}
    prov["coupled_share"] = _ASSUMED_COUPLED
    if activation == "relu":
        return _relu_targets(n_qkv, n_mlp, qkv=(row["qkv_density"], row["qkv_hot_share_80"]),
                             mlp=(row["mlp_density"], row["hot_share_80"]),
                             similarity=(row["similarity_d1"], row["similarity_d10"],
                                         row["similarity_d25"]),
                             provenance=prov, coupled_share=DEFAULT_COUPLED_SHARE)
    if native_activation != "swiglu":
        raise ValueError(f"{model_slug}'s native activation is {native_activation}, not swiglu")
    if published is None or swiglu_reference is None:
        raise ValueError("the swiglu option needs the published table and the SmolLM2 summary")
    dens = 1.0 - _published_percent(published, SWIGLU_DENSITY_ROW)
    hot = _published_percent(published, SWIGLU_HOT_SHARE_ROW)
    runs = swiglu_reference["sensitivity_by_density_target"]
    key = min(runs, key=lambda k: abs(float(k) - dens))
    ref = runs[key]
    m_ref = float(ref["memoryless_similarity"])
    excess = [(float(ref["similarity"][str(d)]) - m_ref) / (1 - m_ref) for d in dists]
    fit = fit_frequencies(n_mlp, dens, hot)
    m_model = float(memoryless_similarity(
        logit_normal_frequencies(n_mlp, fit.logit_mean, fit.logit_std)))
    sims = tuple(m_model + (1 - m_model) * e for e in excess)
    prov.update({
        "mlp_density": f"borrowed: published {SWIGLU_DENSITY_ROW[0]} sparsity",
        "hot_share_80": f"borrowed: published {SWIGLU_HOT_SHARE_ROW[0]} hot share",
        "similarity_d1": f"measured: SmolLM2 (density target {key}) normalised excess",
        "similarity_d10": f"measured: SmolLM2 (density target {key}) normalised excess",
        "similarity_d25": f"measured: SmolLM2 (density target {key}) normalised excess",
        "qkv_density": "assumed: same as the MLP", "qkv_hot_share_80": "assumed: same as the MLP",
    })
    qkv = GroupTargets("qkv", n_qkv, dens, hot, dists, sims)
    mlp = GroupTargets("mlp", n_mlp, dens, hot, dists, sims)
    return ModelTargets((qkv, mlp), DEFAULT_COUPLED_SHARE, prov)


def targets_from_activity(model: Any, activity: Any, *,
                          coupled_share: float = DEFAULT_COUPLED_SHARE) -> ModelTargets:
    """Generator targets of any model from its activation statistics, as the policies read them.

    The way to the generator (`build_trace_model`), the partition
    (`hermes_model.partition.model_frequencies`) and the predictor for a model of your own.

    Parameters
    ----------
    model : shapes.ModelSpec
        Gives the QKV and MLP neurons per layer (``d_model`` and ``d_ffn``).
    activity : policies.Activity
        Densities, hot shares for 80 % and similarities at distances 1, 10 and 25
        (``io.load_activity(slug)`` for a catalog model, or built by hand).
    coupled_share : float
        Share of neurons coupled to two parents in the previous layer (`DEFAULT_COUPLED_SHARE`).

    Returns
    -------
    ModelTargets
        QKV then MLP groups sharing the similarity curve, S(1) raised by `BOUND_MARGIN` as
        :func:`model_targets` does: for a catalog model and ``io.load_activity(slug)`` the groups
        equal ``model_targets(..., activation="relu")``'s.
    """
    from hermes_model import shapes

    source = str(getattr(activity, "source", "")) or "given"
    prov = dict.fromkeys(_TARGET_FIELDS, source)
    prov["coupled_share"] = (_ASSUMED_COUPLED if coupled_share == DEFAULT_COUPLED_SHARE
                             else "given")
    a = activity
    return _relu_targets(shapes.qkv_neurons_per_layer(model), shapes.mlp_neurons_per_layer(model),
                         qkv=(a.qkv_density, a.qkv_hot_share), mlp=(a.mlp_density, a.mlp_hot_share),
                         similarity=(a.similarity_d1, a.similarity_d10, a.similarity_d25),
                         provenance=prov, coupled_share=coupled_share)


#: The statistics behind a model's targets, by their names in the generator's inputs.
_TARGET_FIELDS: Final = ("mlp_density", "hot_share_80", "similarity_d1", "similarity_d10",
                         "similarity_d25", "qkv_density", "qkv_hot_share_80")
_ASSUMED_COUPLED: Final = "assumed: half the neurons coupled (Fig. 4b shows one example)"


def _relu_targets(n_qkv: int, n_mlp: int, *, qkv: tuple[Any, Any], mlp: tuple[Any, Any],
                  similarity: tuple[Any, Any, Any], provenance: dict[str, str],
                  coupled_share: float) -> ModelTargets:
    """QKV and MLP groups of (density, hot share) sharing the similarity at distances 1, 10 and
    25, S(1) raised by `BOUND_MARGIN` (strict bound); `provenance` gets that noted."""
    s1, s10, s25 = (float(x) for x in similarity)
    sims = (s1 + BOUND_MARGIN, s10, s25)
    provenance["similarity_d1"] += f"; + BOUND_MARGIN {BOUND_MARGIN} (strict bound)"
    groups = tuple(GroupTargets(name, n, float(dens), float(hot), (1, 10, 25), sims)
                   for name, n, (dens, hot) in (("qkv", n_qkv, qkv), ("mlp", n_mlp, mlp)))
    return ModelTargets(groups, coupled_share, provenance)


# ---------------------------------------------------------------------------------------------
# Fitting the generator to a measured trace (validation on MiniLM)
# ---------------------------------------------------------------------------------------------


def mean_layer_correlation(active: BoolArray, seq_id: npt.ArrayLike) -> float:
    """Layer correlation averaged over layer pairs: parents chosen on the 1st, 3rd, 5th, ...
    sequence, tested on the others (the measurement script's even/odd split)."""
    rank = np.unique(np.asarray(seq_id), return_inverse=True)[1]
    train = rank % 2 == 0
    vals = [layer_correlation(active[:, layer - 1], active[:, layer], train).p_active_given_top2
            for layer in range(1, active.shape[1])]
    finite = [v for v in vals if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def fit_to_measured(active: BoolArray, seq_id: npt.ArrayLike, rng: np.random.Generator,
                    distances: Sequence[int] = (1, 2, 5, 10, 25),
                    coupled_shares: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
                    ) -> TraceModel:
    """Fit the generator to a measured trace, layer by layer.

    Per layer: density and hot share for 80 % (frequency family), the similarity curve at
    `distances` (two timescales). Then β is the value of `coupled_shares` whose generated trace
    (same sequence lengths) has the layer correlation closest to the measured one.

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)
    seq_id : array_like of int, shape (T,)
    rng : numpy.random.Generator
    distances : sequence of int
    coupled_shares : sequence of float
        Candidate β values.

    Returns
    -------
    TraceModel
    """
    seq_id = np.asarray(seq_id)
    freq = neuron_frequencies(active)
    dens = density(active)
    hots = hot_share(freq)
    sims = np.stack([similarity(active, seq_id, d) for d in distances], axis=1)
    group = GroupTargets("all", active.shape[2], tuple(float(x) for x in dens),
                         tuple(float(x) for x in hots), tuple(int(d) for d in distances),
                         tuple(tuple(float(x) for x in row) for row in sims), timescales=2)
    _, first = np.unique(seq_id, return_index=True)
    lengths = np.diff(np.append(np.sort(first), seq_id.size))
    target = mean_layer_correlation(active, seq_id)
    best: tuple[float, TraceModel] | None = None
    for beta in coupled_shares:
        model = build_trace_model([group], active.shape[1], beta, rng)
        gen = generate_trace(model, lengths.size, rng, lengths)
        err = abs(mean_layer_correlation(gen.active, gen.seq_id) - target)
        if best is None or err < best[0]:
            best = (err, model)
    assert best is not None
    return best[1]


# ---------------------------------------------------------------------------------------------
# The hot/cold law and bytes per token
# ---------------------------------------------------------------------------------------------


def cumulative_compute_share(frequencies: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Share of a layer's activations carried by its most frequent neurons.

    With equal bytes and FLOP per neuron of a group, the share of neurons is the share of
    parameters and the share of activations is the share of compute.

    Parameters
    ----------
    frequencies : array_like, shape (N,)

    Returns
    -------
    parameter_share, compute_share : ndarray, shape (N + 1,)
        From (0, 0) to (1, 1), hottest neurons first.
    """
    f = np.sort(np.asarray(frequencies, dtype=np.float64))[::-1]
    csum = np.concatenate([[0.0], np.cumsum(f)])
    return np.arange(f.size + 1) / f.size, csum / csum[-1]


def compute_share_of_hottest(frequencies: npt.ArrayLike, parameter_share: float = 0.2) -> float:
    """Share of compute carried by the hottest `parameter_share` of the neurons (0.2: the
    paper's "20 % of the parameters")."""
    params, compute = cumulative_compute_share(frequencies)
    return float(np.interp(parameter_share, params, compute))


def active_weight_bytes_per_token(model: Any, qkv_density: float, mlp_density: float,
                                  dtype: str = "fp16") -> float:
    """Bytes of weights a decoded token touches in the sparse QKV and MLP blocks.

    Parameters
    ----------
    model : ModelSpec
    qkv_density, mlp_density : float
        Mean density of the QKV and MLP neurons.
    dtype : str, default "fp16"

    Returns
    -------
    float
        Bytes (B): ``L · (d_qkv · N_qkv · b_qkv + d_mlp · N_mlp · b_mlp)``, b the bytes of one
        neuron (``shapes.neuron_bytes``). The dense output projection is not included.
    """
    from hermes_model import shapes

    per_layer = (qkv_density * shapes.qkv_neurons_per_layer(model)
                 * shapes.neuron_bytes(model, "qkv", dtype)
                 + mlp_density * shapes.mlp_neurons_per_layer(model)
                 * shapes.neuron_bytes(model, "mlp", dtype))
    return float(model.n_layers * per_layer)


# ---------------------------------------------------------------------------------------------
# Validation on MiniLM: the generator fitted on half the sequences, checked on the other half
# ---------------------------------------------------------------------------------------------

HELD_OUT_TOLERANCES: Final = MappingProxyType({
    "density": 0.02,  # layer-mean density
    "frequency_quantile": 0.05,  # per-neuron frequency quantiles 10 %..90 %, each
    "hot_share_80": 0.05,  # layer-mean hot share for 80 %
    "similarity": 0.04,  # layer-mean similarity at each of d = 1, 5, 10, 25
    "layer_correlation": 0.10,  # mean P(active | both top-2 parents active)
})
"""Tolerances of :func:`held_out_validation`, absolute, **fixed before the first run** (commit
b260e3a, where they were constants of ``tests/test_sparsity.py``): the held-out half of MiniLM's
masks has 11 sequences (about 1,000 tokens), and these allow for its sampling noise. Not to be
changed after seeing a result."""

HELD_OUT_DISTANCES: Final = (1, 5, 10, 25)
"""Token distances at which :func:`held_out_validation` compares similarity."""

HELD_OUT_QUANTILES: Final = tuple(float(q) for q in np.linspace(0.1, 0.9, 9))
"""Quantile levels of the per-neuron frequencies that :func:`held_out_validation` compares:
10 %, 20 %, ..., 90 % (as ``np.linspace`` spaces them, the levels of the first run)."""


def _held_out_statistics(active: BoolArray, seq_id: npt.NDArray[np.integer],
                         levels: FloatArray) -> dict[str, Any]:
    """The validation's statistics of one trace: :func:`summarize`'s layer means, the
    per-neuron frequency quantiles (an array) and the layer correlation."""
    s = summarize(active, seq_id, HELD_OUT_DISTANCES)
    return {"density": s.density,
            "frequency_quantiles": np.quantile(neuron_frequencies(active), levels),
            "hot_share_80": s.hot_share_80,
            **{f"similarity_d{d}": s.similarity[d] for d in HELD_OUT_DISTANCES},
            "layer_correlation": mean_layer_correlation(active, seq_id)}


@dataclass(frozen=True, eq=False)
class HeldOutValidation:
    """Statistics of a measured held-out trace (*real*) and of the generator (*generated*: the
    mean over replicates with the held-out sequence lengths), from :func:`held_out_validation`.

    Attributes
    ----------
    real, generated : Mapping[str, float]
        By key: ``density``, ``hot_share_80``, ``similarity_d1``, ``_d5``, ``_d10``, ``_d25``,
        ``layer_correlation`` (layer means; the correlation is the mean over layer pairs).
    quantile_levels : ndarray, shape (Q,)
        `HELD_OUT_QUANTILES`.
    real_quantiles, generated_quantiles : ndarray, shape (Q,)
        Quantiles of the per-neuron frequencies (over all layers' neurons).
    n_replicates : int
        Generated replicates averaged.
    """

    real: Mapping[str, float]
    generated: Mapping[str, float]
    quantile_levels: FloatArray
    real_quantiles: FloatArray
    generated_quantiles: FloatArray
    n_replicates: int

    def rows(self) -> list[dict[str, Any]]:
        """One row per compared statistic: ``statistic`` (display name), ``real``,
        ``generated``, ``abs_diff``, ``tolerance`` (`HELD_OUT_TOLERANCES`) and ``within``
        (``abs_diff <= tolerance``). The frequency quantiles give one row, the level where real
        and generated differ most (the tolerance applies to each level, so to the worst)."""
        tol = HELD_OUT_TOLERANCES
        named = [("density", "density", tol["density"]),
                 ("hot share for 80 %", "hot_share_80", tol["hot_share_80"]),
                 *((f"similarity at d = {d}", f"similarity_d{d}", tol["similarity"])
                   for d in HELD_OUT_DISTANCES),
                 ("layer correlation P(active | top-2 active)", "layer_correlation",
                  tol["layer_correlation"])]
        pairs = [(name, float(self.real[key]), float(self.generated[key]), t)
                 for name, key, t in named]
        gaps = np.abs(self.real_quantiles - self.generated_quantiles)
        worst = int(np.argmax(gaps))
        level = 100 * float(self.quantile_levels[worst])
        pairs.append((f"worst neuron-frequency quantile of 10–90 % (at {level:.0f} %)",
                      float(self.real_quantiles[worst]), float(self.generated_quantiles[worst]),
                      tol["frequency_quantile"]))
        return [{"statistic": name, "real": real, "generated": gen, "abs_diff": abs(real - gen),
                 "tolerance": t, "within": bool(abs(real - gen) <= t)}
                for name, real, gen, t in pairs]

    def table(self) -> pd.DataFrame:
        """`rows` as a DataFrame (columns ``statistic`` .. ``within``, in that order)."""
        import pandas as pd

        return pd.DataFrame(self.rows())


def held_out_validation(active: BoolArray, seq_id: npt.ArrayLike, *,
                        fit_rng: np.random.Generator, gen_rng: np.random.Generator,
                        n_replicates: int) -> HeldOutValidation:
    """Fit the generator to the even-numbered sequences of a measured trace and compare the odd
    ones with generated traces of the same sequence lengths.

    The fit is :func:`fit_to_measured` (per layer: density, hot share, a two-timescale similarity
    curve; the coupled share chosen on the fitting half to match its layer correlation). Each
    replicate is one :func:`generate_trace` with the held-out sequences' count and lengths; the
    generated statistics are the mean over `n_replicates` replicates. Compare with
    `HELD_OUT_TOLERANCES` (`HeldOutValidation.rows`).

    Parameters
    ----------
    active : ndarray of bool, shape (T, L, N)
        Measured masks (``io.load_activation_masks("minilm")``).
    seq_id : array_like of int, shape (T,)
        Sequence of each token; even ids fit, odd ids are held out.
    fit_rng, gen_rng : numpy.random.Generator
        Draw the fit's trial traces, and the replicates.
    n_replicates : int
        Generated replicates, at least 1.

    Returns
    -------
    HeldOutValidation
    """
    if n_replicates < 1:
        raise ValueError(f"n_replicates must be at least 1, got {n_replicates}")
    active = np.asarray(active)
    seq_id = np.asarray(seq_id)
    if active.ndim != 3:
        raise ValueError(f"active must have shape (T, L, N), got {active.shape}")
    if seq_id.shape != active.shape[:1] or not np.issubdtype(seq_id.dtype, np.integer):
        raise ValueError(f"seq_id must be integers of shape ({active.shape[0]},), got "
                         f"{seq_id.dtype} of shape {seq_id.shape}")
    runs = 1 + int(np.count_nonzero(np.diff(seq_id))) if seq_id.size else 0
    if runs != np.unique(seq_id).size:
        raise ValueError("seq_id must keep each sequence's tokens contiguous, got "
                         f"{runs} runs of {np.unique(seq_id).size} sequences")
    fit_half = seq_id % 2 == 0
    if fit_half.all() or not fit_half.any():
        raise ValueError("held_out_validation needs both even (fit) and odd (held-out) sequences")
    model = fit_to_measured(active[fit_half], seq_id[fit_half], fit_rng)
    held, held_seq = active[~fit_half], seq_id[~fit_half]
    _, first = np.unique(held_seq, return_index=True)
    lengths = np.diff(np.append(np.sort(first), held_seq.size))
    levels = np.asarray(HELD_OUT_QUANTILES, dtype=np.float64)
    real = _held_out_statistics(held, held_seq, levels)
    reps = []
    for _ in range(n_replicates):
        trace = generate_trace(model, lengths.size, gen_rng, lengths)
        reps.append(_held_out_statistics(trace.active, trace.seq_id, levels))
    gen = {k: np.mean([r[k] for r in reps], axis=0) for k in real}
    keys = [k for k in real if k != "frequency_quantiles"]
    return HeldOutValidation(
        real={k: float(real[k]) for k in keys}, generated={k: float(gen[k]) for k in keys},
        quantile_levels=levels, real_quantiles=np.asarray(real["frequency_quantiles"]),
        generated_quantiles=np.asarray(gen["frequency_quantiles"]), n_replicates=n_replicates)
