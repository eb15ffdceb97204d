"""Hardware specifications: frozen dataclasses in SI units, and the strict parser of catalog entries.

The catalog (``data/catalog/``) is YAML in human units, one file per entry, the file name being the
slug. Every value is written either as ``{value: V, source: S}`` or, where the paper's stated number
differs from the vendor's, as ``{paper: {value, source}, datasheet: {value, source}}``; an entry is
parsed under one *profile* (``paper`` or ``datasheet``). Achievable fractions and per-kernel
overheads are properties of a kind of device, not of a profile: they come from
``data/catalog/efficiency.yaml`` and apply under both profiles.

This module never reads files: ``hermes_model.io`` reads the YAML and hands the parsed mapping to
the ``parse_*`` functions here, which convert each human-unit key to its SI field exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from hermes_model import units as u

Profile = Literal["paper", "datasheet"]
PROFILES: Final = ("paper", "datasheet")
SCHEMA_VERSION: Final = 1

#: Allowed cycles of one bit-serial operation, wherever they are given (a catalog DIMM's
#: ``ndp_cycles_per_op``, ``policies.Assumptions.cycles_per_op``, ``--cycles-per-op``): wide
#: around the plausible 6-16 of ``policies.UNSTATED``, but no absurd value (1e-320 or 1e300).
CYCLES_PER_OP_RANGE: Final = (0.1, 1000.0)


def other_profile(profile: str) -> Profile:
    """The profile that is not `profile`: ``datasheet`` for ``paper``, else ``paper``."""
    return "datasheet" if profile == "paper" else "paper"


def check_profile(profile: str) -> Profile:
    """Return `profile` if it is a known profile, else raise ``ValueError`` listing them."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}; got {profile!r}")
    return profile  # type: ignore[return-value]


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")


