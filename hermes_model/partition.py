"""Hermes' offline neuron partition (§IV-B, Eq. 1–7): a fast structured solver and a reference MILP.

The problem
-----------
A *layer* here is one sparse FC block of the paper's Eq. 1 (a QKV block or an MLP block: each has
its own synchronisation). Neuron *i* of layer *l* fires with frequency :math:`f_i` and is placed
on the GPU or on one of *D* NDP-DIMMs (binary :math:`x_{il}^u`, one unit per neuron):

.. math::

   \\min \\sum_l \\max(T_{GPU\\text{-}l},\\, T_{DIMM\\text{-}l}) \\qquad (1)

   T_{DIMM\\text{-}l} = \\max_j T_l^{DIMM} \\sum_i f_i x_{il}^{dimm\\text{-}j} \\qquad (2, 5)

   T_{GPU\\text{-}l} = T_l^{GPU} \\sum_i f_i x_{il}^{GPU} + 2 T_{sync} \\qquad (3, 4)

   \\sum_{il} M_l x_{il}^{GPU} \\le S_{GPU}, \\qquad \\sum_{il} M_l x_{il}^{dimm\\text{-}j} \\le S_{dimm} \\qquad (6, 7)

The two synchronisations are charged only to a layer that has GPU neurons (a layer computed
entirely in the DIMMs exchanges nothing with the GPU). All neurons of a layer have the same size
:math:`M_l` and per-activation times :math:`T_l^{GPU}`, :math:`T_l^{DIMM}`.

An instance is a set of *classes*: ``count`` identical neurons of one layer with one frequency.
The full problem has one class per neuron; the MILP instances group each layer into 32
frequency buckets (:func:`bucket_problem`), with integer counts per class and unit.

Structure used by the fast solver, and what is proven
-----------------------------------------------------
Write :math:`F_l` for layer *l*'s total frequency, :math:`G` for the load its GPU neurons carry
and :math:`\\rho_l(G) = T_l^{GPU} G + 2T_{sync}` (rising), :math:`\\phi_l(G) = T_l^{DIMM}(F_l-G)/D`
(falling) for the two sides.

**Relaxation R.** Neurons are divisible and the DIMM side of a layer is charged its mean
:math:`\\phi_l` instead of its maximum; DIMM capacities are dropped. Every feasible assignment
maps to a feasible point of R of no larger cost (the max over DIMMs is at least the mean), so
the optimum of R is a lower bound, :func:`fluid_lower_bound`.

**Lemma 1 (exchange; within a layer the GPU holds the most frequent neurons).** In R, replace a
GPU set *S* of layer *l* by the fractional prefix *P* of the layer's neurons in decreasing
frequency that carries the same load :math:`G_S`. Exchange argument: while some GPU fraction
:math:`\\epsilon` of neuron *i* sits beside a DIMM fraction of a neuron *h* with
:math:`f_h > f_i`, move :math:`\\epsilon f_i / f_h` of *h* to the GPU and :math:`\\epsilon` of *i*
to the DIMMs. Loads on both sides are unchanged, so both terms of the layer cost are unchanged,
and GPU memory falls by :math:`\\epsilon M_l (1 - f_i/f_h) \\ge 0`. Repeating until no such pair
exists yields *P*. Hence some optimum of R uses prefixes, and a layer with GPU memory
:math:`m` can carry any load in :math:`[0, \\Gamma_l(m/M_l)]`, where :math:`\\Gamma_l(n)`, the
load of the top *n* neurons, is concave (a prefix sum of a decreasing sequence).

**Lemma 2 (per-layer cost is convex in its memory).** The layer's best cost with memory *m* is
:math:`c_l(m) = \\min_{0\\le G\\le\\Gamma_l(m/M_l)} \\max(\\rho_l(G)[G>0],\\ \\phi_l(G))`. If
:math:`2T_{sync} \\ge \\phi_l(0)` no GPU load helps and :math:`c_l \\equiv \\phi_l(0)`. Otherwise
:math:`\\phi_l > \\rho_l` near :math:`G=0`, so the step of the synchronisation at zero is never
felt, and the optimum is :math:`G = \\min(\\Gamma_l(m/M_l), G_l^*)` with the crossing
:math:`G_l^* = (T_l^{DIMM}F_l/D - 2T_{sync})/(T_l^{GPU} + T_l^{DIMM}/D)`; then
:math:`c_l(m) = \\phi_l(\\min(\\Gamma_l(m/M_l), G_l^*))`, an affine decreasing function of a
concave function, capped: convex and non-increasing in *m*.

**Theorem (budget split).** R is a separable convex resource allocation, so filling the GPU
budget in decreasing order of marginal gain per byte, :math:`T_l^{DIMM} f_i / (D M_l)`, up to
each layer's crossing is optimal for R (water-filling; equivalently, a Lagrange multiplier on
the budget). :func:`fluid_lower_bound` evaluates this optimum exactly.

**The discrete solution** (:func:`solve_fast`) takes that order with whole neurons (the neuron
at a crossing only if it lowers the layer's cost, the last neuron only if it fits), then
balances each layer's DIMM neurons largest frequency first: in rounds of D (the k-th largest
neuron of a round to the k-th least-loaded DIMM), then, for each layer's last ``LPT_TAIL``
(smallest) neurons, one at a time to the least-loaded DIMM (LPT). Balancing is multiway number
partitioning (NP-hard). Where the busiest DIMM's last neuron came from that tail, its load is at
most :math:`\\text{mean} + (1 - 1/D)\\,p`, *p* that neuron's load (the list-scheduling
argument). The rounds carry no such bound, and Graham's 4/3 of the optimum, which holds for exact
LPT, is not established for the whole. **No optimality is claimed for the discrete problem**:
each solution carries its certified gap to the lower bound of R, ``(objective - lower bound) /
lower bound``; the MILP's dual bound gives a second certificate on the bucketed instances.

References
----------
Hermes (HPCA 2025) §IV-B, Eq. 1–7 and Table I; R. L. Graham, "Bounds on multiprocessing timing
anomalies", SIAM J. Appl. Math. 17 (1969); T. Ibaraki and N. Katoh, *Resource Allocation
Problems* (MIT Press, 1988), ch. 2 (greedy for separable convex allocation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hermes_model import roofline, shapes
from hermes_model import units as u
from hermes_model.shapes import ModelSpec
from hermes_model.specs import SystemSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# ---------------------------------------------------------------------------------------------
# Instances and results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionProblem:
    """One instance of Eq. 1–7 over classes of identical neurons.

    Attributes
    ----------
    layer : ndarray of int, shape (n,)
        Layer (FC block) of each class, in ``0 .. n_layers - 1``.
    freq : ndarray of float, shape (n,)
        Activation frequency of each neuron of the class, in [0, 1].
    count : ndarray of int, shape (n,)
        Neurons in the class (1 for the per-neuron problem).
    gpu_neuron_s, dimm_neuron_s : ndarray of float, shape (n_layers,)
        :math:`T_l^{GPU}`, :math:`T_l^{DIMM}`: time to compute one activated neuron of the layer
        on the GPU and on one DIMM (s).
    neuron_bytes : ndarray of float, shape (n_layers,)
        :math:`M_l`, memory of one neuron (bytes).
    sync_s : float
        :math:`T_{sync}`, one GPU-DIMM synchronisation (s); a layer with GPU neurons pays two.
    gpu_budget_bytes : float
        :math:`S_{GPU}`, GPU memory for neurons (bytes).
    dimm_budget_bytes : float
        :math:`S_{dimm}`, memory of each DIMM for neurons (bytes).
    n_dimms : int
        *D*, NDP-DIMMs.
    layer_names : tuple of str
        Optional labels of the layers (``"3.mlp"``).
    """

    layer: IntArray
    freq: FloatArray
    count: IntArray
    gpu_neuron_s: FloatArray
    dimm_neuron_s: FloatArray
    neuron_bytes: FloatArray
    sync_s: float
    gpu_budget_bytes: float
    dimm_budget_bytes: float
    n_dimms: int
    layer_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = self.freq.shape
        if self.layer.shape != n or self.count.shape != n or self.freq.ndim != 1:
            raise ValueError("layer, freq and count must be 1-D arrays of one length, got "
                             f"{self.layer.shape}, {self.freq.shape}, {self.count.shape}")
        n_layers = self.gpu_neuron_s.shape[0]
        for name in ("dimm_neuron_s", "neuron_bytes"):
            if getattr(self, name).shape != (n_layers,):
                raise ValueError(f"{name} must have shape ({n_layers},), got "
                                 f"{getattr(self, name).shape}")
        if n[0] and (self.layer.min() < 0 or self.layer.max() >= n_layers):
            raise ValueError(f"layer must be in [0, {n_layers}), got "
                             f"[{self.layer.min()}, {self.layer.max()}]")
        if np.any((self.freq < 0) | (self.freq > 1)):
            raise ValueError("freq must be in [0, 1]")
        if np.any(self.count < 0):
            raise ValueError("count must be >= 0")
        if np.any(self.gpu_neuron_s < 0) or np.any(self.dimm_neuron_s <= 0):
            raise ValueError("gpu_neuron_s must be >= 0 and dimm_neuron_s > 0")
        if np.any(self.neuron_bytes <= 0):
            raise ValueError("neuron_bytes must be > 0")
        if self.sync_s < 0 or self.gpu_budget_bytes < 0 or self.dimm_budget_bytes < 0:
            raise ValueError("sync_s, gpu_budget_bytes and dimm_budget_bytes must be >= 0, got "
                             f"{self.sync_s!r}, {self.gpu_budget_bytes!r}, "
                             f"{self.dimm_budget_bytes!r}")
        if not isinstance(self.n_dimms, int | np.integer) or self.n_dimms <= 0:
            raise ValueError(f"n_dimms must be a positive integer, got {self.n_dimms!r}")

    @property
    def n_layers(self) -> int:
        """Layers (FC blocks) of the instance."""
        return int(self.gpu_neuron_s.shape[0])

    @property
    def n_neurons(self) -> int:
        """Neurons of the instance (sum of the class counts)."""
        return int(self.count.sum())


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """How many neurons of each class sit on the GPU and on each DIMM.

    Attributes
    ----------
    gpu_count : ndarray of int, shape (n,)
    dimm_count : ndarray of int, shape (n_dimms, n)
        DIMM-major, so that each DIMM's row is contiguous.
    """

    gpu_count: IntArray
    dimm_count: npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionCost:
    """Eq. 1–7 evaluated for one assignment.

    Attributes
    ----------
    objective_s : float
        Eq. 1, the sum over layers of the slower side (s).
    layer_s, gpu_layer_s : ndarray, shape (n_layers,)
        Per layer: the slower side; the GPU side with its synchronisations (s).
    dimm_layer_s : ndarray, shape (n_layers, n_dimms)
        Per layer and DIMM (s).
    gpu_bytes : float
        GPU memory used by neurons (bytes).
    dimm_bytes : ndarray, shape (n_dimms,)
        Memory used on each DIMM (bytes).
    gpu_neuron_share, gpu_compute_share : float
        Share of the neurons on the GPU, and share of the expected activated-neuron load
        (Σ f) they carry.
    feasible : bool
        Whether every neuron is placed once and every capacity holds.
    """

    objective_s: float
    layer_s: FloatArray
    gpu_layer_s: FloatArray
    dimm_layer_s: FloatArray
    gpu_bytes: float
    dimm_bytes: FloatArray
    gpu_neuron_share: float
    gpu_compute_share: float
    feasible: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionSolution:
    """A solution of the fast solver with its certificate.

    Attributes
    ----------
    assignment : Assignment
    cost : PartitionCost
    lower_bound_s : float
        Optimum of relaxation R (:func:`fluid_lower_bound`), a lower bound on any assignment (s).
    """

    assignment: Assignment
    cost: PartitionCost
    lower_bound_s: float

    @property
    def gap(self) -> float:
        """Certified relative gap: (objective − lower bound) / lower bound."""
        return (self.cost.objective_s - self.lower_bound_s) / self.lower_bound_s


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _per_layer(problem: PartitionProblem, values: npt.ArrayLike) -> FloatArray:
    return np.bincount(problem.layer, weights=np.asarray(values, dtype=float),
                       minlength=problem.n_layers)


def evaluate(problem: PartitionProblem, assignment: Assignment, *,
             rtol: float = 1e-9) -> PartitionCost:
    """Evaluate Eq. 1–7 for an assignment.

    Parameters
    ----------
    problem : PartitionProblem
    assignment : Assignment
    rtol : float
        Relative tolerance of the capacity checks.

    Returns
    -------
    PartitionCost
    """
    p, a = problem, assignment
    g = np.asarray(a.gpu_count, dtype=np.int64)
    d = np.asarray(a.dimm_count)
    if g.shape != p.count.shape or d.shape != (p.n_dimms, p.count.size):
        raise ValueError(f"assignment shapes {g.shape}, {d.shape} do not match the problem "
                         f"({p.count.size} classes, {p.n_dimms} DIMMs)")
    gpu_load = _per_layer(p, p.freq * g)
    gpu_used = _per_layer(p, g) > 0
    gpu_layer = p.gpu_neuron_s * gpu_load + 2.0 * p.sync_s * gpu_used
    # The DIMM counts are sparse (a neuron of the per-neuron problem sits on one DIMM).
    jj, kk = np.nonzero(d)
    cnt = d[jj, kk].astype(np.float64)
    key = jj * p.n_layers + p.layer[kk]
    size = p.n_dimms * p.n_layers
    dimm_load = np.bincount(key, weights=p.freq[kk] * cnt, minlength=size)
    dimm_layer = (dimm_load.reshape(p.n_dimms, p.n_layers) * p.dimm_neuron_s).T
    dimm_bytes = np.bincount(key, weights=cnt, minlength=size).reshape(
        p.n_dimms, p.n_layers) @ p.neuron_bytes
    mem = p.neuron_bytes[p.layer]
    dimm_max = dimm_layer.max(axis=1) if p.n_dimms else np.zeros(p.n_layers)
    layer_s = np.maximum(gpu_layer, dimm_max)
    gpu_bytes = float(mem @ g)
    placed_once = bool(np.all(g >= 0) and np.all(d >= 0) and np.array_equal(g + d.sum(axis=0),
                                                                             p.count))
    feasible = (placed_once and gpu_bytes <= p.gpu_budget_bytes * (1 + rtol)
                and bool(np.all(dimm_bytes <= p.dimm_budget_bytes * (1 + rtol))))
    total_f = float(p.freq @ p.count)
    return PartitionCost(
        objective_s=float(layer_s.sum()), layer_s=layer_s, gpu_layer_s=gpu_layer,
        dimm_layer_s=dimm_layer, gpu_bytes=gpu_bytes, dimm_bytes=dimm_bytes,
        gpu_neuron_share=float(g.sum() / max(p.n_neurons, 1)),
        gpu_compute_share=float(p.freq @ g / total_f) if total_f > 0 else 0.0,
        feasible=feasible)


# ---------------------------------------------------------------------------------------------
# The fast solver
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sorted:
    """Classes sorted by layer, then by decreasing frequency, with the layers' crossings."""

    order: IntArray         # sorted position -> class index
    layer: IntArray
    freq: FloatArray
    count: IntArray
    excl_load: FloatArray   # load of the layer's classes before this one
    excl_count: IntArray    # neurons of the layer before this class
    total: FloatArray       # F_l
    crossing: FloatArray    # G_l^*, clipped at 0
    avail: FloatArray       # neurons of the class below the crossing (fractional), relaxation R
    density: FloatArray     # gain per byte of one neuron, T_l^DIMM f / (D M_l) (s/byte)
    rank: IntArray          # sorted positions with avail > 0, by decreasing density


