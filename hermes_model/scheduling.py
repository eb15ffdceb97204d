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

from hermes_model import ndp, roofline
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


def batched_activity(active: npt.ArrayLike, n_sequences: int, batch_size: int) -> BoolArray:
    """Group sequences into batches and take, at each step, the union of their active sets.

    Parameters
    ----------
    active : array_like of bool, shape (S · T, L, N)
        Tokens of each sequence consecutive, all sequences of equal length T.
    n_sequences : int
        S; must be a multiple of `batch_size`.
    batch_size : int

    Returns
    -------
    ndarray of bool, shape (S / b, T, L, N)
        A neuron is computed once per step if any sequence of the batch needs it (its weights
        are read once and serve every sequence).
    """
    a = np.asarray(active, dtype=bool)
    if batch_size < 1 or n_sequences % batch_size or a.shape[0] % n_sequences:
        raise ValueError(f"need n_sequences ({n_sequences}) a multiple of batch_size "
                         f"({batch_size}) and tokens ({a.shape[0]}) a multiple of n_sequences")
    t = a.shape[0] // n_sequences
    a = a.reshape(n_sequences // batch_size, batch_size, t, *a.shape[1:])
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
        Neurons moved within each DIMM pair at the start of each window (0 for window 0).
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


def projection_time_s(model: ModelSpec, system: SystemSpec, *, batch_size: int = 1,
                      dtype: str = "fp16") -> float:
    """GPU time of one layer's attention output projection (s): the window in which the DIMMs
    are idle and Hermes remaps (§IV-A, Fig. 6a). Roofline of a (b × h·d_head) by
    (h·d_head × d_model) product at the GPU's achievable rates."""
    t = roofline.matmul_time(system.gpu, batch_size, model.d_model, model.n_heads * model.head_dim,
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