def _one_of(name: str, value: int, allowed: tuple[int, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got {value!r}")


def _fraction(name: str, value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")


# ---------------------------------------------------------------------------------------------
# Dataclasses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Efficiency:
    """Achievable fractions of peak for one kind of device (GPU, host CPU, link, NDP-DIMM).

    Attributes
    ----------
    bandwidth_frac : float
        Attained share of the peak memory (or link) bandwidth by a long streaming kernel, in (0, 1].
    compute_frac : float
        Attained share of the peak FLOP rate by a large compute-bound kernel, in (0, 1].
    overhead_s : float
        Fixed time added to every kernel launch or transfer (s).
    source : str
        Where the numbers come from (an assumed default until the calibration replaces it).
    """

    bandwidth_frac: float
    compute_frac: float
    overhead_s: float
    source: str

    def __post_init__(self) -> None:
        _fraction("bandwidth_frac", self.bandwidth_frac)
        _fraction("compute_frac", self.compute_frac)
        if not (self.overhead_s >= 0 and math.isfinite(self.overhead_s)):
            raise ValueError(f"overhead_s must be >= 0 and finite, got {self.overhead_s!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuSpec:
    """One GPU under one profile. Rates are peaks; `efficiency` turns them into achievable ones.

    Load one with ``io.load_gpu(slug or path, profile)``; to build one in Python, give every
    field in SI units and the GPU kind's efficiency, ``io.load_efficiency("gpu")`` (what the
    catalog's GPUs get), then put it in a system with ``io.load_system(..., gpu=spec)``.

    Attributes
    ----------
    slug, name : str
        Catalog slug (or file path) and display name.
    profile : {"paper", "datasheet"}
        The profile it was loaded under; a system's parts must share it.
    memory_bytes : float
        Memory capacity (B; ``24 * units.GiB``).
    memory_bandwidth_bytes_per_s : float
        Peak memory bandwidth (B/s; ``1008 * units.GB``).
    fp16_flop_per_s : float
        Peak dense FP16 tensor rate (FLOP/s; ``165 * units.TFLOP``).
    pcie_gen, pcie_lanes : int
        The GPU's PCIe generation and width (one the catalog has a ``pcie{gen}_x{lanes}`` link
        for).
    efficiency : Efficiency
        Attained fractions of the peaks and the per-kernel overhead.
    sources : Mapping[str, str]
        Field → where its value comes from (not compared).
    notes : str
    """

    slug: str
    name: str
    profile: Profile
    memory_bytes: float
    memory_bandwidth_bytes_per_s: float
    fp16_flop_per_s: float
    pcie_gen: int
    pcie_lanes: int
    efficiency: Efficiency
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "memory_bandwidth_bytes_per_s", "fp16_flop_per_s",
                     "pcie_gen", "pcie_lanes"):
            _positive(name, getattr(self, name))

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """Peak memory bandwidth times the GPU kind's attained fraction (B/s)."""
        return self.memory_bandwidth_bytes_per_s * self.efficiency.bandwidth_frac

    @property
    def achievable_flop_per_s(self) -> float:
        """Peak FP16 tensor rate times the GPU kind's attained fraction (FLOP/s)."""
        return self.fp16_flop_per_s * self.efficiency.compute_frac

    @property
    def kernel_overhead_s(self) -> float:
        """Fixed time per kernel (s)."""
        return self.efficiency.overhead_s


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSpec:
    """A host CPU with its own DRAM (the memory of Hermes-host and the offloading baselines)."""

    slug: str
    name: str
    profile: Profile
    n_cores: int
    flop_per_s: float
    dram_channels: int
    dram_data_rate_transfers_per_s: float
    dram_capacity_bytes: float
    dram_bandwidth_bytes_per_s: float
    pcie_gen: int
    pcie_lanes: int
    efficiency: Efficiency
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("n_cores", "flop_per_s", "dram_channels", "dram_data_rate_transfers_per_s",
                     "dram_capacity_bytes", "dram_bandwidth_bytes_per_s", "pcie_gen", "pcie_lanes"):
            _positive(name, getattr(self, name))

    @property
    def dram_pin_bandwidth_bytes_per_s(self) -> float:
        """Channels × 8 bytes × data rate: the DRAM interface's peak (B/s)."""
        return self.dram_channels * 8 * self.dram_data_rate_transfers_per_s

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """Peak DRAM bandwidth times the host kind's attained fraction (B/s)."""
        return self.dram_bandwidth_bytes_per_s * self.efficiency.bandwidth_frac

    @property
    def achievable_flop_per_s(self) -> float:
        """Peak FLOP rate of all cores times the host kind's attained fraction (FLOP/s)."""
        return self.flop_per_s * self.efficiency.compute_frac

    @property
    def kernel_overhead_s(self) -> float:
        """Fixed time per operation (s)."""
        return self.efficiency.overhead_s

    # A host computes on its DRAM: these aliases let the roofline treat GPUs and hosts alike.
    @property
    def memory_bandwidth_bytes_per_s(self) -> float:
        """Alias of `dram_bandwidth_bytes_per_s` (B/s)."""
        return self.dram_bandwidth_bytes_per_s

    @property
    def memory_bytes(self) -> float:
        """Alias of `dram_capacity_bytes` (bytes)."""
        return self.dram_capacity_bytes


LinkKind = Literal["pcie", "nvlink", "dimm_link"]
LINK_KINDS: Final = ("pcie", "nvlink", "dimm_link")
#: The link kinds each link of a system may be (a catalog link's ``link_kind``): the host link is
#: PCIe; GPUs talk over NVLink or, lacking it, over PCIe (the deployment sweep's "tensor parallel,
#: PCIe" reading); the NDP-DIMMs over the DIMM-link.
LINK_ROLES: Final[Mapping[str, tuple[str, ...]]] = {
    "host_link": ("pcie",), "gpu_link": ("nvlink", "pcie"), "dimm_link": ("dimm_link",)}
#: DDR generations the DRAM model covers (its JEDEC tRTP table, `hermes_model.dram`).
DDR_GENERATIONS: Final = (4, 5)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkSpec:
    """A point-to-point link: PCIe between host and GPU, NVLink between GPUs, DIMM-link between DIMMs."""

    slug: str
    name: str
    profile: Profile
    kind: LinkKind
    generation: int
    lanes: int
    bandwidth_per_direction_bytes_per_s: float
    energy_j_per_bit: float | None
    efficiency: Efficiency
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: str = ""

    def __post_init__(self) -> None:
        if self.kind not in LINK_KINDS:
            raise ValueError(f"kind must be one of {', '.join(LINK_KINDS)}; got {self.kind!r}")
        for name in ("generation", "lanes", "bandwidth_per_direction_bytes_per_s"):
            _positive(name, getattr(self, name))
        if self.energy_j_per_bit is not None:
            _positive("energy_j_per_bit", self.energy_j_per_bit)

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """Per-direction bandwidth times the link kind's attained fraction (B/s)."""
        return self.bandwidth_per_direction_bytes_per_s * self.efficiency.bandwidth_frac

    @property
    def latency_s(self) -> float:
        """Fixed time of one transfer (s)."""
        return self.efficiency.overhead_s


DDR_TIMING_KEYS: Final = ("tRC", "tRCD", "tCL", "tRP", "tBL", "tCCD_S", "tCCD_L", "tRRD_S",
                          "tRRD_L", "tFAW")


@dataclass(frozen=True, slots=True, kw_only=True)
class DdrTimings:
    """A DDR timing table in clock cycles (tCK), plus refresh in seconds.

    tCK is two transfers: for DDR4-3200 the clock is 1600 MHz, tCK = 0.625 ns.
    """

    tRC: int
    tRCD: int
    tCL: int
    tRP: int
    tBL: int
    tCCD_S: int
    tCCD_L: int
    tRRD_S: int
    tRRD_L: int
    tFAW: int
    tREFI_s: float
    tRFC_s: float

    def __post_init__(self) -> None:
        for name in (*DDR_TIMING_KEYS, "tREFI_s", "tRFC_s"):
            _positive(name, getattr(self, name))
        if not self.tRFC_s < self.tREFI_s:
            raise ValueError(f"tRFC ({self.tRFC_s / u.NS:g} ns) must be less than tREFI "
                             f"({self.tREFI_s / u.NS:g} ns): refresh would take the whole rank")


@dataclass(frozen=True, slots=True, kw_only=True)
class DimmSpec:
    """An NDP-DIMM: the DRAM organisation and timings, and the NDP core in its buffer chip.

    Load one with ``io.load_dimm(slug or path, profile)``, or change a loaded one with
    ``dataclasses.replace(dimm, ndp_multipliers=512)``; a new one built in Python takes the
    NDP kind's efficiency, ``io.load_efficiency("ndp_dimm")``.

    Attributes
    ----------
    slug, name : str
    profile : {"paper", "datasheet"}
    ddr_generation : int
        4 or 5 (`DDR_GENERATIONS`: the DRAM model's tRTP table).
    data_rate_transfers_per_s : float
        Transfers per second per pin (3200e6 for DDR4-3200; two per clock).
    bus_width_bits, n_ranks, n_bank_groups, n_banks_per_group, device_width_bits : int
        Data bus (64, ECC excluded), ranks, bank groups per rank, banks per group, DRAM device
        width.
    row_bytes : float
        Row (page) of one rank (B).
    capacity_bytes : float
        Capacity of the DIMM (B).
    timings : DdrTimings
        Timing table in clock cycles (tCK), refresh in seconds.
    ndp_multipliers : int
        Multipliers of the GEMV unit in the buffer chip.
    ndp_operand_bits : int
        Bits of one multiplier operand (128: 8 FP16 values).
    ndp_clock_hz : float
        Clock of the NDP core (Hz).
    ndp_cycles_per_op : float
        Cycles of one bit-serial operation, in `CYCLES_PER_OP_RANGE`
        (``policies.Assumptions.cycles_per_op`` overrides it per estimate).
    ndp_buffer_bytes : float
        On-chip buffer (B).
    efficiency : Efficiency
    sources : Mapping[str, str]
    notes : str
    """

    slug: str
    name: str
    profile: Profile
    ddr_generation: int
    data_rate_transfers_per_s: float
    bus_width_bits: int
    n_ranks: int
    n_bank_groups: int
    n_banks_per_group: int
    device_width_bits: int
    row_bytes: float
    capacity_bytes: float
    timings: DdrTimings
    ndp_multipliers: int
    ndp_operand_bits: int
    ndp_clock_hz: float
    ndp_cycles_per_op: float
    ndp_buffer_bytes: float
    efficiency: Efficiency
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("ddr_generation", "data_rate_transfers_per_s", "bus_width_bits", "n_ranks",
                     "n_bank_groups", "n_banks_per_group", "device_width_bits", "row_bytes",
                     "capacity_bytes", "ndp_multipliers", "ndp_operand_bits", "ndp_clock_hz",
                     "ndp_cycles_per_op", "ndp_buffer_bytes"):
            _positive(name, getattr(self, name))
        _one_of("ddr_generation", self.ddr_generation, DDR_GENERATIONS)
        lo, hi = CYCLES_PER_OP_RANGE
        if not lo <= self.ndp_cycles_per_op <= hi:
            raise ValueError(f"ndp_cycles_per_op must be in [{lo:g}, {hi:g}] cycles, "
                             f"got {self.ndp_cycles_per_op!r}")

    @property
    def tck_s(self) -> float:
        """Clock period (s): two transfers per clock."""
        return 2.0 / self.data_rate_transfers_per_s

    @property
    def rank_pin_bandwidth_bytes_per_s(self) -> float:
        """Data rate × bus width: what one rank can move over the DIMM's data pins (B/s)."""
        return self.data_rate_transfers_per_s * self.bus_width_bits / 8

    @property
    def ranks_pin_bandwidth_bytes_per_s(self) -> float:
        """All ranks read in parallel by the buffer-chip core: the upper bound of one DIMM (B/s).

        The NDP-DIMM chapter refines this with the timing table; this is the pin-level bound.
        """
        return self.n_ranks * self.rank_pin_bandwidth_bytes_per_s

    @property
    def ndp_values_per_operand(self) -> int:
        """FP16 values in one multiplier operand (128 bit → 8)."""
        return self.ndp_operand_bits // 16

    @property
    def ndp_flop_per_s(self) -> float:
        """Peak NDP rate: multipliers × values per operand × 2 FLOP × clock ÷ cycles per op (FLOP/s)."""
        return (self.ndp_multipliers * self.ndp_values_per_operand * 2 * self.ndp_clock_hz
                / self.ndp_cycles_per_op)

    # Aliases so that a DIMM sits on the same roofline as GPUs and hosts.
    @property
    def memory_bandwidth_bytes_per_s(self) -> float:
        """Alias of `ranks_pin_bandwidth_bytes_per_s` (B/s)."""
        return self.ranks_pin_bandwidth_bytes_per_s

    @property
    def memory_bytes(self) -> float:
        """Alias of `capacity_bytes` (bytes)."""
        return self.capacity_bytes

    @property
    def achievable_bandwidth_bytes_per_s(self) -> float:
        """Pin bound times the NDP kind's attained fraction (B/s)."""
        return self.ranks_pin_bandwidth_bytes_per_s * self.efficiency.bandwidth_frac

    @property
    def achievable_flop_per_s(self) -> float:
        """NDP peak times the NDP kind's attained fraction (FLOP/s)."""
        return self.ndp_flop_per_s * self.efficiency.compute_frac

    @property
    def kernel_overhead_s(self) -> float:
        """Fixed time per NDP command (s)."""
        return self.efficiency.overhead_s


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSpec:
    """A whole machine: GPUs on a host over PCIe, and a separate pool of NDP-DIMMs.

    The NDP-DIMM pool is a memory system of its own, not the host's DRAM (digest §18: an i9-13900K
    has two channels; the paper's pool is eight DIMMs on four channels).
    `host_link` is the effective link: the lower of the GPU's, the host's and the named link's
    PCIe generation (a link faster than the GPU or the host is refused).

    Load one with ``io.load_system(slug or path, profile, gpu=..., n_dimms=...)``: its part
    overrides take slugs, paths or specs and re-derive the host link.
    ``dataclasses.replace(system, n_dimms=16)`` or ``replace(system, dimm=replace(system.dimm,
    ndp_multipliers=512))`` are safe what-ifs too; swapping the GPU or host with ``replace``
    is refused where the link would no longer be the one the GPU gets.
    """

    slug: str
    name: str
    profile: Profile
    gpu: GpuSpec
    n_gpus: int
    host: HostSpec
    host_link: LinkSpec
    gpu_link: LinkSpec
    dimm: DimmSpec
    n_dimms: int
    dimms_per_channel: int
    dimm_link: LinkSpec
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("n_gpus", "n_dimms", "dimms_per_channel"):
            _positive(name, getattr(self, name))
        for name in ("gpu", "host", "host_link", "gpu_link", "dimm", "dimm_link"):
            part = getattr(self, name)
            if part.profile != self.profile:
                raise ValueError(f"{name} {part.slug!r} was loaded under profile "
                                 f"{part.profile!r}, the system under {self.profile!r}")
        for name, kinds in LINK_ROLES.items():
            link = getattr(self, name)
            if link.kind not in kinds:
                raise ValueError(f"{name} {link.slug!r} is a link of kind {link.kind}; {name} "
                                 f"must be of kind {' or '.join(kinds)}")
        # The host link is the one the GPU really gets (`io.effective_pcie_link`): never faster
        # than the GPU's or the host's PCIe. ``dataclasses.replace(system, gpu=t4)`` would keep
        # the old link silently; io.load_system(..., gpu=spec) derives it.
        link = self.host_link
        for part in ("gpu", "host"):
            spec = getattr(self, part)
            if link.generation > spec.pcie_gen or link.lanes > spec.pcie_lanes:
                raise ValueError(
                    f"host_link {link.slug!r} (PCIe {link.generation}.0 x{link.lanes}) is faster "
                    f"than {part} {spec.slug!r} (PCIe {spec.pcie_gen}.0 x{spec.pcie_lanes}); the "
                    f"link runs at the slower: build the system with io.load_system(..., "
                    f"{part}=...) or pass host_link=io.effective_pcie_link(...)")

    @property
    def dimm_capacity_bytes(self) -> float:
        """Capacity of the whole NDP-DIMM pool (bytes)."""
        return self.n_dimms * self.dimm.capacity_bytes

    @property
    def dimm_pool_bandwidth_bytes_per_s(self) -> float:
        """Pin-level bound of all DIMMs' internal bandwidth together (B/s)."""
        return self.n_dimms * self.dimm.ranks_pin_bandwidth_bytes_per_s


# ---------------------------------------------------------------------------------------------
# Parsing of catalog entries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldDef:
    """How one YAML key maps to one dataclass field: SI factor and expected type."""

    key: str
    attr: str
    factor: float = 1.0
    kind: str = "float"  # "float", "int", "str", "timings", "refresh"
    required: bool = True
    positive: bool = True
    allowed: tuple[int, ...] = ()  # if given, the only values an integer field may take
    bounds: tuple[float, float] | None = None  # if given, the closed range of the value


META_KEYS: Final = frozenset({"schema_version", "name", "notes"})

GPU_FIELDS: Final = (
    FieldDef("memory_GiB", "memory_bytes", u.GiB),
    FieldDef("memory_bandwidth_GBps", "memory_bandwidth_bytes_per_s", u.GB),
    FieldDef("fp16_tensor_TFLOPS", "fp16_flop_per_s", u.TFLOP),
    FieldDef("pcie_gen", "pcie_gen", kind="int"),
    FieldDef("pcie_lanes", "pcie_lanes", kind="int"),
)

HOST_FIELDS: Final = (
    FieldDef("n_cores", "n_cores", kind="int"),
    FieldDef("fp32_TFLOPS", "flop_per_s", u.TFLOP),
    FieldDef("dram_channels", "dram_channels", kind="int"),
    FieldDef("dram_data_rate_MTps", "dram_data_rate_transfers_per_s", 1e6),
    FieldDef("dram_capacity_GiB", "dram_capacity_bytes", u.GiB),
    FieldDef("dram_bandwidth_GBps", "dram_bandwidth_bytes_per_s", u.GB),
    FieldDef("pcie_gen", "pcie_gen", kind="int"),
    FieldDef("pcie_lanes", "pcie_lanes", kind="int"),
)

LINK_FIELDS: Final = (
    FieldDef("link_kind", "kind", kind="str"),
    FieldDef("generation", "generation", kind="int"),
    FieldDef("lanes", "lanes", kind="int"),
    FieldDef("bandwidth_per_direction_GBps", "bandwidth_per_direction_bytes_per_s", u.GB),
    FieldDef("energy_pJ_per_bit", "energy_j_per_bit", u.PJ, required=False),
)

DIMM_FIELDS: Final = (
    FieldDef("ddr_generation", "ddr_generation", kind="int", allowed=DDR_GENERATIONS),
    FieldDef("data_rate_MTps", "data_rate_transfers_per_s", 1e6),
    FieldDef("bus_width_bits", "bus_width_bits", kind="int"),
    FieldDef("ranks", "n_ranks", kind="int"),
    FieldDef("bank_groups", "n_bank_groups", kind="int"),
    FieldDef("banks_per_group", "n_banks_per_group", kind="int"),
    FieldDef("device_width_bits", "device_width_bits", kind="int"),
    FieldDef("row_KiB", "row_bytes", u.KiB),
    FieldDef("capacity_GiB", "capacity_bytes", u.GiB),
    FieldDef("timings_cycles", "timings", kind="timings"),
    FieldDef("refresh_ns", "refresh", kind="refresh"),
    FieldDef("ndp_multipliers", "ndp_multipliers", kind="int"),
    FieldDef("ndp_operand_bits", "ndp_operand_bits", kind="int"),
    FieldDef("ndp_clock_GHz", "ndp_clock_hz", u.GHZ),
    FieldDef("ndp_cycles_per_op", "ndp_cycles_per_op", bounds=CYCLES_PER_OP_RANGE),
    FieldDef("ndp_buffer_KiB", "ndp_buffer_bytes", u.KiB),
)

SYSTEM_FIELDS: Final = (
    FieldDef("gpu", "gpu", kind="str"),
    FieldDef("n_gpus", "n_gpus", kind="int"),
    FieldDef("host", "host", kind="str"),
    FieldDef("host_link", "host_link", kind="str"),
    FieldDef("gpu_link", "gpu_link", kind="str"),
    FieldDef("dimm", "dimm", kind="str"),
    FieldDef("n_dimms", "n_dimms", kind="int"),
    FieldDef("dimms_per_channel", "dimms_per_channel", kind="int"),
    FieldDef("dimm_link", "dimm_link", kind="str"),
)

EFFICIENCY_FIELDS: Final = (
    FieldDef("bandwidth_frac", "bandwidth_frac"),
    FieldDef("compute_frac", "compute_frac"),
    FieldDef("overhead_us", "overhead_s", u.US, positive=False),
)

#: Device kinds that carry an entry in efficiency.yaml.
EFFICIENCY_KINDS: Final = ("gpu", "host_cpu", "pcie", "nvlink", "dimm_link", "ndp_dimm")


def _type_name(kind: str) -> str:
    return {"float": "a number", "int": "an integer", "str": "a string",
            "timings": f"a mapping of {', '.join(DDR_TIMING_KEYS)} to integers",
            "refresh": "a mapping of tREFI and tRFC to numbers"}[kind]


def _convert(origin: str, fdef: FieldDef, value: Any) -> Any:
    """Check the type and range of one leaf value and convert it to SI."""
    where = f"{origin}: field {fdef.key!r}"
    if fdef.kind == "str":
        if not isinstance(value, str) or not value:
            raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
        return value
    if fdef.kind == "timings":
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected {_type_name('timings')}, got {value!r}")
        keys = set(value)
        if keys != set(DDR_TIMING_KEYS):
            extra, missing = sorted(keys - set(DDR_TIMING_KEYS)), sorted(set(DDR_TIMING_KEYS) - keys)
            raise ValueError(f"{where}: unknown keys {extra}, missing keys {missing}; "
                             f"allowed: {', '.join(DDR_TIMING_KEYS)}")
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{where}.{k}: expected a positive integer, got {v!r}")
        return dict(value)
    if fdef.kind == "refresh":
        if not isinstance(value, Mapping) or set(value) != {"tREFI", "tRFC"}:
            raise ValueError(f"{where}: expected {_type_name('refresh')}, got {value!r}")
        for k, v in value.items():
            if not _is_number(v) or not (v > 0 and math.isfinite(v)):
                raise ValueError(f"{where}.{k}: expected a positive finite number, "
                                 f"got {v!r}{_number_hint(v)}")
        if not value["tRFC"] < value["tREFI"]:
            raise ValueError(f"{where}: tRFC ({value['tRFC']}) must be less than tREFI "
                             f"({value['tREFI']}): refresh would take the whole rank")
        return {k: float(v) * u.NS for k, v in value.items()}
    if fdef.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer, got {value!r}{_number_hint(value)}")
    elif not _is_number(value):
        raise ValueError(f"{where}: expected a number, got {value!r}{_number_hint(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{where}: must be finite, got {value!r}")
    if fdef.positive and not value > 0:
        raise ValueError(f"{where}: must be positive, got {value!r}")
    if not fdef.positive and value < 0:
        raise ValueError(f"{where}: must be >= 0, got {value!r}")
    if fdef.allowed and value not in fdef.allowed:
        raise ValueError(f"{where}: must be one of {', '.join(map(str, fdef.allowed))}, "
                         f"got {value!r}")
    if fdef.bounds is not None and not fdef.bounds[0] <= value <= fdef.bounds[1]:
        raise ValueError(f"{where}: must be in [{fdef.bounds[0]:g}, {fdef.bounds[1]:g}], "
                         f"got {value!r}")
    return value if fdef.kind == "int" else float(value) * fdef.factor


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_hint(value: Any) -> str:
    """A hint for a number PyYAML read as text: YAML 1.1 needs a dot in ``1.0e-300``."""
    if not (isinstance(value, str) and "e" in value.lower()):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    return (f" (YAML reads {value} as text: write a dot and a signed exponent, e.g. "
            f"{number:.1e})") if math.isfinite(number) else ""


def _leaf(origin: str, key: str, node: Any) -> tuple[Any, str]:
    """Unpack ``{value, source}``."""
    if not isinstance(node, Mapping) or set(node) != {"value", "source"}:
        raise ValueError(f"{origin}: field {key!r}: expected {{value: ..., source: ...}} or "
                         f"{{paper: {{value, source}}, datasheet: {{value, source}}}}, got {node!r}")
    source = node["source"]
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{origin}: field {key!r}: source must be a non-empty string")
    return node["value"], source


def parse_fields(raw: Mapping[str, Any], fields: tuple[FieldDef, ...], *, origin: str,
                 profile: str, extra_meta: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse the value keys of one catalog entry under `profile`.

    Returns the SI values keyed by dataclass attribute, and their sources. Raises ``ValueError``
    naming `origin` (the file) and the field for an unknown key, a missing key, a wrong type, a
    zero or negative rate, or a missing source.
    """
    check_profile(profile)
    if not isinstance(raw, Mapping):
        raise ValueError(f"{origin}: expected a mapping at the top level, got {type(raw).__name__}")
    allowed = {f.key for f in fields}
    meta = META_KEYS | extra_meta
    unknown = sorted(set(raw) - allowed - meta)
    if unknown:
        raise ValueError(f"{origin}: unknown field {unknown[0]!r}; allowed: "
                         f"{', '.join(sorted(allowed | meta))}")
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"{origin}: field 'schema_version': expected {SCHEMA_VERSION}, got {version!r}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for fdef in fields:
        if fdef.key not in raw:
            if fdef.required:
                raise ValueError(f"{origin}: missing field {fdef.key!r}")
            values[fdef.attr] = None
            continue
        node = raw[fdef.key]
        if isinstance(node, Mapping) and set(node) == set(PROFILES):
            # Both profiles' values are checked, so a broken one fails whichever is loaded.
            other = other_profile(profile)
            other_value, _ = _leaf(origin, f"{fdef.key}.{other}", node[other])
            _convert(origin, fdef, other_value)
            value, source = _leaf(origin, f"{fdef.key}.{profile}", node[profile])
        else:
            value, source = _leaf(origin, fdef.key, node)
        values[fdef.attr] = _convert(origin, fdef, value)
        sources[fdef.attr] = source
    return values, sources


def _meta(raw: Mapping[str, Any], origin: str) -> tuple[str, str]:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{origin}: field 'name': expected a non-empty string, got {name!r}")
    notes = raw.get("notes", "")
    if not isinstance(notes, str):
        raise ValueError(f"{origin}: field 'notes': expected a string, got {notes!r}")
    return name, notes


def parse_efficiency(raw: Mapping[str, Any], kind: str, *, origin: str) -> Efficiency:
    """Parse the entry of one device kind in efficiency.yaml (profile-independent)."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{origin}: expected a mapping at the top level")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{origin}: field 'schema_version': expected {SCHEMA_VERSION}, "
                         f"got {raw.get('schema_version')!r}")
    unknown = sorted(set(raw) - set(EFFICIENCY_KINDS) - META_KEYS)
    if unknown:
        raise ValueError(f"{origin}: unknown field {unknown[0]!r}; allowed: "
                         f"{', '.join(EFFICIENCY_KINDS)}")
    if kind not in raw:
        raise ValueError(f"{origin}: missing field {kind!r}")
    entry = dict(raw[kind]) if isinstance(raw[kind], Mapping) else raw[kind]
    if isinstance(entry, dict):
        entry["schema_version"] = SCHEMA_VERSION
    values, sources = parse_fields(entry, EFFICIENCY_FIELDS, origin=f"{origin} [{kind}]",
                                   profile="datasheet")
    for name in ("bandwidth_frac", "compute_frac"):
        if values[name] > 1:
            raise ValueError(f"{origin} [{kind}]: field {name!r}: must be in (0, 1], got {values[name]}")
    return Efficiency(**values, source="; ".join(f"{k}: {v}" for k, v in sources.items()))


def _build(cls: Any, origin: str, **kwargs: Any) -> Any:
    """``cls(**kwargs)``, its validation errors prefixed with `origin` (the file)."""
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ValueError(f"{origin}: {exc}") from None


def parse_gpu(raw: Mapping[str, Any], *, slug: str, profile: str, efficiency: Efficiency,
              origin: str) -> GpuSpec:
    """Build a `GpuSpec` from a parsed YAML mapping."""
    values, sources = parse_fields(raw, GPU_FIELDS, origin=origin, profile=profile)
    name, notes = _meta(raw, origin)
    return _build(GpuSpec, origin, slug=slug, name=name, profile=check_profile(profile),
                  efficiency=efficiency, sources=sources, notes=notes, **values)


def parse_host(raw: Mapping[str, Any], *, slug: str, profile: str, efficiency: Efficiency,
               origin: str) -> HostSpec:
    """Build a `HostSpec` from a parsed YAML mapping."""
    values, sources = parse_fields(raw, HOST_FIELDS, origin=origin, profile=profile)
    name, notes = _meta(raw, origin)
    return _build(HostSpec, origin, slug=slug, name=name, profile=check_profile(profile),
                  efficiency=efficiency, sources=sources, notes=notes, **values)


def parse_link(raw: Mapping[str, Any], *, slug: str, profile: str,
               efficiencies: Mapping[str, Efficiency], origin: str) -> LinkSpec:
    """Build a `LinkSpec`; its efficiency is that of its kind (pcie, nvlink, dimm_link)."""
    values, sources = parse_fields(raw, LINK_FIELDS, origin=origin, profile=profile)
    if values["kind"] not in LINK_KINDS:
        raise ValueError(f"{origin}: field 'link_kind': expected one of {', '.join(LINK_KINDS)}, "
                         f"got {values['kind']!r}")
    name, notes = _meta(raw, origin)
    return _build(LinkSpec, origin, slug=slug, name=name, profile=check_profile(profile),
                  efficiency=efficiencies[values["kind"]], sources=sources, notes=notes, **values)


def parse_dimm(raw: Mapping[str, Any], *, slug: str, profile: str, efficiency: Efficiency,
               origin: str) -> DimmSpec:
    """Build a `DimmSpec`; the timing table is the same under both profiles."""
    values, sources = parse_fields(raw, DIMM_FIELDS, origin=origin, profile=profile)
    refresh = values.pop("refresh")
    cycles = values.pop("timings")
    timings = _build(DdrTimings, origin, **cycles, tREFI_s=refresh["tREFI"],
                     tRFC_s=refresh["tRFC"])
    name, notes = _meta(raw, origin)
    return _build(DimmSpec, origin, slug=slug, name=name, profile=check_profile(profile),
                  timings=timings, efficiency=efficiency, sources=sources, notes=notes, **values)


def parse_system_refs(raw: Mapping[str, Any], *, origin: str) -> tuple[dict[str, Any], dict[str, str], str, str]:
    """Parse a system entry into the slugs and counts it composes (the loader resolves the slugs)."""
    values, sources = parse_fields(raw, SYSTEM_FIELDS, origin=origin, profile="datasheet")
    name, notes = _meta(raw, origin)
    return values, sources, name, notes