def _layer_sort_order(p: PartitionProblem) -> IntArray:
    """Permutation grouping classes by layer, by decreasing frequency within a layer.

    Layers of equal size are sorted together as rows of a 2-D array (several times faster than
    one global sort of a composite key)."""
    n, nl = p.layer.size, p.n_layers
    contiguous = n == 0 or bool(np.all(p.layer[1:] >= p.layer[:-1]))
    if contiguous:
        by_layer = np.arange(n)
    else:
        key = p.layer.astype(np.uint16) if nl < 2**16 else p.layer
        by_layer = np.argsort(key, kind="stable")
    sizes = np.bincount(p.layer, minlength=nl)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    order = by_layer.copy()
    grouped = p.freq if contiguous else p.freq[by_layer]
    for size in np.unique(sizes[sizes > 1]):
        rows = np.flatnonzero(sizes == size)
        idx = starts[rows][:, None] + np.arange(size)
        perm = np.argsort(-grouped[idx], axis=1)
        order[idx] = by_layer[np.take_along_axis(idx, perm, axis=1)]
    return order


def _sorted(p: PartitionProblem) -> _Sorted:
    order = _layer_sort_order(p)
    lay, f, c = p.layer[order], p.freq[order], p.count[order]
    w = f * c
    cum_w, cum_c = np.cumsum(w), np.cumsum(c)
    starts = np.searchsorted(lay, np.arange(p.n_layers))
    base_w = np.concatenate([[0.0], cum_w])[starts]
    base_c = np.concatenate([[0], cum_c])[starts]
    excl_load = cum_w - w - base_w[lay]
    excl_count = cum_c - c - base_c[lay]
    total = np.bincount(lay, weights=w, minlength=p.n_layers)
    td_d = p.dimm_neuron_s / p.n_dimms
    crossing = np.maximum((td_d * total - 2.0 * p.sync_s) / (p.gpu_neuron_s + td_d), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        avail = np.where(f > 0, (crossing[lay] - excl_load) / f, 0.0)
    avail = np.clip(avail, 0.0, c)
    density = td_d[lay] * f / p.neuron_bytes[lay]
    pos = np.flatnonzero(avail > 0)
    rank = pos[np.argsort(-density[pos])]
    return _Sorted(order, lay, f, c, excl_load, excl_count.astype(np.int64), total, crossing,
                   avail, density, rank)


def _fluid_bound(p: PartitionProblem, s: _Sorted) -> float:
    r = s.rank
    mem = p.neuron_bytes[s.layer[r]]
    nbytes = s.avail[r] * mem
    before = np.cumsum(nbytes) - nbytes
    take = np.clip((p.gpu_budget_bytes - before) / mem, 0.0, s.avail[r])
    g_load = np.bincount(s.layer[r], weights=take * s.freq[r], minlength=p.n_layers)
    return float(np.sum(p.dimm_neuron_s * (s.total - g_load) / p.n_dimms))


def fluid_lower_bound(problem: PartitionProblem) -> float:
    """Optimum of relaxation R: a lower bound on Eq. 1 for every feasible assignment (s).

    Neurons are divisible, each layer's DIMM side is charged its mean, DIMM capacities are
    dropped; the optimum fills the GPU budget by decreasing gain per byte up to each layer's
    crossing (module docstring, Lemmas 1–2 and Theorem).
    """
    return _fluid_bound(problem, _sorted(problem))


def _gpu_counts(p: PartitionProblem, s: _Sorted) -> IntArray:
    """Whole neurons on the GPU per sorted class: greedy by gain per byte up to the crossings."""
    full = np.floor(s.avail + 1e-12).astype(np.int64)
    # Each layer whose crossing falls inside a class may take one more neuron: the straddling one
    # (the next in frequency order), or the cold neuron whose frequency best fills the rest up
    # to the crossing (then the layer is a prefix plus one). Kept only if it lowers the cost.
    idx = np.flatnonzero((full < s.count) & (s.avail > full) & (s.freq > 0))
    lay = s.layer[idx]
    load0 = s.excl_load[idx] + full[idx] * s.freq[idx]
    n0 = s.excl_count[idx] + full[idx]
    tg, td_d = p.gpu_neuron_s[lay], p.dimm_neuron_s[lay] / p.n_dimms

    def cost(load: FloatArray, used: npt.ArrayLike) -> FloatArray:
        return np.maximum(tg * load + 2 * p.sync_s * np.asarray(used),
                          td_d * (s.total[lay] - load))

    c0 = cost(load0, n0 > 0)
    # Sorted keys ascend (layer, then decreasing frequency): find where f falls below the rest.
    key = s.layer * 2.0 + (1.0 - s.freq)
    layer_end = np.searchsorted(s.layer, lay, side="right") - 1
    at_rest = np.searchsorted(key, lay * 2.0 + (1.0 - (s.crossing[lay] - load0)))
    best_class, best_cost = idx.copy(), cost(load0 + s.freq[idx], True)
    for cand in (at_rest - 1, at_rest):
        cand = np.clip(cand, idx, layer_end)
        spare = np.where(cand == idx, s.count[idx] - full[idx], s.count[cand])
        c1 = np.where(spare > 0, cost(load0 + s.freq[cand], True), np.inf)
        better = c1 < best_cost
        best_class, best_cost = np.where(better, cand, best_class), np.minimum(c1, best_cost)
    worth = best_cost < c0
    idx = best_class[worth]
    extra_density = ((c0 - best_cost) / p.neuron_bytes[lay])[worth]
    # Candidates in decreasing gain per byte: the whole neurons of each class below its layer's
    # crossing (s.rank), with the straddling neurons merged in after any tie (their gain never
    # exceeds that of their layer's earlier neurons, so each layer stays a prefix).
    reg = s.rank[full[s.rank] > 0]
    at = np.searchsorted(-s.density[reg], -extra_density, side="right")
    cand = np.insert(reg, at, idx)
    cand_count = np.insert(full[reg], at, np.ones(idx.size, dtype=np.int64))
    mem = p.neuron_bytes[s.layer[cand]]
    nbytes = cand_count * mem
    before = np.cumsum(nbytes) - nbytes
    take = np.clip(np.floor((p.gpu_budget_bytes - before) / mem + 1e-9), 0,
                   cand_count).astype(np.int64)
    cut = np.flatnonzero(take < cand_count)
    if cut.size:
        k = int(cut[0])
        take[k + 1:] = 0
        left = p.gpu_budget_bytes - float(before[k]) - take[k] * float(mem[k])
        # Whole later candidates that still fit the remainder (less than one neuron of the cut
        # class; a later candidate of the same layer never fits, so each layer stays a prefix).
        for j in range(k + 1, min(k + 1 + 4096, take.size)):
            fit = min(int(cand_count[j]), int(left // mem[j]))
            if fit > 0:
                take[j] = fit
                left -= fit * float(mem[j])
    gpu = np.bincount(cand, weights=take, minlength=s.count.size)
    return np.minimum(np.rint(gpu).astype(np.int64), s.count)


#: Neurons per layer balanced by exact LPT at the end of each layer's order (the smallest ones);
#: the larger ones before them go in rounds of D (largest of a round to the least-loaded DIMM).
LPT_TAIL = 2048


def _balance_lpt(p: PartitionProblem, s: _Sorted, cold: IntArray
                 ) -> tuple[npt.NDArray[np.int32], FloatArray, FloatArray]:
    """Balance each layer's DIMM neurons, vectorised across layers (sorted-class order).

    Neurons go in decreasing frequency: in rounds of D (the round's largest to the least-loaded
    DIMM), then the last `LPT_TAIL` of each layer one at a time to the least-loaded DIMM (LPT).
    Returns counts of shape (n_dimms, n_classes) in sorted order, and per layer and DIMM the
    time (s) and the neurons placed.
    """
    d, nl, n = p.n_dimms, p.n_layers, s.count.size
    item_class = np.repeat(np.arange(n), cold)
    item_layer = s.layer[item_class]
    per_layer = np.bincount(item_layer, minlength=nl)
    width = int(per_layer.max()) if per_layer.size else 0
    ends = np.cumsum(per_layer)
    # Right-align each layer's neurons so that every layer ends with its smallest ones.
    pos = np.arange(item_class.size) - ends[item_layer] + width
    loads = np.zeros((width, nl))
    loads[pos, item_layer] = s.freq[item_class] * p.dimm_neuron_s[item_layer]
    which = np.zeros((width, nl), dtype=np.int64)
    acc = np.zeros((nl, d))
    rows = np.arange(nl)[:, None]
    tail_from = max(0, width - LPT_TAIL)
    first = int(width - per_layer.max()) if per_layer.size else 0
    r0 = first
    while r0 + d <= tail_from:
        asc = np.argsort(acc, axis=1)
        acc[rows, asc] += loads[r0:r0 + d].T
        which[r0:r0 + d] = asc.T
        r0 += d
    flat = np.arange(nl)
    for r in range(r0, width):
        j = acc.argmin(axis=1)
        acc[flat, j] += loads[r]
        which[r] = j
    dimm_of = which[pos, item_layer]
    placed = np.bincount(item_layer * d + dimm_of, minlength=nl * d).reshape(nl, d)
    if item_class.size and np.all(cold <= 1):
        out = np.zeros((d, n), dtype=np.int32)
        out[dimm_of, item_class] = 1
        return out, acc, placed.astype(float)
    counts = np.bincount(dimm_of * n + item_class, minlength=d * n)
    return counts.reshape(d, n).astype(np.int32), acc, placed.astype(float)


def solve_fast(problem: PartitionProblem) -> PartitionSolution:
    """Fast solver: greedy GPU budget split over the layers' crossings, then the DIMMs balanced
    largest first (rounds of D, then LPT on each layer's smallest neurons).

    Parameters
    ----------
    problem : PartitionProblem

    Returns
    -------
    PartitionSolution
        The assignment, its cost, and the lower bound of relaxation R (its certificate).

    Notes
    -----
    See the module docstring: the budget split is optimal for relaxation R; whole neurons and
    LPT balancing make the discrete solution heuristic, with the gap reported.
    """
    p = problem
    s = _sorted(p)
    gpu_sorted = _gpu_counts(p, s)
    dimm_sorted, dimm_layer, placed = _balance_lpt(p, s, s.count - gpu_sorted)
    gpu = np.empty_like(gpu_sorted)
    gpu[s.order] = gpu_sorted
    dimm = np.empty_like(dimm_sorted)
    dimm[:, s.order] = dimm_sorted
    a = Assignment(gpu_count=gpu, dimm_count=dimm)
    # The cost from the solver's own sums (tests check it against `evaluate`, which recounts
    # from the assignment and is slower).
    gpu_load = np.bincount(s.layer, weights=s.freq * gpu_sorted, minlength=p.n_layers)
    gpu_n = np.bincount(s.layer, weights=gpu_sorted, minlength=p.n_layers)
    gpu_layer = p.gpu_neuron_s * gpu_load + 2.0 * p.sync_s * (gpu_n > 0)
    layer_s = np.maximum(gpu_layer, dimm_layer.max(axis=1))
    gpu_bytes = float(gpu_n @ p.neuron_bytes)
    dimm_bytes = placed.T @ p.neuron_bytes
    total_f = float(s.total.sum())
    cost = PartitionCost(
        objective_s=float(layer_s.sum()), layer_s=layer_s, gpu_layer_s=gpu_layer,
        dimm_layer_s=dimm_layer, gpu_bytes=gpu_bytes, dimm_bytes=dimm_bytes,
        gpu_neuron_share=float(gpu_n.sum() / max(p.n_neurons, 1)),
        gpu_compute_share=float(gpu_load.sum() / total_f) if total_f > 0 else 0.0,
        feasible=bool(gpu_bytes <= p.gpu_budget_bytes * (1 + 1e-9)
                      and np.all(dimm_bytes <= p.dimm_budget_bytes * (1 + 1e-9))))
    return PartitionSolution(assignment=a, cost=cost, lower_bound_s=_fluid_bound(p, s))


def time_unit(batch: int) -> str:
    """What the partition's objective is a time of: one token at batch 1, else one decode step
    of `batch` tokens (the per-neuron FLOP are the batch's, the frequencies per token).

    >>> time_unit(1), time_unit(16)
    ('per token', 'per decode step of 16 tokens')
    """
    return "per token" if batch == 1 else f"per decode step of {batch} tokens"


def objective_phrase(problem: PartitionProblem, cost: PartitionCost, batch: int = 1) -> str:
    """The chapter's sentence on a solution's time per decode step, N.P. where the neurons do
    not fit.

    ``"the sparse FC blocks take 160.9 ms per token"`` when `cost` is feasible (at `batch` > 1,
    ``"... ms per decode step of 16 tokens"``: the problem's neuron times are of the whole
    batch, :func:`time_unit`); otherwise it says why not (the neurons exceed the GPU's budget
    and the DIMMs together, or the solver's placement overfills a DIMM) and gives the time with
    the DIMMs' capacity ignored.
    """
    time = f"{cost.objective_s / u.MS:.4g} ms {time_unit(batch)}"
    if cost.feasible:
        return f"the sparse FC blocks take {time}"
    need = float(problem.count @ problem.neuron_bytes[problem.layer])
    dimms = problem.n_dimms * problem.dimm_budget_bytes
    if need > problem.gpu_budget_bytes + dimms:
        word = "one DIMM's" if problem.n_dimms == 1 else f"{problem.n_dimms} DIMMs'"
        why = (f"no placement fits (N.P.): its sparse neurons take {need / u.GB:.3g} GB, more "
               f"than the GPU's {problem.gpu_budget_bytes / u.GB:.3g} GB and the "
               f"{word} {dimms / u.GB:.3g} GB together")
    else:
        why = ("the fast solver's placement overfills a DIMM (it balances time, not memory), so "
               "it is not feasible")
    return f"{why}; with the DIMMs' capacity ignored the sparse FC blocks would take {time}"


# ---------------------------------------------------------------------------------------------
# Instances: bucketing, and the MILP
# ---------------------------------------------------------------------------------------------


def bucket_problem(problem: PartitionProblem, n_buckets: int = 32) -> PartitionProblem:
    """Group each layer's neurons into `n_buckets` equal-count frequency buckets.

    Neurons are sorted by frequency within their layer and cut into `n_buckets` groups of
    nearly equal count; a bucket's frequency is the mean of its neurons' (so each layer's total
    load is kept). The result is its own instance (the MILP's): its optimum is not the
    per-neuron optimum.
    """
    if n_buckets <= 0:
        raise ValueError(f"n_buckets must be positive, got {n_buckets!r}")
    p, s = problem, _sorted(problem)
    layers, freqs, counts = [], [], []
    for lay in range(p.n_layers):
        sel = s.layer == lay
        f = np.repeat(s.freq[sel], s.count[sel])
        if f.size == 0:
            continue
        edges = np.linspace(0, f.size, min(n_buckets, f.size) + 1).round().astype(np.int64)
        cnt = np.diff(edges)
        load = np.add.reduceat(f, edges[:-1])
        layers.append(np.full(cnt.size, lay))
        freqs.append(load / cnt)
        counts.append(cnt)
    return PartitionProblem(
        layer=np.concatenate(layers), freq=np.clip(np.concatenate(freqs), 0.0, 1.0),
        count=np.concatenate(counts), gpu_neuron_s=p.gpu_neuron_s,
        dimm_neuron_s=p.dimm_neuron_s, neuron_bytes=p.neuron_bytes, sync_s=p.sync_s,
        gpu_budget_bytes=p.gpu_budget_bytes, dimm_budget_bytes=p.dimm_budget_bytes,
        n_dimms=p.n_dimms, layer_names=p.layer_names)


@dataclass(frozen=True, slots=True, kw_only=True)
class MilpResult:
    """Outcome of the reference MILP (HiGHS through ``scipy.optimize.milp``).

    Attributes
    ----------
    status : int
        scipy's status: 0 optimal, 1 iteration or time limit, 2 infeasible, 3 unbounded, 4 other.
    message : str
    objective_s : float
        Best feasible objective found (s); nan if none.
    dual_bound_s : float
        Best dual bound HiGHS reports (``mip_dual_bound``), proven or not (s).
    assignment : Assignment or None
    """

    status: int
    message: str
    objective_s: float
    dual_bound_s: float
    assignment: Assignment | None = field(default=None, compare=False)


def solve_milp(problem: PartitionProblem, *, time_limit_s: float = 60.0,
               mip_rel_gap: float = 1e-4) -> MilpResult:
    """Solve Eq. 1–7 exactly (up to `mip_rel_gap`) as a MILP with integer counts per class.

    Variables: GPU count :math:`g_k` and DIMM counts :math:`d_{kj}` per class (integer), a layer
    time :math:`t_l` and a binary :math:`y_l` (the layer has GPU neurons). Constraints:
    :math:`g_k + \\sum_j d_{kj} = c_k`; :math:`g_k \\le c_k y_l` (per class, tighter than one
    big-M per layer); :math:`t_l \\ge T_l^{GPU}\\sum f_k g_k + 2T_{sync}y_l`;
    :math:`t_l \\ge T_l^{DIMM}\\sum f_k d_{kj}` for each *j*; the capacities (6, 7); and the
    hull cut :math:`t_l \\ge \\bar\\phi_l - (\\bar\\phi_l - 2T_{sync}) y_l + T_l^{GPU}\\sum f_k g_k`
    with :math:`\\bar\\phi_l = T_l^{DIMM}F_l/D` (valid at y = 0 and y = 1; it makes the LP
    relaxation charge the synchronisations instead of a fraction of them). Objective
    :math:`\\sum_l t_l`. Times are scaled to the all-DIMM mean layer time and bytes to the GPU
    budget for conditioning; results are in seconds.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    p = problem
    n, d, L = p.count.size, p.n_dimms, p.n_layers
    t_scale = float(np.mean(p.dimm_neuron_s * _per_layer(p, p.freq * p.count) / d)) or 1.0
    b_scale = max(p.gpu_budget_bytes, float(p.neuron_bytes.max()))
    # Variable layout: g (n) | d (n*d, class-major) | t (L) | y (L)
    ig, id0, it, iy = 0, n, n + n * d, n + n * d + L
    nvar = iy + L
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    vals: list[FloatArray] = []
    lo: list[FloatArray] = []
    hi: list[FloatArray] = []
    r = 0
    k = np.arange(n)

    def add(rr: npt.ArrayLike, cc: npt.ArrayLike, vv: npt.ArrayLike) -> None:
        rows.append(np.asarray(rr, dtype=np.int64))
        cols.append(np.asarray(cc, dtype=np.int64))
        vals.append(np.asarray(vv, dtype=float))

    # assignment: g_k + sum_j d_kj = c_k
    add(r + k, ig + k, np.ones(n))
    for j in range(d):
        add(r + k, id0 + k * d + j, np.ones(n))
    lo.append(p.count.astype(float))
    hi.append(p.count.astype(float))
    r += n
    # link: g_k - c_k y_l <= 0
    add(r + k, ig + k, np.ones(n))
    add(r + k, iy + p.layer, -p.count.astype(float))
    lo.append(np.full(n, -np.inf))
    hi.append(np.zeros(n))
    r += n
    # GPU side: t_l - Tg f_k g_k - 2Ts y_l >= 0
    lay = np.arange(L)
    add(r + lay, it + lay, np.ones(L))
    add(r + p.layer, ig + k, -p.gpu_neuron_s[p.layer] * p.freq / t_scale)
    add(r + lay, iy + lay, np.full(L, -2.0 * p.sync_s / t_scale))
    lo.append(np.zeros(L))
    hi.append(np.full(L, np.inf))
    r += L
    # Hull cut (perspective of the disjunction y_l = 0 / y_l = 1, valid for Eq. 1-7):
    # t_l >= Td F_l / D - (Td F_l / D - 2 Ts) y_l + Tg sum_k f_k g_k.
    # Without it the LP relaxation sets y_l = g / c_k and all but drops the synchronisations.
    mean_dimm = p.dimm_neuron_s * _per_layer(p, p.freq * p.count) / d / t_scale
    add(r + lay, it + lay, np.ones(L))
    add(r + p.layer, ig + k, -p.gpu_neuron_s[p.layer] * p.freq / t_scale)
    add(r + lay, iy + lay, mean_dimm - 2.0 * p.sync_s / t_scale)
    lo.append(mean_dimm)
    hi.append(np.full(L, np.inf))
    r += L
    # DIMM sides: t_l - Td f_k d_kj >= 0
    for j in range(d):
        add(r + lay, it + lay, np.ones(L))
        add(r + p.layer, id0 + k * d + j, -p.dimm_neuron_s[p.layer] * p.freq / t_scale)
        lo.append(np.zeros(L))
        hi.append(np.full(L, np.inf))
        r += L
    # capacities
    mem = p.neuron_bytes[p.layer] / b_scale
    add(np.full(n, r), ig + k, mem)
    lo.append(np.array([-np.inf]))
    hi.append(np.array([p.gpu_budget_bytes / b_scale]))
    r += 1
    for j in range(d):
        add(np.full(n, r), id0 + k * d + j, mem)
        lo.append(np.array([-np.inf]))
        hi.append(np.array([p.dimm_budget_bytes / b_scale]))
        r += 1
    a_mat = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(r, nvar)).tocsr()
    c = np.zeros(nvar)
    c[it:it + L] = 1.0
    ub = np.concatenate([p.count, np.repeat(p.count, d), np.full(L, np.inf), np.ones(L)])
    integrality = np.concatenate([np.ones(n + n * d), np.zeros(L), np.ones(L)])
    res = milp(c, constraints=LinearConstraint(a_mat, np.concatenate(lo), np.concatenate(hi)),
               integrality=integrality, bounds=Bounds(np.zeros(nvar), ub),
               options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "disp": False})
    dual = getattr(res, "mip_dual_bound", None)
    dual_s = float(dual) * t_scale if dual is not None and np.isfinite(dual) else float("nan")
    if res.x is None:
        return MilpResult(status=int(res.status), message=str(res.message),
                          objective_s=float("nan"), dual_bound_s=dual_s)
    x = np.round(res.x).astype(np.int64)
    a = Assignment(gpu_count=x[ig:ig + n],
                   dimm_count=x[id0:id0 + n * d].reshape(n, d).T.astype(np.int32))
    # Report the objective of the rounded assignment as Eq. 1 evaluates it (same as HiGHS's up
    # to its feasibility tolerance; t_l may sit above the max when a layer is not tight).
    return MilpResult(status=int(res.status), message=str(res.message),
                      objective_s=evaluate(p, a).objective_s, dual_bound_s=dual_s, assignment=a)


# ---------------------------------------------------------------------------------------------
# Wiring to the hardware and model
# ---------------------------------------------------------------------------------------------


def gpu_neuron_budget_bytes(model: ModelSpec, system: SystemSpec, *, workspace_frac: float = 0.1,
                            projection_on_gpu: bool = True, dtype: str = "fp16") -> float:
    """GPU memory left for hot neurons (bytes): an assumption, not a number from the paper.

    Parameters
    ----------
    model : ModelSpec
    system : SystemSpec
    workspace_frac : float
        Share of GPU memory kept for the runtime, activations and workspace (assumed 10 %).
    projection_on_gpu : bool
        Whether the attention output projections of all layers stay resident on the GPU (the
        paper runs the projection on the GPU only, Fig. 6a; streaming it every token over PCIe
        would take longer than a decode step, digest §13.4).
    dtype : str
        Weight dtype.

    Notes
    -----
    The paper does not say how the 24 GB are split (digest §17). Its own "15 % of OPT-66B's
    parameters fit in GPU memory" (§V-B) is larger than this default leaves (about 10 %), which
    suggests a smaller reserve; both are shown in the partition chapter.
    """
    if not 0 <= workspace_frac < 1:
        raise ValueError(f"workspace_frac must be in [0, 1), got {workspace_frac!r}")
    reserve = workspace_frac * system.gpu.memory_bytes * system.n_gpus
    if projection_on_gpu:
        reserve += model.n_layers * model.d_model * model.n_heads * model.head_dim * \
            shapes.dtype_bytes(dtype)
    return max(system.gpu.memory_bytes * system.n_gpus - reserve, 0.0)


def neuron_times_s(model: ModelSpec, system: SystemSpec, kind: str, *, batch: int = 1,
                   dtype: str = "fp16") -> tuple[float, float]:
    """Time per activated neuron of `kind` on the GPU and on one DIMM (s).

    GPU: the roofline of the neuron's weights (read once) and its FLOP for `batch` tokens at
    the GPU's achievable rates (`roofline.op_time`). DIMM: `ndp.dimm_op_time` for the same
    weights, read as chunks of one matrix slice each (``d_model`` values of an MLP neuron's
    up/gate row or down column; the whole fused column of a QKV neuron). Neither includes the
    per-kernel overhead: a layer pays that once, not per neuron (it is part of the layer's
    synchronisation budget).
    """
    from hermes_model import ndp

    if batch <= 0:
        raise ValueError(f"batch must be positive, got {batch!r}")
    nbytes = shapes.neuron_bytes(model, kind, dtype)
    flop = shapes.neuron_flop_per_token(model, kind) * batch
    gpu = roofline.op_time(flop, nbytes, flop_per_s=system.gpu.achievable_flop_per_s,
                           bandwidth_bytes_per_s=system.gpu.achievable_bandwidth_bytes_per_s)
    chunk = model.d_model * shapes.dtype_bytes(dtype) if kind == "mlp" else nbytes
    dimm = ndp.dimm_op_time(system.dimm, weight_bytes=nbytes, batch=batch,
                            pattern="chunks", chunk_bytes=chunk, dtype=dtype)
    return float(gpu.time_s), float(np.maximum(dimm.compute_s, dimm.memory_s))


def model_frequencies(model: ModelSpec, targets: Any) -> tuple[FloatArray, FloatArray]:
    """Per-neuron activation frequencies of a model from the sparsity generator's targets.

    Parameters
    ----------
    model : ModelSpec
    targets : sparsity.ModelTargets
        With groups named ``qkv`` and ``mlp`` (``sparsity.model_targets``).

    Returns
    -------
    mlp_freq, qkv_freq : ndarray, shapes (n_layers, d_ffn) and (n_layers, d_model)
        The fitted logit-normal frequencies (`sparsity.fit_frequencies`), each layer's from its
        own density and hot-share target. The partition does not depend on which neuron index
        holds which frequency, so no random order is drawn.
    """
    from hermes_model import sparsity

    out: dict[str, FloatArray] = {}
    for g in targets.groups:
        n_layers = model.n_layers
        dens = np.broadcast_to(np.asarray(g.density, dtype=float), (n_layers,))
        hot = np.broadcast_to(np.asarray(g.hot_share_80, dtype=float), (n_layers,))
        rows, cache = [], {}
        for d_l, h_l in zip(dens, hot, strict=True):
            if (d_l, h_l) not in cache:
                fit = sparsity.fit_frequencies(g.n_neurons, float(d_l), float(h_l))
                cache[(d_l, h_l)] = sparsity.logit_normal_frequencies(
                    g.n_neurons, fit.logit_mean, fit.logit_std)
            rows.append(cache[(d_l, h_l)])
        out[g.name] = np.stack(rows)
    return out["mlp"], out["qkv"]


def sync_time_s(model: ModelSpec, system: SystemSpec, *, batch: int = 1,
                dtype: str = "fp16") -> float:
    """One GPU–DIMM synchronisation (s): moving one activation vector (``d_model`` values per
    token) over the host link, latency included."""
    return float(roofline.transfer_time_s(model.d_model * batch * shapes.dtype_bytes(dtype),
                                          system.host_link))


def model_problem(model: ModelSpec, system: SystemSpec, mlp_freq: npt.ArrayLike,
                  qkv_freq: npt.ArrayLike, *, batch: int = 1,
                  gpu_budget_bytes: float | None = None, dimm_budget_bytes: float | None = None,
                  dtype: str = "fp16") -> PartitionProblem:
    """The per-neuron instance of a model on a system.

    Parameters
    ----------
    model : ModelSpec
    system : SystemSpec
    mlp_freq : array_like, shape (n_layers, d_ffn)
        Per-token activation frequency of each MLP neuron.
    qkv_freq : array_like, shape (n_layers, d_model)
        Per-token activation frequency of each QKV neuron (input channel).
    batch : int
        Tokens decoded together. A neuron is computed once if any token of the batch needs it:
        its frequency becomes :math:`1-(1-f)^b`, assuming the sequences of a batch fire
        independently (an assumption); per-neuron times cover *b* tokens.
    gpu_budget_bytes : float, optional
        Default :func:`gpu_neuron_budget_bytes`.
    dimm_budget_bytes : float, optional
        Per DIMM; default its whole capacity (Eq. 7 literally: a GPU neuron is not counted in the
        DIMMs, although the paper keeps all weights there).
    dtype : str

    Returns
    -------
    PartitionProblem
        Layers ordered ``0.qkv, 0.mlp, 1.qkv, ...``, one class per neuron.
    """
    mlp = np.asarray(mlp_freq, dtype=float)
    qkv = np.asarray(qkv_freq, dtype=float)
    nl = model.n_layers
    if mlp.shape != (nl, model.d_ffn) or qkv.shape != (nl, model.d_model):
        raise ValueError(f"mlp_freq must have shape ({nl}, {model.d_ffn}) and qkv_freq "
                         f"({nl}, {model.d_model}); got {mlp.shape} and {qkv.shape}")
    if batch > 1:
        mlp = 1.0 - (1.0 - mlp) ** batch
        qkv = 1.0 - (1.0 - qkv) ** batch
    tg_q, td_q = neuron_times_s(model, system, "qkv", batch=batch, dtype=dtype)
    tg_m, td_m = neuron_times_s(model, system, "mlp", batch=batch, dtype=dtype)
    per_q, per_m = model.d_model, model.d_ffn
    layer = np.concatenate([np.concatenate([np.full(per_q, 2 * i), np.full(per_m, 2 * i + 1)])
                            for i in range(nl)])
    freq = np.concatenate([np.concatenate([qkv[i], mlp[i]]) for i in range(nl)])
    return PartitionProblem(
        layer=layer.astype(np.int64), freq=np.clip(freq, 0.0, 1.0),
        count=np.ones(freq.size, dtype=np.int64),
        gpu_neuron_s=np.tile([tg_q, tg_m], nl), dimm_neuron_s=np.tile([td_q, td_m], nl),
        neuron_bytes=np.tile([shapes.neuron_bytes(model, "qkv", dtype),
                              shapes.neuron_bytes(model, "mlp", dtype)], nl),
        sync_s=sync_time_s(model, system, batch=batch, dtype=dtype),
        gpu_budget_bytes=(gpu_neuron_budget_bytes(model, system, dtype=dtype)
                          if gpu_budget_bytes is None else gpu_budget_bytes),
        dimm_budget_bytes=(system.dimm.capacity_bytes if dimm_budget_bytes is None
                           else dimm_budget_bytes),
        n_dimms=system.n_dimms,
        layer_names=tuple(f"{i}.{k}" for i in range(nl) for k in ("qkv", "mlp")))
