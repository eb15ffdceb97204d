"""Cold neurons across NDP-DIMMs: static placements, window-based remapping, imbalance, cost.

Hermes §III-C and §IV-D (digest §4.3, §8). Each NDP-DIMM computes only the neurons stored in it,
its time is proportional to the number of its neurons that fire (center-buffer design), and a
layer waits for its slowest DIMM (Eq. 2). This module places a layer's neurons on DIMMs, replays
an activation trace over a placement, remaps every few tokens, and measures what that buys.

Data layout (plain arrays, so that any hot/cold policy can feed it):

* ``dimm_of`` : int array (L, N) or (G, L, N): the DIMM that stores each neuron of each layer
  (every neuron has a home DIMM: Hermes keeps all weights in the DIMMs, the GPU holds copies).
* ``cold_active`` : bool array (G, T, L, N): neuron fires at decode step t of run g *and* is
  computed in its DIMM (not on the GPU) at that step. G independent runs (batch groups) of T
  steps; a step of a batch is the union of its sequences' active sets (:func:`batched_activity`).
* ``loads`` : int array (G, T, L, D): active cold neurons per DIMM per step; times are loads
  × the per-neuron DIMM time of the layer.

Definitions
-----------
**Imbalance** of a window of W steps (the issue's definition):

.. math::

   I_{win} = \\frac{\\sum_l \\max_j \\sum_{t\\in w} n_{tlj}}{\\sum_l \\frac{1}{D}\\sum_j
   \\sum_{t\\in w} n_{tlj}}, \\qquad
   I_{tok} = \\frac{\\sum_{t\\in w}\\sum_l \\max_j n_{tlj}}{\\sum_{t\\in w}\\sum_l
   \\frac{1}{D}\\sum_j n_{tlj}}

:math:`I_{win}` is what a placement can fix (loads summed over the window), :math:`I_{tok}` is
what latency sees (each step waits for its slowest DIMM). Both are ≥ 1, and equal 1 exactly when
every DIMM carries the same load. Summaries over many windows are ratios of sums.

**Window remapping (Algorithm 1).** At the start of window w, with activity counts
:math:`A_i` of the *previous* window (no hindsight), per layer
:math:`Z_j = \\sum_i C[j,i] A_i`; DIMMs are sorted by Z descending and paired heaviest with
lightest (``order[k]`` with ``order[D-1-k]``; the paper's ``J - id`` is 1-based). For each pair,
while the heavy DIMM exceeds the light one, the most-activated neuron of the heavy DIMM moves to
the light one. Two readings are ours and stated:

* The printed condition ``while Z_id ≤ Z_{J−id}`` is inverted: after the descending sort it
  holds only on ties, where it would never stop. We implement the intent, ``Z_heavy > Z_light``.
* A move of a neuron with count a changes the gap by 2a, so moving a neuron with
  ``a ≥ gap`` would not narrow it (and could overshoot forever). We move the most-activated
  neuron *whose move narrows the gap* (``a < gap``); the loop stops when none is left.
* The moves per pair and window are bounded by ``max_moves_per_pair`` (the paper does not say
  how many; :func:`moves_per_projection` derives the bound from the time of the layer's
  projection, during which the DIMMs are idle and the remap runs) and by the light DIMM's free
  capacity.

References
----------
Hermes (HPCA 2025) §III-C, §IV-D, Algorithm 1; R. L. Graham, "Bounds on multiprocessing timing
anomalies", SIAM J. Appl. Math. 17 (1969) for the LPT placement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from hermes_model import ndp, predictor, roofline
from hermes_model.shapes import ModelSpec
from hermes_model.specs import DimmSpec, LinkSpec, SystemSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WINDOW_TOKENS: Final = 5
"""Tokens per remapping window (Hermes §IV-D)."""


# ---------------------------------------------------------------------------------------------
# Static placements
# ---------------------------------------------------------------------------------------------


def _check_dimms(n_dimms: int) -> None:
    if not isinstance(n_dimms, int | np.integer) or n_dimms < 1:
        raise ValueError(f"n_dimms must be a positive integer, got {n_dimms!r}")


def round_robin_placement(n_layers: int, n_neurons: int, n_dimms: int) -> IntArray:
    """Neuron i of every layer on DIMM ``i mod D``: shape (L, N)."""
    _check_dimms(n_dimms)
    return np.broadcast_to(np.arange(n_neurons) % n_dimms, (n_layers, n_neurons)).copy()


def random_placement(n_layers: int, n_neurons: int, n_dimms: int,
                     rng: np.random.Generator) -> IntArray:
    """A random placement with equal neuron counts per DIMM (±1): per layer, a random
    permutation dealt round robin. Shape (L, N)."""
    _check_dimms(n_dimms)
    out = np.empty((n_layers, n_neurons), dtype=np.int64)
    for layer in range(n_layers):
        out[layer, rng.permutation(n_neurons)] = np.arange(n_neurons) % n_dimms
    return out


def balanced_placement(freq: npt.ArrayLike, n_dimms: int, *,
                       hot: npt.ArrayLike | None = None) -> IntArray:
    """Frequency-balanced static placement: LPT in rounds on the offline frequencies.

    Parameters
    ----------
    freq : array_like, shape (L, N)
        Offline activation frequency of each neuron (per decode step).
    n_dimms : int
    hot : array_like of bool, shape (L, N), optional
        Neurons computed on the GPU: they weigh nothing on the DIMMs and are placed last (their
        home DIMM only stores them).

    Returns
    -------
    ndarray of int, shape (L, N)

    Notes
    -----
    Neurons go in decreasing weight in rounds of D: the k-th largest of a round goes to the k-th
    least-loaded DIMM. Every DIMM receives one neuron per round, so counts (hence bytes) are
    equal to ±1, and the makespan is within the largest frequency of the mean (each round adds at
    most its largest item to any DIMM beyond the others' minimum).
    """
    _check_dimms(n_dimms)
    f = np.asarray(freq, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"freq must have shape (L, N), got {f.shape}")
    w = f.copy() if hot is None else np.where(np.asarray(hot, dtype=bool), 0.0, f)
    n_layers, n = w.shape
    # cold (positive weight) first by decreasing weight; zero weights after.
    order = np.argsort(-w, axis=1, kind="stable")
    n_rounds = -(-n // n_dimms)
    pad = n_rounds * n_dimms - n
    sw = np.concatenate([np.take_along_axis(w, order, axis=1), np.zeros((n_layers, pad))], axis=1)
    which = np.empty((n_layers, n_rounds * n_dimms), dtype=np.int64)
    acc = np.zeros((n_layers, n_dimms))
    rows = np.arange(n_layers)[:, None]
    for r in range(n_rounds):
        sl = slice(r * n_dimms, (r + 1) * n_dimms)
        asc = np.argsort(acc, axis=1, kind="stable")
        acc[rows, asc] += sw[:, sl]
        which[:, sl] = asc
    out = np.empty((n_layers, n), dtype=np.int64)
    np.put_along_axis(out, order, which[:, :n], axis=1)
    return out


def placement_counts(dimm_of: npt.ArrayLike, n_dimms: int) -> IntArray:
    """Neurons per DIMM and layer: shape (..., L, D) for ``dimm_of`` of shape (..., L, N)."""
    d = np.asarray(dimm_of)
    flat = d.reshape(-1, d.shape[-1])
    key = np.arange(flat.shape[0])[:, None] * n_dimms + flat
    c = np.bincount(key.ravel(), minlength=flat.shape[0] * n_dimms)
    return c.reshape(*d.shape[:-1], n_dimms)


def dimm_bytes(dimm_of: npt.ArrayLike, n_dimms: int, neuron_bytes: npt.ArrayLike) -> FloatArray:
    """Bytes stored on each DIMM: shape (..., D); `neuron_bytes` per layer, shape (L,)."""
    counts = placement_counts(dimm_of, n_dimms)
    return np.einsum("...ld,l->...d", counts.astype(np.float64),
                     np.broadcast_to(np.asarray(neuron_bytes, dtype=float), counts.shape[-2:-1]))


# ---------------------------------------------------------------------------------------------
# Traces: batching and loads
# ---------------------------------------------------------------------------------------------


def batched_activity(active: npt.ArrayLike, n_sequences: int, batch: int) -> BoolArray:
    """Group sequences into batches and take, at each step, the union of their active sets.

    Parameters
    ----------
    active : array_like of bool, shape (S · T, L, N)
        Tokens of each sequence consecutive, all sequences of equal length T.
    n_sequences : int
        S; must be a multiple of `batch`.
    batch : int

    Returns
    -------
    ndarray of bool, shape (S / b, T, L, N)
        A neuron is computed once per step if any sequence of the batch needs it (its weights
        are read once and serve every sequence).
    """
    a = np.asarray(active, dtype=bool)
    if batch < 1 or n_sequences % batch or a.shape[0] % n_sequences:
        raise ValueError(f"need n_sequences ({n_sequences}) a multiple of batch "
                         f"({batch}) and tokens ({a.shape[0]}) a multiple of n_sequences")
    t = a.shape[0] // n_sequences
    a = a.reshape(n_sequences // batch, batch, t, *a.shape[1:])
    return np.asarray(a.any(axis=1))


def dimm_loads(cold_active: npt.ArrayLike, dimm_of: npt.ArrayLike, n_dimms: int) -> IntArray:
    """Active cold neurons per DIMM at each step.

    Parameters
    ----------
    cold_active : array_like of bool, shape (G, T, L, N)
    dimm_of : array_like of int, shape (L, N) or (G, L, N)
    n_dimms : int

    Returns
    -------
    ndarray of int, shape (G, T, L, D)
    """
    x = np.asarray(cold_active, dtype=bool)
    g, t, nl, n = x.shape
    d = np.broadcast_to(np.asarray(dimm_of, dtype=np.int64), (g, nl, n))
    gi, ti, li, ni = np.nonzero(x)
    key = ((gi * t + ti) * nl + li) * n_dimms + d[gi, li, ni]
    return np.bincount(key, minlength=g * t * nl * n_dimms).reshape(g, t, nl, n_dimms)


# ---------------------------------------------------------------------------------------------
# Imbalance
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Imbalance:
    """Imbalance of a schedule's loads, window by window.

    Attributes
    ----------
    window : float
        :math:`I_{win}` over all windows: Σ slowest-DIMM window load / Σ mean window load.
    per_token : float
        :math:`I_{tok}` over all windows: Σ slowest-DIMM step load / Σ mean step load.
    window_by_window, per_token_by_window : ndarray, shape (G, n_windows)
        The same per window (nan where a window has no load).
    layer_window : ndarray, shape (G, n_windows, L)
        Slowest over mean DIMM of one layer over one window (nan where no load).
    """

    window: float
    per_token: float
    window_by_window: FloatArray
    per_token_by_window: FloatArray
    layer_window: FloatArray

    def layer_window_percentiles(self, q: npt.ArrayLike = (5, 50, 95)) -> FloatArray:
        """Percentiles of the per-layer window imbalance (ratio)."""
        v = self.layer_window[np.isfinite(self.layer_window)]
        return np.percentile(v, q) if v.size else np.full(np.shape(q), np.nan)


def window_sums(loads: npt.ArrayLike, window_tokens: int = WINDOW_TOKENS) -> IntArray:
    """Loads summed over consecutive windows of `window_tokens` steps (the last may be
    shorter): (G, T, L, D) → (G, n_windows, L, D)."""
    x = np.asarray(loads)
    starts = np.arange(0, x.shape[1], window_tokens)
    return np.add.reduceat(x, starts, axis=1)


def imbalance(loads: npt.ArrayLike, window_tokens: int = WINDOW_TOKENS) -> Imbalance:
    """Window and per-token imbalance of per-step DIMM loads (G, T, L, D); see the module
    docstring for the definitions."""
    x = np.asarray(loads, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"loads must have shape (G, T, L, D), got {x.shape}")
    if window_tokens < 1:
        raise ValueError(f"window_tokens must be >= 1, got {window_tokens}")
    win = window_sums(x, window_tokens)
    wmax, wmean = win.max(axis=-1), win.mean(axis=-1)              # (G, W, L)
    starts = np.arange(0, x.shape[1], window_tokens)
    tmax = np.add.reduceat(x.max(axis=-1), starts, axis=1)         # (G, W, L)
    tmean = np.add.reduceat(x.mean(axis=-1), starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        layer_window = wmax / wmean
        by_win = wmax.sum(-1) / wmean.sum(-1)
        by_tok = tmax.sum(-1) / tmean.sum(-1)
    total = wmean.sum()
    return Imbalance(
        window=float(wmax.sum() / total) if total > 0 else float("nan"),
        per_token=float(tmax.sum() / tmean.sum()) if total > 0 else float("nan"),
        window_by_window=by_win, per_token_by_window=by_tok, layer_window=layer_window)


# ---------------------------------------------------------------------------------------------
# Algorithm 1: window-based remapping
# ---------------------------------------------------------------------------------------------


def remap_layer(counts: npt.ArrayLike, dimm_of: npt.ArrayLike, n_dimms: int, *,
                max_moves_per_pair: int, room: npt.ArrayLike | None = None
                ) -> tuple[IntArray, IntArray]:
    """Algorithm 1 on one layer: pair heaviest with lightest DIMM, move most-activated neurons.

    Parameters
    ----------
    counts : array_like of int, shape (N,)
        :math:`A_i`, activations of each neuron (while on a DIMM) in the window the decision is
        based on.
    dimm_of : array_like of int, shape (N,)
        Current home DIMM of each neuron (:math:`C[j, i] = [\\text{dimm\\_of}_i = j]`).
    n_dimms : int
    max_moves_per_pair : int
        Bound on the neurons moved from a heavy to its light DIMM.
    room : array_like of int, shape (D,), optional
        Neurons each DIMM can still receive (capacity); unbounded if None.

    Returns
    -------
    new_dimm_of : ndarray of int, shape (N,)
    moves : ndarray of int, shape (D // 2,)
        Neurons moved within each pair (pair k: k-th heaviest → k-th lightest).

    Notes
    -----
    Within a pair, neurons go in decreasing count; one with count a moves only while
    ``a < Z_heavy − Z_light`` (the move narrows the gap), so the loop ends with
    ``|Z_heavy − Z_light|`` no larger than before and never oscillates.
    """
    a = np.asarray(counts, dtype=np.int64)
    new = np.array(dimm_of, dtype=np.int64, copy=True)
    if max_moves_per_pair < 0:
        raise ValueError(f"max_moves_per_pair must be >= 0, got {max_moves_per_pair}")
    z = np.bincount(new, weights=a, minlength=n_dimms).astype(np.int64)
    free = (np.full(n_dimms, np.iinfo(np.int64).max // 4) if room is None
            else np.asarray(room, dtype=np.int64).copy())
    order = np.argsort(-z, kind="stable")
    moves = np.zeros(n_dimms // 2, dtype=np.int64)
    for k in range(n_dimms // 2):
        heavy, light = int(order[k]), int(order[n_dimms - 1 - k])
        gap = int(z[heavy] - z[light])
        limit = int(min(max_moves_per_pair, max(free[light], 0)))
        if gap <= 0 or limit == 0:
            continue
        cand = np.nonzero((new == heavy) & (a > 0))[0]
        if cand.size == 0:
            continue
        cand = cand[np.argsort(-a[cand], kind="stable")]
        vals = a[cand]
        pos, moved = 0, 0
        while pos < cand.size and moved < limit:
            v = int(vals[pos])
            same = int(np.searchsorted(-vals, -v, side="right")) - pos
            if v < gap:
                take = min(same, -(-(gap - v) // (2 * v)), limit - moved)
                idx = cand[pos:pos + take]
                new[idx] = light
                gap -= 2 * v * take
                moved += take
            pos += same
        z[heavy] -= (int(z[heavy] - z[light]) - gap) // 2
        z[light] = z[heavy] - gap
        moves[k] = moved
        free[light] -= moved
        free[heavy] += moved
    return new, moves


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowSchedule:
    """A trace replayed over a placement, with or without window remapping.

    Attributes
    ----------
    loads : ndarray of int, shape (G, T, L, D)
        Active cold neurons per DIMM per step.
    moves : ndarray of int, shape (G, n_windows, L, D // 2)
        Neurons moved within each DIMM pair at the start of each window (0 for window 0 of the
        causal replay; the hindsight oracle remaps window 0 too).
    dimm_of : ndarray of int, shape (G, L, N)
        Placement after the last window.
    window_tokens : int
    """

    loads: IntArray
    moves: IntArray
    dimm_of: IntArray
    window_tokens: int

    @property
    def n_steps(self) -> int:
        """Steps replayed (G · T)."""
        return int(self.loads.shape[0] * self.loads.shape[1])

    def imbalance(self) -> Imbalance:
        """Imbalance of the replayed loads (:func:`imbalance`)."""
        return imbalance(self.loads, self.window_tokens)


def simulate_windows(cold_active: npt.ArrayLike, dimm_of: npt.ArrayLike, n_dimms: int, *,
                     remap: bool = True, window_tokens: int = WINDOW_TOKENS,
                     max_moves_per_pair: int = 64, history_windows: int = 1,
                     hindsight: bool = False, neuron_bytes: npt.ArrayLike | None = None,
                     capacity_bytes: float | None = None) -> WindowSchedule:
    """Replay a trace window by window, remapping with Algorithm 1 before each window.

    Parameters
    ----------
    cold_active : array_like of bool, shape (G, T, L, N)
        Neurons that fire and are computed on a DIMM at each step.
    dimm_of : array_like of int, shape (L, N) or (G, L, N)
        Placement at the start of each run.
    n_dimms : int
    remap : bool
        False replays the static placement.
    window_tokens : int
        Steps per window (5 in the paper).
    max_moves_per_pair : int
        Bound on the moves within a DIMM pair per window and layer (:func:`moves_per_projection`).
    history_windows : int
        Earlier windows whose counts :math:`A_i` are summed for the decision (1: the last one).
    hindsight : bool
        Decide on the counts of the window itself (an oracle, *not* realisable: used only to
        reproduce the paper's "window-optimal mapping" claim).
    neuron_bytes : array_like, shape (L,), optional
        Bytes of one neuron per layer (needed with `capacity_bytes`).
    capacity_bytes : float, optional
        Capacity of each DIMM (bytes); a move never fills a DIMM beyond it.

    Returns
    -------
    WindowSchedule

    Notes
    -----
    Without hindsight the decision before window w uses only steps of windows
    ``w - history_windows .. w - 1``; window 0 runs on the initial placement.
    """
    x = np.asarray(cold_active, dtype=bool)
    if x.ndim != 4:
        raise ValueError(f"cold_active must have shape (G, T, L, N), got {x.shape}")
    g, t, nl, n = x.shape
    d = np.array(np.broadcast_to(np.asarray(dimm_of, dtype=np.int64), (g, nl, n)))
    if d.min() < 0 or d.max() >= n_dimms:
        raise ValueError(f"dimm_of must be in [0, {n_dimms}), got [{d.min()}, {d.max()}]")
    if window_tokens < 1 or history_windows < 1:
        raise ValueError("window_tokens and history_windows must be >= 1, got "
                         f"{window_tokens} and {history_windows}")
    if capacity_bytes is not None and neuron_bytes is None:
        raise ValueError("capacity_bytes needs neuron_bytes")
    nb = None if neuron_bytes is None else np.broadcast_to(
        np.asarray(neuron_bytes, dtype=float), (nl,))
    starts = np.arange(0, t, window_tokens)
    n_win = starts.size
    loads = np.zeros((g, t, nl, n_dimms), dtype=np.int64)
    moves = np.zeros((g, n_win, nl, n_dimms // 2), dtype=np.int64)
    for w, s0 in enumerate(starts):
        s1 = min(s0 + window_tokens, t)
        if remap and (hindsight or w > 0):
            lo = s0 if hindsight else starts[max(0, w - history_windows)]
            hi = s1 if hindsight else s0
            counts = x[:, lo:hi].sum(axis=1)  # (G, L, N)
            for gi in range(g):
                used = None if nb is None else dimm_bytes(d[gi], n_dimms, nb)
                for layer in range(nl):
                    room = None
                    if capacity_bytes is not None and nb is not None and used is not None:
                        room = np.floor((capacity_bytes - used) / nb[layer] + 1e-9)
                        room = np.maximum(room, 0).astype(np.int64)
                    new, mv = remap_layer(counts[gi, layer], d[gi, layer], n_dimms,
                                          max_moves_per_pair=max_moves_per_pair, room=room)
                    if used is not None and nb is not None:
                        delta = (np.bincount(new, minlength=n_dimms)
                                 - np.bincount(d[gi, layer], minlength=n_dimms))
                        used = used + delta * nb[layer]
                    d[gi, layer] = new
                    moves[gi, w, layer] = mv
        loads[:, s0:s1] = dimm_loads(x[:, s0:s1], d, n_dimms)
    return WindowSchedule(loads=loads, moves=moves, dimm_of=d, window_tokens=window_tokens)


# ---------------------------------------------------------------------------------------------
# Costs: migration and MLP-block latency
# ---------------------------------------------------------------------------------------------


def projection_time_s(model: ModelSpec, system: SystemSpec, *, batch: int = 1,
                      dtype: str = "fp16") -> float:
    """GPU time of one layer's attention output projection (s): the window in which the DIMMs
    are idle and Hermes remaps (§IV-A, Fig. 6a). Roofline of a (b × h·d_head) by
    (h·d_head × d_model) product at the GPU's achievable rates."""
    t = roofline.matmul_time(system.gpu, batch, model.d_model, model.n_heads * model.head_dim,
                             dtype)
    return float(t.time_s)


def moves_per_projection(projection_s: float, move_s: float) -> int:
    """Neurons one DIMM-link bridge can move while a projection runs (count): the bound on the
    moves per DIMM pair per window (pairs use different bridges, §IV-D)."""
    if projection_s < 0 or move_s <= 0:
        raise ValueError(f"need projection_s >= 0 and move_s > 0, got {projection_s}, {move_s}")
    return int(np.floor(projection_s / move_s))


@dataclass(frozen=True, slots=True, kw_only=True)
class MigrationCost:
    """Cost of a schedule's moves, per decode step, over DIMM-link and through the host.

    Attributes
    ----------
    bytes_per_step : float
        Bytes migrated per decode step, over the replayed layers (B).
    link_s_per_step, host_s_per_step : float
        Move time per step (s): over DIMM-link the pairs of a layer move in parallel (slowest
        pair); through the host every move is serial.
    link_exposed_s_per_step, host_exposed_s_per_step : float
        The part of it beyond the projection window of each layer (s per step).
    link_energy_j_per_step, host_energy_j_per_step : float
    """

    bytes_per_step: float
    link_s_per_step: float
    host_s_per_step: float
    link_exposed_s_per_step: float
    host_exposed_s_per_step: float
    link_energy_j_per_step: float
    host_energy_j_per_step: float


def migration_cost(schedule: WindowSchedule, neuron_bytes: npt.ArrayLike, *, link: LinkSpec,
                   dimm: DimmSpec, host_overhead_s: float, projection_s: float) -> MigrationCost:
    """Time, exposure and energy of the schedule's moves (`ndp.dimm_link_move`, `ndp.host_move`).

    Parameters
    ----------
    schedule : WindowSchedule
    neuron_bytes : array_like, shape (L,)
        Bytes of one neuron per replayed layer (B).
    link : LinkSpec
        The DIMM-link.
    dimm : DimmSpec
    host_overhead_s : float
        Host software time per copy (s), for `ndp.host_move`.
    projection_s : float
        Projection time of one layer (s): moves within it are hidden.
    """
    mv = schedule.moves                                    # (G, W, L, P)
    nb = np.broadcast_to(np.asarray(neuron_bytes, dtype=float), (mv.shape[2],))
    one_link = ndp.dimm_link_move(nb, link)
    one_host = ndp.host_move(nb, dimm, host_overhead_s=host_overhead_s)
    link_t = (mv * one_link.time_s[None, None, :, None]).max(axis=-1, initial=0.0)  # (G, W, L)
    host_t = (mv * one_host.time_s[None, None, :, None]).sum(axis=-1)
    per_layer_moves = mv.sum(axis=-1)
    steps = schedule.n_steps
    return MigrationCost(
        bytes_per_step=float((per_layer_moves * nb).sum() / steps),
        link_s_per_step=float(link_t.sum() / steps),
        host_s_per_step=float(host_t.sum() / steps),
        link_exposed_s_per_step=float(np.maximum(link_t - projection_s, 0).sum() / steps),
        host_exposed_s_per_step=float(np.maximum(host_t - projection_s, 0).sum() / steps),
        link_energy_j_per_step=float((per_layer_moves * one_link.energy_j).sum() / steps),
        host_energy_j_per_step=float((per_layer_moves * one_host.energy_j).sum() / steps))


def mlp_block_latency_s(gpu_active: npt.ArrayLike, loads: npt.ArrayLike, *,
                        gpu_neuron_s: npt.ArrayLike, dimm_neuron_s: npt.ArrayLike,
                        sync_s: float, gpu_holds_neurons: npt.ArrayLike = True) -> FloatArray:
    """MLP-block latency of each decode step (s): Σ over layers of max(GPU side, slowest DIMM).

    Parameters
    ----------
    gpu_active : array_like of int, shape (G, T, L)
        Active neurons computed on the GPU at each step.
    loads : array_like of int, shape (G, T, L, D)
        Active neurons computed on each DIMM.
    gpu_neuron_s, dimm_neuron_s : array_like, shape (L,) or scalar
        Time per active neuron on the GPU and on one DIMM (s), at the batch size of the trace.
    sync_s : float
        One GPU–DIMM synchronisation (s).
    gpu_holds_neurons : array_like of bool, shape (G, T, L) or broadcastable
        Whether the layer has GPU neurons (then it pays two synchronisations, Eq. 3).

    Returns
    -------
    ndarray, shape (G, T)

    Notes
    -----
    Eq. 1–5 of the paper evaluated on the realised activity instead of frequencies:
    :math:`\\sum_l \\max(T^{GPU}_l n^{GPU}_{tl} + 2T_{sync},\\ T^{DIMM}_l \\max_j n_{tlj})`.
    """
    ga = np.asarray(gpu_active, dtype=np.float64)
    ld = np.asarray(loads, dtype=np.float64)
    gpu = ga * np.asarray(gpu_neuron_s, dtype=float) + 2.0 * sync_s * np.asarray(
        gpu_holds_neurons, dtype=float)
    dimm = ld.max(axis=-1) * np.asarray(dimm_neuron_s, dtype=float)
    return np.asarray(np.maximum(gpu, dimm).sum(axis=-1))


# ---------------------------------------------------------------------------------------------
# Online hot/cold adjustment (the predictor's two halves) and the Fig. 13 ablation
# ---------------------------------------------------------------------------------------------

#: Predictor constants of §IV-C, taken from `hermes_model.predictor` (one definition of the
#: predictor): state +4 on a firing, -1 otherwise, 4 bits; hot threshold T_h; rule s1 + λ s2 > T.
_PREDICTOR: Final = predictor.PredictorConfig()
STATE_MAX: Final = _PREDICTOR.state_max
STATE_UP: Final = _PREDICTOR.step_up
STATE_DOWN: Final = _PREDICTOR.step_down
HOT_THRESHOLD: Final = _PREDICTOR.hot_threshold
LAMBDA: Final = _PREDICTOR.lam
PREDICT_THRESHOLD: Final = _PREDICTOR.threshold

VARIANTS: Final = ("Hermes-random", "Hermes-partition", "Hermes-token-adjustment",
                   "Hermes-layer-adjustment", "Hermes-adjustment", "Hermes")
"""The six bars of Fig. 13, in the paper's order."""


def initial_state(freq: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """4-bit state after prefill from a neuron's prefill frequency (`predictor.initial_states`:
    16 stages, frequency < 2 % → 0, > 90 % → 15)."""
    return predictor.initial_states(freq, _PREDICTOR).astype(np.int64)


def swaps_per_projection(projection_s: float, neuron_bytes: float, link: LinkSpec) -> int:
    """Neurons the host link copies into GPU memory during one projection (count): one batched
    copy, ``(t_proj − latency) / (bytes / bandwidth)`` (§IV-C: the swap hides in the projection)."""
    per = neuron_bytes / link.achievable_bandwidth_bytes_per_s
    return max(int(np.floor((projection_s - link.latency_s) / per)), 0)


def _swap(hot: BoolArray, score: npt.NDArray[np.int64], want: BoolArray, k: int) -> int:
    """Swap, per row of (R, N), up to k wanted cold neurons of highest score with the hot
    neurons of lowest score, pairwise while the newcomer scores higher. In place; returns swaps."""
    if k <= 0:
        return 0
    n = hot.shape[1]
    big = np.int64(1 << 20)
    cand_key = np.where(want & ~hot, score, -big)            # best newcomers first
    evict_key = np.where(hot, score, big)                     # weakest residents first
    kk = min(k, n - 1)
    ci = np.argpartition(-cand_key, kk, axis=1)[:, :kk]
    ei = np.argpartition(evict_key, kk, axis=1)[:, :kk]
    cv = np.take_along_axis(cand_key, ci, axis=1)
    ev = np.take_along_axis(evict_key, ei, axis=1)
    co, eo = np.argsort(-cv, axis=1), np.argsort(ev, axis=1)
    ci, cv = np.take_along_axis(ci, co, axis=1), np.take_along_axis(cv, co, axis=1)
    ei, ev = np.take_along_axis(ei, eo, axis=1), np.take_along_axis(ev, eo, axis=1)
    ok = (cv > ev) & (cv > -big) & (ev < big)
    rows = np.broadcast_to(np.arange(hot.shape[0])[:, None], ok.shape)
    hot[rows[ok], ci[ok]] = True
    hot[rows[ok], ei[ok]] = False
    return int(ok.sum())


@dataclass(frozen=True, slots=True, kw_only=True)
class HotSchedule:
    """What the GPU computes at each step under a hot/cold policy.

    Attributes
    ----------
    gpu_active : ndarray of int, shape (G, T, L)
        Active neurons computed on the GPU.
    cold_active : ndarray of bool, shape (G, T, L, N)
        Active neurons computed on their DIMM.
    swaps : ndarray of int, shape (G, T, L)
        Neurons copied into GPU memory before the step (during the projection).
    """

    gpu_active: IntArray
    cold_active: BoolArray
    swaps: IntArray


def adjust_hot(active: npt.ArrayLike, hot0: npt.ArrayLike, state0: npt.ArrayLike,
               parents: npt.ArrayLike | None, *, token_half: bool, layer_half: bool,
               swaps_per_step: int) -> HotSchedule:
    """Online hot/cold adjustment (§IV-C) with either or both predictor halves.

    Parameters
    ----------
    active : array_like of bool, shape (G, T, L, N)
        Neurons that fire at each decode step (the union over a batch).
    hot0 : array_like of bool, shape (L, N)
        GPU-resident neurons at the start (the offline partition's); their count per layer is
        the GPU memory and stays fixed.
    state0 : array_like of int, shape (G, L, N)
        States after prefill (:func:`initial_state`).
    parents : array_like of int, shape (L, N, 2), optional
        Top-2 correlated neurons of the previous layer (-1: none); needed with `layer_half`.
    token_half : bool
        Update the state after each step (+4 firing, −1 not) and bring in neurons whose state
        exceeds T_h = 10.
    layer_half : bool
        Add λ·s2 (s2: how many of the neuron's two parents fired at this step in the previous
        layer) and bring in neurons the rule s1 + λ s2 > 15 predicts to fire now.
    swaps_per_step : int
        Neurons per layer the GPU can receive during one projection (:func:`swaps_per_projection`).

    Returns
    -------
    HotSchedule

    Notes
    -----
    Before each step and layer, newcomers (wanted by either enabled rule, not resident) replace
    the residents of lowest score, one for one, while the newcomer's score (s1, plus λ s2 with
    the layer half) is higher. With neither half the hot set stays ``hot0``. Timing assumes the
    predictor is exact about which neurons fire (only the placement differs between variants).
    """
    a = np.asarray(active, dtype=bool)
    g, t, nl, n = a.shape
    hot = np.array(np.broadcast_to(np.asarray(hot0, dtype=bool), (g, nl, n))).reshape(g * nl, n)
    s1 = np.array(np.broadcast_to(np.asarray(state0, dtype=np.int64), (g, nl, n)))
    par = None
    if layer_half:
        if parents is None:
            raise ValueError("layer_half needs the parents table")
        par = np.asarray(parents, dtype=np.int64)
        if par.shape != (nl, n, 2):
            raise ValueError(f"parents must have shape ({nl}, {n}, 2), got {par.shape}")
    gpu_active = np.zeros((g, t, nl), dtype=np.int64)
    cold = np.empty_like(a)
    swaps = np.zeros((g, t, nl), dtype=np.int64)
    for step in range(t):
        at = a[:, step]                                           # (G, L, N)
        score = s1.copy()
        want = s1 > HOT_THRESHOLD if token_half else np.zeros_like(at)
        if par is not None:
            s2 = np.zeros((g, nl, n), dtype=np.int64)
            for layer in range(1, nl):
                p = par[layer]
                has = p >= 0
                prev = at[:, layer - 1]
                s2[:, layer] = (np.where(has[:, 0], prev[:, np.maximum(p[:, 0], 0)], False)
                                .astype(np.int64)
                                + np.where(has[:, 1], prev[:, np.maximum(p[:, 1], 0)], False))
            score = score + LAMBDA * s2
            want = want | (score > PREDICT_THRESHOLD)
        if token_half or layer_half:
            prev_hot = hot.copy()
            _swap(hot, score.reshape(g * nl, n), want.reshape(g * nl, n), swaps_per_step)
            swaps[:, step] = (hot & ~prev_hot).sum(axis=1).reshape(g, nl)
        h = hot.reshape(g, nl, n)
        gpu_active[:, step] = (at & h).sum(axis=-1)
        cold[:, step] = at & ~h
        if token_half:
            s1 = np.clip(s1 + np.where(at, STATE_UP, -STATE_DOWN), 0, STATE_MAX)
    return HotSchedule(gpu_active=gpu_active, cold_active=cold, swaps=swaps)


# ---------------------------------------------------------------------------------------------
# §III-B motivation: how stable the prefill's hot set is, and a fixed vs an oracle partition
# ---------------------------------------------------------------------------------------------


def prefill_hot_set(prefill_freq: npt.ArrayLike, gpu_neurons: npt.ArrayLike, *,
                    tie_break: npt.ArrayLike | None = None) -> BoolArray:
    """The GPU set a partition fixed after prefill holds: per run and layer, the `gpu_neurons`
    neurons of highest prefill frequency (ties by `tie_break`, e.g. the offline frequency,
    then by position).

    Parameters
    ----------
    prefill_freq : array_like, shape (G, L, N)
        Activation frequency of each neuron over the run's prompt.
    gpu_neurons : array_like of int, shape (L,)
        Neurons per layer that fit the GPU (k_l).
    tie_break : array_like, shape (L, N) or (G, L, N), optional

    Returns
    -------
    ndarray of bool, shape (G, L, N)
    """
    f = np.asarray(prefill_freq, dtype=np.float64)
    if f.ndim != 3:
        raise ValueError(f"prefill_freq must have shape (G, L, N), got {f.shape}")
    k = np.broadcast_to(np.asarray(gpu_neurons, dtype=np.int64), (f.shape[1],))
    if np.any(k < 0) or np.any(k > f.shape[2]):
        raise ValueError(f"gpu_neurons must lie in [0, {f.shape[2]}], got {k}")
    tb = np.zeros(f.shape) if tie_break is None else np.broadcast_to(
        np.asarray(tie_break, dtype=np.float64), f.shape)
    order = np.lexsort((tb, f), axis=-1)[..., ::-1]          # descending: f, then tie_break
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(f.shape[2])[None, None, :], axis=-1)
    return np.asarray(rank < k[None, :, None])


@dataclass(frozen=True, slots=True, kw_only=True)
class HotFlips:
    """Which initially-hot neurons change status during decode (:func:`hot_flips`).

    Attributes
    ----------
    initially_hot, flipped : ndarray of int, shape (G, L)
        Neurons hot after prefill (state > T_h), and those of them whose state falls to T_h or
        below at least once during decode.
    """

    initially_hot: IntArray
    flipped: IntArray

    @property
    def share(self) -> float:
        """Flipped over initially hot, summed over runs and layers (NaN if none is hot)."""
        n = int(self.initially_hot.sum())
        return float(self.flipped.sum() / n) if n else float("nan")


def hot_flips(decode: npt.ArrayLike, state0: npt.ArrayLike, *,
              among: npt.ArrayLike | None = None,
              hot_threshold: int = HOT_THRESHOLD) -> HotFlips:
    """Share of the neurons hot after prefill whose hot/cold status flips during decode.

    A neuron is hot while its 4-bit predictor state exceeds T_h (§IV-C: +4 on a firing, −1
    otherwise, clipped to [0, 15]). Initially hot: ``state0 > T_h`` (and in `among`, if given,
    e.g. the GPU set of a partition fixed after prefill). Flipped: its state, updated with each
    decode step's activity, is ``<= T_h`` after at least one step.

    Parameters
    ----------
    decode : array_like of bool, shape (G, T, L, N)
    state0 : array_like of int, shape (G, L, N) or (L, N)
        States after prefill (:func:`initial_state` of the prefill frequency).
    among : array_like of bool, shape (G, L, N) or (L, N), optional
        Count only these neurons (e.g. :func:`prefill_hot_set`).
    hot_threshold : int

    Returns
    -------
    HotFlips

    Notes
    -----
    A hot neuron silent for ``s0 − T_h`` consecutive steps flips (15 → 10 in five); one that
    fires at every step never does.
    """
    a = np.asarray(decode, dtype=bool)
    g, t, nl, n = a.shape
    s = np.array(np.broadcast_to(np.asarray(state0, dtype=np.int64), (g, nl, n)))
    hot0 = s > hot_threshold
    if among is not None:
        hot0 &= np.broadcast_to(np.asarray(among, dtype=bool), hot0.shape)
    off = np.zeros_like(hot0)
    for step in range(t):
        s = np.clip(s + np.where(a[:, step], STATE_UP, -STATE_DOWN), 0, STATE_MAX)
        off |= s <= hot_threshold
    return HotFlips(initially_hot=hot0.sum(axis=-1).astype(np.int64),
                    flipped=(hot0 & off).sum(axis=-1).astype(np.int64))


def oracle_mlp_latency_s(n_active: npt.ArrayLike, gpu_neurons: npt.ArrayLike, *, n_dimms: int,
                         gpu_neuron_s: npt.ArrayLike, dimm_neuron_s: npt.ArrayLike,
                         sync_s: float) -> FloatArray:
    """MLP-block latency of each step under a per-token oracle partition (s).

    The oracle knows each step's active set: per layer it computes ``n_g <= min(A, k_l)`` of the
    A active neurons on the GPU (k_l: the GPU's neurons, the same memory as the fixed partition)
    and spreads the rest evenly over the DIMMs (a fluid load, A − n_g over D), choosing n_g to
    minimise the layer's time
    :math:`\\max(T^{GPU} n_g + 2T_{sync}[n_g > 0],\\ T^{DIMM} (A - n_g)/D)`.

    Parameters
    ----------
    n_active : array_like of int, shape (G, T, L)
        Active neurons per step and layer.
    gpu_neurons : array_like of int, shape (L,)
    n_dimms : int
    gpu_neuron_s, dimm_neuron_s : array_like, shape (L,) or scalar
    sync_s : float

    Returns
    -------
    ndarray, shape (G, T)

    Notes
    -----
    Any placement with ``n_g`` GPU neurons has a busiest DIMM of at least (A − n_g)/D, so no
    partition with the same GPU memory is faster (:func:`mlp_block_latency_s` of a fixed one is
    never below this). For n_g ≥ 1 the GPU side rises and the DIMM side falls linearly, so the
    best integer is the floor or ceiling of their crossing
    :math:`n^* = (T^{DIMM}A/D - 2T_{sync}) / (T^{GPU} + T^{DIMM}/D)`, clipped; n_g = 0 (no
    synchronisation) is the other candidate.
    """
    _check_dimms(n_dimms)
    a = np.asarray(n_active, dtype=np.float64)
    tg = np.asarray(gpu_neuron_s, dtype=np.float64)
    td = np.asarray(dimm_neuron_s, dtype=np.float64)
    cap = np.minimum(a, np.asarray(gpu_neurons, dtype=np.float64))
    cross = (td * a / n_dimms - 2.0 * sync_s) / (tg + td / n_dimms)

    def cost(ng: FloatArray) -> FloatArray:
        return np.maximum(tg * ng + 2.0 * sync_s * (ng > 0), td * (a - ng) / n_dimms)

    best = cost(np.zeros_like(a))
    for cand in (np.floor(cross), np.ceil(cross)):
        ng = np.clip(cand, np.minimum(1.0, cap), cap)
        best = np.minimum(best, cost(ng))
    return np.asarray(best.sum(axis=-1))


@dataclass(frozen=True, eq=False, kw_only=True)
class CaseSetup:
    """A model on a system at one batch size, replayed on `n_layers_sim` generated layers.

    Attributes
    ----------
    model_slug : str
    batch, n_dimms, n_layers_model : int
    prefill, decode : ndarray of bool, shapes (G, P, L, N) and (G, T, L, N)
        Batched (union) activity of the prompt and of the generated tokens.
    offline_freq : ndarray, shape (L, N)
        Population frequency of a batch step, ``1 − (1 − f)^b``: the offline profile.
    hot0 : ndarray of bool, shape (L, N)
        The offline partition's GPU neurons (`partition.solve_fast`).
    parents : ndarray of int, shape (L, N, 2)
        The generator's two parents of each coupled neuron (-1: none).
    gpu_neuron_s, dimm_neuron_s, sync_s, projection_s, neuron_bytes : float
        Per-neuron times at this batch (s), one synchronisation (s), one layer's projection
        (s), one MLP neuron (B).
    swaps_per_step, moves_per_pair : int
        Bounds of the online adjustment (host link) and of the remap (DIMM-link) per layer.
    """

    model_slug: str
    batch: int
    n_dimms: int
    n_layers_model: int
    prefill: BoolArray
    decode: BoolArray
    offline_freq: FloatArray
    hot0: BoolArray
    parents: IntArray
    gpu_neuron_s: float
    dimm_neuron_s: float
    sync_s: float
    projection_s: float
    neuron_bytes: float
    swaps_per_step: int
    moves_per_pair: int
    dimm_capacity_bytes: float


def make_case(model: ModelSpec, system: SystemSpec, targets: object, *, batch: int,
              rng: np.random.Generator, n_layers_sim: int = 4, n_sequences: int = 16,
              prefill_tokens: int = 128, decode_tokens: int = 128) -> CaseSetup:
    """Generate a trace and solve the offline partition for one model, system and batch size.

    Parameters
    ----------
    model : ModelSpec
    system : SystemSpec
    targets : sparsity.ModelTargets
        The sparsity generator's targets of the model (groups ``qkv`` and ``mlp``).
    batch : int
    rng : numpy.random.Generator
    n_layers_sim : int
        MLP layers generated and replayed (the generator's layers are statistically alike, so
        per-layer means carry over; latencies are scaled by ``n_layers / n_layers_sim``).
    n_sequences : int
        Sequences generated (a multiple of `batch`); each is a prompt then its generation.
    prefill_tokens, decode_tokens : int

    Notes
    -----
    The GPU budget is the whole model's (`partition.gpu_neuron_budget_bytes`) times
    ``n_layers_sim / n_layers``, and the partition is solved over the QKV and MLP neurons of the
    replayed layers, so the MLP blocks get the share of GPU memory the full solve gives them.
    """
    from dataclasses import replace

    from hermes_model import partition, shapes, sparsity

    groups = {g.name: g for g in targets.groups}  # type: ignore[attr-defined]
    mlp = groups["mlp"]
    nl = n_layers_sim
    tm = sparsity.build_trace_model([mlp], nl, targets.coupled_share, rng)  # type: ignore[attr-defined]
    tr = sparsity.generate_trace(tm, n_sequences, rng, prefill_tokens + decode_tokens)
    n = tm.n_neurons
    act = tr.active.reshape(n_sequences, prefill_tokens + decode_tokens, nl, n)
    flat_pre = act[:, :prefill_tokens].reshape(-1, nl, n)
    flat_dec = act[:, prefill_tokens:].reshape(-1, nl, n)
    pre = batched_activity(flat_pre, n_sequences, batch)
    dec = batched_activity(flat_dec, n_sequences, batch)
    f = tm.frequencies
    qkv_freq = partition.model_frequencies(model, targets)[1][:nl]
    sub = replace(model, n_layers=nl)
    budget = partition.gpu_neuron_budget_bytes(model, system) * nl / model.n_layers
    problem = partition.model_problem(sub, system, f, qkv_freq, batch=batch,
                                      gpu_budget_bytes=budget)
    sol = partition.solve_fast(problem)
    is_mlp = problem.layer % 2 == 1
    hot0 = (sol.assignment.gpu_count[is_mlp] > 0).reshape(nl, n)
    par = np.full((nl, n, 2), -1, dtype=np.int64)
    for layer in range(1, nl):
        if tm.n_coupled:
            children, ps = tm.parents(layer)
            par[layer, children] = ps
    tg, td = partition.neuron_times_s(model, system, "mlp", batch=batch)
    proj = projection_time_s(model, system, batch=batch)
    nb = shapes.neuron_bytes(model, "mlp")
    move_s = float(ndp.dimm_link_move(nb, system.dimm_link).time_s)
    return CaseSetup(
        model_slug=model.slug, batch=batch, n_dimms=system.n_dimms,
        n_layers_model=model.n_layers, prefill=pre, decode=dec,
        offline_freq=1.0 - (1.0 - f) ** batch, hot0=hot0, parents=par,
        gpu_neuron_s=tg, dimm_neuron_s=td,
        sync_s=partition.sync_time_s(model, system, batch=batch),
        projection_s=proj, neuron_bytes=nb,
        swaps_per_step=swaps_per_projection(proj, nb, system.host_link),
        moves_per_pair=moves_per_projection(proj, move_s),
        dimm_capacity_bytes=system.dimm.capacity_bytes)


def _latency_per_step_s(case: CaseSetup, gpu_active: IntArray, loads: IntArray,
                         hot_count: IntArray) -> float:
    """Mean MLP-block latency per step over the replayed layers, scaled to the whole model."""
    t = mlp_block_latency_s(gpu_active, loads, gpu_neuron_s=case.gpu_neuron_s,
                            dimm_neuron_s=case.dimm_neuron_s, sync_s=case.sync_s,
                            gpu_holds_neurons=hot_count > 0)
    return float(t.mean() * case.n_layers_model / case.decode.shape[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceResult:
    """Imbalance of the offline partition's cold neurons, static and remapped (one case).

    Attributes
    ----------
    static, remapped, hindsight : Imbalance
        Balanced static placement; Algorithm 1 on the previous window's counts; Algorithm 1 on
        the window's own counts (the paper's "window-optimal" mapping, an oracle).
    migration : MigrationCost
        Of the causal remap, over the replayed layers.
    n_layers_sim : int
    """

    static: Imbalance
    remapped: Imbalance
    hindsight: Imbalance
    migration: MigrationCost
    n_layers_sim: int


def balance_case(case: CaseSetup, system: SystemSpec) -> BalanceResult:
    """Static vs window-remapped imbalance of the partition's cold neurons (hot set fixed)."""
    cold = case.decode & ~case.hot0
    place = balanced_placement(case.offline_freq, case.n_dimms, hot=case.hot0)
    kw = {"max_moves_per_pair": case.moves_per_pair, "neuron_bytes": case.neuron_bytes,
          "capacity_bytes": case.dimm_capacity_bytes}
    static = simulate_windows(cold, place, case.n_dimms, remap=False)
    remapped = simulate_windows(cold, place, case.n_dimms, **kw)  # type: ignore[arg-type]
    oracle = simulate_windows(cold, place, case.n_dimms, hindsight=True, **kw)  # type: ignore[arg-type]
    mig = migration_cost(remapped, case.neuron_bytes, link=system.dimm_link, dimm=system.dimm,
                         host_overhead_s=system.host.kernel_overhead_s,
                         projection_s=case.projection_s)
    return BalanceResult(static=static.imbalance(), remapped=remapped.imbalance(),
                         hindsight=oracle.imbalance(), migration=mig,
                         n_layers_sim=case.decode.shape[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class AblationResult:
    """Fig. 13 for one case: MLP-block latency per token of each variant (s).

    Attributes
    ----------
    latency_s : Mapping of variant name → float
        Mean MLP-block latency per decode step, whole model (s).
    imbalance_static, imbalance_remapped : Imbalance
        Hermes-adjustment's static placement and Hermes' remapped one.
    swaps_per_token : float
        Neurons copied into GPU memory per step and layer (Hermes-adjustment).
    gpu_load_share : Mapping of variant name → float
        Share of the active neurons computed on the GPU.
    """

    latency_s: dict[str, float]
    imbalance_static: Imbalance
    imbalance_remapped: Imbalance
    swaps_per_token: float
    gpu_load_share: dict[str, float]


def ablation_case(case: CaseSetup, rng: np.random.Generator) -> AblationResult:
    """The six variants of Fig. 13 on one case (see `VARIANTS`).

    * Hermes-random: as many GPU neurons per layer as the partition, chosen at random; cold
      neurons on DIMMs at random (equal counts). Static.
    * Hermes-partition: the offline partition's GPU neurons; cold neurons balanced on offline
      frequencies (:func:`balanced_placement`). Static.
    * Hermes-token-adjustment / -layer-adjustment / -adjustment: :func:`adjust_hot` with the
      token half, the layer half, or both, from the partition; DIMM placement static.
    * Hermes: Hermes-adjustment plus Algorithm 1 every `WINDOW_TOKENS` steps.
    """
    dec, d = case.decode, case.n_dimms
    nl, n = dec.shape[2:]
    hot_count = case.hot0.sum(axis=1)
    hot_rand = np.zeros((nl, n), dtype=bool)
    for layer in range(nl):
        hot_rand[layer, rng.choice(n, size=int(hot_count[layer]), replace=False)] = True
    place_rand = random_placement(nl, n, d, rng)
    place = balanced_placement(case.offline_freq, d, hot=case.hot0)
    lat: dict[str, float] = {}
    share: dict[str, float] = {}
    total_active = dec.sum()

    def record(name: str, gpu_active: IntArray, loads: IntArray) -> None:
        lat[name] = _latency_per_step_s(case, gpu_active, loads, hot_count)
        share[name] = float(gpu_active.sum() / total_active) if total_active else 0.0

    for name, hot, pl in (("Hermes-random", hot_rand, place_rand),
                          ("Hermes-partition", case.hot0, place)):
        record(name, (dec & hot).sum(axis=-1), dimm_loads(dec & ~hot, pl, d))
    state0 = initial_state(case.prefill.mean(axis=1))
    halves = {"Hermes-token-adjustment": (True, False), "Hermes-layer-adjustment": (False, True),
              "Hermes-adjustment": (True, True)}
    both: HotSchedule | None = None
    for name, (tok, lay) in halves.items():
        hs = adjust_hot(dec, case.hot0, state0, case.parents, token_half=tok, layer_half=lay,
                        swaps_per_step=case.swaps_per_step)
        record(name, hs.gpu_active, dimm_loads(hs.cold_active, place, d))
        if tok and lay:
            both = hs
    assert both is not None
    static = simulate_windows(both.cold_active, place, d, remap=False)
    remapped = simulate_windows(both.cold_active, place, d, max_moves_per_pair=case.moves_per_pair,
                                neuron_bytes=case.neuron_bytes,
                                capacity_bytes=case.dimm_capacity_bytes)
    record("Hermes", both.gpu_active, remapped.loads)
    return AblationResult(latency_s=lat, imbalance_static=static.imbalance(),
                          imbalance_remapped=remapped.imbalance(),
                          swaps_per_token=float(both.swaps.mean()), gpu_load_share=share)


@dataclass(frozen=True, slots=True, kw_only=True)
class StabilityResult:
    """§III-B for one case: how the prefill's hot set holds up, and what fixing it costs.

    Attributes
    ----------
    flips : HotFlips
        The prefill-fixed GPU set (top-k_l by prefill frequency, state > T_h) and how many of
        its neurons' predictor state falls to T_h or below during decode (:func:`hot_flips`).
    state_flips : HotFlips
        The same over every neuron whose state after prefill exceeds T_h (not only the GPU's).
    topk_changed_share : float
        Of the prefill-fixed GPU set (top-k_l by prefill frequency), the share not among the
        top-k_l by the run's decode frequency.
    fixed_latency_s, oracle_latency_s : float
        Mean MLP-block latency per decode step, whole model (s): the prefill-fixed partition
        (cold neurons balanced over the DIMMs on the prefill frequencies) and the per-token
        oracle (:func:`oracle_mlp_latency_s`) with the same GPU memory.
    """

    flips: HotFlips
    state_flips: HotFlips
    topk_changed_share: float
    fixed_latency_s: float
    oracle_latency_s: float

    @property
    def fixed_over_oracle(self) -> float:
        """How many times slower the fixed partition is than the oracle."""
        return self.fixed_latency_s / self.oracle_latency_s


def stability_case(case: CaseSetup) -> StabilityResult:
    """The prefill-fixed partition against its decode (§III-B), on one case.

    The GPU holds, per run, the k_l neurons of highest prefill frequency (k_l: the offline
    partition's GPU neurons per layer, ties by the offline frequency) for every decode step;
    the remaining neurons sit on DIMMs balanced on the prefill frequencies
    (:func:`balanced_placement`). Its MLP-block latency (:func:`mlp_block_latency_s`) is set
    against the per-token oracle's. The flip share uses the predictor's states
    (:func:`initial_state` of the prefill frequency, :func:`hot_flips`).
    """
    dec, d = case.decode, case.n_dimms
    g, _, nl, _ = dec.shape
    k = case.hot0.sum(axis=1)
    pre_f = case.prefill.mean(axis=1)                                  # (G, L, N)
    hot = prefill_hot_set(pre_f, k, tie_break=case.offline_freq)
    place = np.stack([balanced_placement(pre_f[i], d, hot=hot[i]) for i in range(g)])
    gpu_active = (dec & hot[:, None]).sum(axis=-1)
    loads = dimm_loads(dec & ~hot[:, None], place, d)
    scale = case.n_layers_model / nl
    fixed = mlp_block_latency_s(gpu_active, loads, gpu_neuron_s=case.gpu_neuron_s,
                                dimm_neuron_s=case.dimm_neuron_s, sync_s=case.sync_s,
                                gpu_holds_neurons=k > 0)
    oracle = oracle_mlp_latency_s(dec.sum(axis=-1), k, n_dimms=d, gpu_neuron_s=case.gpu_neuron_s,
                                  dimm_neuron_s=case.dimm_neuron_s, sync_s=case.sync_s)
    dec_hot = prefill_hot_set(dec.mean(axis=1), k, tie_break=case.offline_freq)
    changed = float((hot & ~dec_hot).sum() / max(int(hot.sum()), 1))
    state0 = initial_state(pre_f)
    return StabilityResult(flips=hot_flips(dec, state0, among=hot),
                           state_flips=hot_flips(dec, state0), topk_changed_share=changed,
                           fixed_latency_s=float(fixed.mean() * scale),
                           oracle_latency_s=float(oracle.mean() * scale))


# ------------------------------------------------------------------------------ the chapter's text


def _sig(x: float, digits: int = 4) -> float:
    """`x` to `digits` significant digits (as `plotting.rounded`, without importing plotting)."""
    return float(f"{x:.{digits}g}")


def remap_sentence(static: Imbalance, remapped: Imbalance, hindsight: Imbalance,
                   n_dimms: int) -> str:
    """What remapping on the previous window does to the window imbalance, in one sentence.

    With one DIMM there is nothing to balance; where the hindsight oracle gains nothing over the
    static placement, no share of its gain is quoted (it would be 0 / 0).
    """
    if n_dimms == 1:
        return ("With one DIMM there is nothing to balance: every imbalance is 1, and "
                "Algorithm 1 has no pair of DIMMs to remap.")
    s, r = _sig(static.window), _sig(remapped.window)
    verb = "lowers" if r < s else "raises" if r > s else "leaves"
    to = "at" if r == s else "to"
    text = (f"Remapping on the previous window {verb} the imbalance from {s:.3f} {to} {r:.3f} "
            f"(per token from {_sig(static.per_token):.3f} to {_sig(remapped.per_token):.3f})")
    gain = static.window - hindsight.window
    if gain > 0:
        share = _sig(100 * (static.window - remapped.window) / gain, 3)
        return f"{text}, {share:.0f} % of what the hindsight oracle gets."
    return f"{text}, and the hindsight oracle does no better than the static placement."


def migration_text(cost: MigrationCost, scale: float, n_dimms: int) -> str:
    """What the remap's moves cost per generated token over the whole model, over DIMM-link
    and through the host; says so where nothing moves. `cost` is per decode step of the replayed
    layers, so `scale` = model layers / replayed layers / the batch (a step of b sequences
    generates b tokens)."""
    if cost.bytes_per_step <= 0:
        return ("With one DIMM nothing moves, over DIMM-link or through the host" if n_dimms == 1
                else "The remap moves no neuron here, so neither path is used")
    link_us, host_us = (_sig(v * scale / 1e-6) for v in (cost.link_s_per_step,
                                                           cost.host_s_per_step))
    exposed_us = _sig(cost.link_exposed_s_per_step * scale / 1e-6)
    hidden = ("all of it inside the projections" if cost.link_exposed_s_per_step <= 0
              else f"{exposed_us:.0f} µs of it beyond the projections")
    return (f"Over the whole model the remap moves {_sig(cost.bytes_per_step * scale / 1e3):,.0f} "
            f"kB per generated token. Over DIMM-link that takes {link_us:.0f} µs of bridge time "
            f"per token, {hidden}, for {_sig(cost.link_energy_j_per_step * scale * 1e6):.3g} µJ; "
            f"through the host it would take {host_us:,.0f} µs, "
            f"{_sig(cost.host_s_per_step / cost.link_s_per_step):.0f}× longer")


def batch_divisors(n_sequences: int) -> list[int]:
    """The batch sizes that split `n_sequences` sequences into whole batches."""
    return [b for b in range(1, n_sequences + 1) if n_sequences % b == 0]
