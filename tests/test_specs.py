"""The catalog and its strict loader: every entry loads under both profiles; bad entries fail clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import hermes_model as hm
from hermes_model import io, specs
from hermes_model import units as u

DATA = Path(__file__).resolve().parent.parent / "data"
LOADERS = {"gpus": io.load_gpu, "hosts": io.load_host, "links": io.load_link,
           "dimms": io.load_dimm, "systems": io.load_system}


@pytest.mark.parametrize("profile", specs.PROFILES)
@pytest.mark.parametrize("kind", list(LOADERS))
def test_every_slug_loads_under_both_profiles(kind: str, profile: str) -> None:
    """Every catalog file loads, its slug is its file name, and the spec records its profile."""
    slugs = io.catalog_slugs(kind)
    assert slugs, f"no {kind} in the catalog"
    for slug in slugs:
        spec = LOADERS[kind](slug, profile)
        assert spec.slug == slug
        assert spec.profile == profile
        assert slug == slug.lower() and " " not in slug


def test_required_slugs_exist() -> None:
    """The slugs later chapters, scripts and readers rely on are all present."""
    required = {
        "gpus": {"rtx_4090", "rtx_3090", "t4", "a100_40g_sxm4", "a100_80g_sxm4", "h100_sxm5_80g",
                 "h100_pcie_80g", "h200", "rtx_5090"},
        "links": {"pcie3_x16", "pcie4_x16", "pcie5_x16", "nvlink3"},
        "hosts": {"i9_13900k"},
        "dimms": {"ddr4_3200_ndp", "ddr4_3200_ndp_jedec", "ddr5_4800_ndp"},
        "systems": {"hermes_paper"},
    }
    for kind, slugs in required.items():
        assert slugs <= set(io.catalog_slugs(kind)), kind


def test_profiles_differ_where_the_paper_differs_from_the_vendor() -> None:
    """RTX 4090: the paper says 936 GB/s and 330 TFLOPS; the vendor 1008 GB/s and 165.2 TFLOPS."""
    paper, sheet = io.load_gpu("rtx_4090", "paper"), io.load_gpu("rtx_4090", "datasheet")
    assert paper.memory_bandwidth_bytes_per_s == pytest.approx(936e9)
    assert sheet.memory_bandwidth_bytes_per_s == pytest.approx(1008e9)
    assert paper.fp16_flop_per_s == pytest.approx(330e12)
    assert sheet.fp16_flop_per_s == pytest.approx(165.2e12)
    assert paper.memory_bytes == sheet.memory_bytes == 24 * u.GiB
    # Achievable fractions belong to the kind of device, not the profile.
    assert paper.efficiency == sheet.efficiency


def test_pcie_datasheet_bandwidth_is_the_encoding_formula() -> None:
    """Per direction: lanes × GT/s × 128/130 / 8, for PCIe 3, 4 and 5 (x16)."""
    for gen, rate in ((3, 8e9), (4, 16e9), (5, 32e9)):
        link = io.load_link(f"pcie{gen}_x16", "datasheet")
        assert link.bandwidth_per_direction_bytes_per_s == pytest.approx(16 * rate * 128 / 130 / 8,
                                                                          rel=1e-3)
    assert io.load_link("pcie4_x16", "paper").bandwidth_per_direction_bytes_per_s == 64e9


def test_host_dram_matches_channels_times_rate() -> None:
    """i9-13900K: 2 channels × 8 B × 5600 MT/s = 89.6 GB/s, 192 GiB (PowerInfer's PC-High)."""
    host = io.load_host("i9_13900k", "datasheet")
    assert host.dram_pin_bandwidth_bytes_per_s == pytest.approx(89.6e9)
    assert host.dram_bandwidth_bytes_per_s == pytest.approx(89.6e9)
    assert host.dram_capacity_bytes == 192 * u.GiB


def test_paper_dimm_organisation_and_pin_bound() -> None:
    """Table II: 4 ranks × 25.6 GB/s = 102.4 GB/s pin bound per DIMM; 32 GiB; 1 GHz, 256 multipliers."""
    dimm = io.load_dimm("ddr4_3200_ndp")
    assert dimm.tck_s == pytest.approx(0.625e-9)
    assert dimm.rank_pin_bandwidth_bytes_per_s == pytest.approx(25.6e9)
    assert dimm.ranks_pin_bandwidth_bytes_per_s == pytest.approx(102.4e9)
    assert dimm.timings.tFAW == 26 and dimm.timings.tRRD_S == 4
    assert io.load_dimm("ddr4_3200_ndp_jedec").timings.tFAW == 48
    assert dimm.ndp_multipliers == 256 and dimm.ndp_clock_hz == 1e9
    assert dimm.ndp_values_per_operand == 8


def test_system_composes_a_separate_dimm_pool() -> None:
    """hermes_paper: 8 DIMMs × 32 GiB = 256 GiB of NDP pool, apart from the host's 192 GiB."""
    system = io.load_system("hermes_paper")
    assert system.n_dimms == 8
    assert system.dimm_capacity_bytes == 256 * u.GiB
    assert system.host.dram_capacity_bytes == 192 * u.GiB
    assert system.host_link.generation == 4
    assert system.dimm_pool_bandwidth_bytes_per_s == pytest.approx(819.2e9)


def test_pcie_runs_at_the_lower_generation() -> None:
    """A T4 is a PCIe 3.0 device: on the paper's PCIe 4.0 host it gets the PCIe 3.0 link."""
    system = io.load_system("hermes_paper", "datasheet", gpu="t4")
    assert system.host_link.slug == "pcie3_x16"
    assert system.host_link.bandwidth_per_direction_bytes_per_s == pytest.approx(15.75e9, rel=1e-3)
    assert io.load_system("hermes_paper", gpu="h100_pcie_80g").host_link.generation == 4


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profile must be one of paper, datasheet"):
        io.load_gpu("rtx_4090", "vendor")


@pytest.mark.parametrize(("loader", "kind"), [(io.load_gpu, "GPU"), (io.load_dimm, "DIMM"),
                                              (io.load_system, "system"), (io.load_link, "link")])
def test_unknown_slug_lists_the_valid_ones(loader, kind) -> None:
    with pytest.raises(ValueError, match=rf"unknown {kind} 'nosuch'; valid: .+"):
        loader("nosuch")


def test_unknown_device_lists_all_kinds() -> None:
    with pytest.raises(ValueError, match=r"unknown device 'nosuch'; valid: .*rtx_4090.*i9_13900k"):
        io.load_device("nosuch")


# ---------------------------------------------------------------------------------- bad specs


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the catalog that the loader reads instead of the real one."""
    shutil.copytree(DATA / "catalog", tmp_path / "catalog")
    monkeypatch.setenv("HERMES_DATA_DIR", str(tmp_path))
    return tmp_path / "catalog"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_bad_unknown_key(catalog: Path) -> None:
    """A misspelt key is refused, naming the file, the key and the allowed keys."""
    _edit(catalog / "gpus" / "rtx_4090.yaml", "memory_GiB:", "memory_GB:")
    with pytest.raises(ValueError, match=r"catalog/gpus/rtx_4090.yaml: unknown field 'memory_GB'; "
                                         r"allowed: .*memory_GiB"):
        io.load_gpu("rtx_4090")


def test_bad_missing_key(catalog: Path) -> None:
    path = catalog / "gpus" / "t4.yaml"
    path.write_text("\n".join(ln for ln in path.read_text().splitlines()
                              if not ln.startswith("pcie_lanes")))
    with pytest.raises(ValueError, match=r"t4.yaml: missing field 'pcie_lanes'"):
        io.load_gpu("t4")


def test_bad_wrong_type(catalog: Path) -> None:
    _edit(catalog / "hosts" / "i9_13900k.yaml", "dram_channels: {value: 2,",
          "dram_channels: {value: two,")
    with pytest.raises(ValueError, match=r"i9_13900k.yaml: field 'dram_channels': expected an integer, "
                                         r"got 'two'"):
        io.load_host("i9_13900k")


def test_bad_float_for_int(catalog: Path) -> None:
    _edit(catalog / "dimms" / "ddr4_3200_ndp.yaml", "ranks: {value: 4,", "ranks: {value: 4.5,")
    with pytest.raises(ValueError, match=r"field 'ranks': expected an integer, got 4.5"):
        io.load_dimm("ddr4_3200_ndp")


def test_bad_duplicate_key(catalog: Path) -> None:
    path = catalog / "gpus" / "t4.yaml"
    path.write_text(path.read_text() + "pcie_gen: {value: 4, source: again}\n")
    with pytest.raises(ValueError, match=r"t4.yaml: duplicate key 'pcie_gen'"):
        io.load_gpu("t4")


@pytest.mark.parametrize("bad", ["0", "-320"])
def test_bad_zero_or_negative_rate(catalog: Path, bad: str) -> None:
    _edit(catalog / "gpus" / "t4.yaml", "memory_bandwidth_GBps: {value: 320,",
          f"memory_bandwidth_GBps: {{value: {bad},")
    with pytest.raises(ValueError, match=rf"field 'memory_bandwidth_GBps': must be positive, got {bad}"):
        io.load_gpu("t4")


def test_bad_profiled_value_is_checked_under_the_other_profile(catalog: Path) -> None:
    """A broken datasheet value fails even when loading under the paper profile."""
    _edit(catalog / "gpus" / "rtx_4090.yaml", "datasheet: {value: 1008,", "datasheet: {value: -1,")
    with pytest.raises(ValueError, match=r"memory_bandwidth_GBps"):
        io.load_gpu("rtx_4090", "paper")


def test_bad_missing_source(catalog: Path) -> None:
    _edit(catalog / "links" / "nvlink3.yaml", "generation: {value: 3, source: \"NVIDIA A100 datasheet\"}",
          "generation: {value: 3}")
    with pytest.raises(ValueError, match=r"nvlink3.yaml: field 'generation': expected \{value"):
        io.load_link("nvlink3")


def test_bad_timing_table(catalog: Path) -> None:
    _edit(catalog / "dimms" / "ddr4_3200_ndp.yaml", "tFAW: 26}", "tFAW: 26, tXYZ: 3}")
    with pytest.raises(ValueError, match=r"field 'timings_cycles': unknown keys \['tXYZ'\]"):
        io.load_dimm("ddr4_3200_ndp")


def test_bad_efficiency_fraction(catalog: Path) -> None:
    # The gpu entry is calibrated (its value changes with a refit): prefix a "1" to its fraction.
    _edit(catalog / "efficiency.yaml", "gpu:\n  bandwidth_frac: {value: 0.",
          "gpu:\n  bandwidth_frac: {value: 10.")
    with pytest.raises(ValueError, match=r"efficiency.yaml \[gpu\]: field 'bandwidth_frac': must be in"):
        io.load_gpu("rtx_4090")


def test_bad_system_count(catalog: Path) -> None:
    _edit(catalog / "systems" / "hermes_paper.yaml", "n_dimms: {value: 8,", "n_dimms: {value: 0,")
    with pytest.raises(ValueError, match=r"hermes_paper.yaml: field 'n_dimms': must be positive, got 0"):
        io.load_system("hermes_paper")


def test_spec_post_init_validates_direct_construction() -> None:
    """Building a spec by hand with a non-positive rate fails too, naming the field."""
    from dataclasses import replace

    gpu = hm.load_gpu("rtx_4090")
    with pytest.raises(ValueError, match="memory_bandwidth_bytes_per_s must be positive"):
        replace(gpu, memory_bandwidth_bytes_per_s=0.0)


# ------------------------------------------------------------------------ cached listings


def test_catalog_listing_is_cached_and_follows_the_folder(catalog: Path) -> None:
    """Catalog folders are listed once per modification (a system load checks slugs a dozen
    times): a file added or removed later is seen."""
    import os

    io.load_system("hermes_paper")
    before = io._listing.cache_info()
    io.load_system("hermes_paper")
    after = io._listing.cache_info()
    assert after.misses == before.misses and after.hits > before.hits  # no folder re-listed
    folder = catalog / "gpus"
    assert "my_t4" not in io.catalog_slugs("gpus")
    shutil.copy(folder / "t4.yaml", folder / "my_t4.yaml")
    # file times may be coarser than two quick writes: move the folder's time on explicitly
    stat = folder.stat()
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "my_t4" in io.catalog_slugs("gpus")
    assert io.load_gpu("my_t4").memory_bytes == io.load_gpu("t4").memory_bytes
    (folder / "my_t4.yaml").unlink()
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    with pytest.raises(ValueError, match=r"unknown GPU 'my_t4'"):
        io.load_gpu("my_t4")


def test_efficiency_is_cached_and_follows_the_file(catalog: Path) -> None:
    """The efficiencies are parsed once per version of efficiency.yaml; an edit is seen."""
    first = io.load_efficiency("gpu")
    assert io.load_efficiency("gpu") is first  # shared: Efficiency is frozen
    _edit(catalog / "efficiency.yaml", "overhead_us: {value: 9.96,", "overhead_us: {value: 19.96,")
    assert io.load_efficiency("gpu").overhead_s == pytest.approx(first.overhead_s + 10e-6)
    assert io.load_gpu("t4").efficiency.overhead_s == pytest.approx(19.96e-6)


def test_every_achievable_rate_is_peak_times_its_fraction() -> None:
    """GPU, host, link and NDP-DIMM: achievable = peak × the kind's fraction (0.5 for bandwidth,
    0.25 for compute here, so a multiplication cannot pass for a division)."""
    from dataclasses import replace

    eff = specs.Efficiency(bandwidth_frac=0.5, compute_frac=0.25, overhead_s=0.0, source="test")
    gpu = replace(hm.load_gpu("rtx_4090"), efficiency=eff)
    assert gpu.achievable_bandwidth_bytes_per_s == pytest.approx(0.5 * gpu.memory_bandwidth_bytes_per_s)
    assert gpu.achievable_flop_per_s == pytest.approx(0.25 * gpu.fp16_flop_per_s)
    host = replace(io.load_host("i9_13900k"), efficiency=eff)
    assert host.achievable_bandwidth_bytes_per_s == pytest.approx(0.5 * host.dram_bandwidth_bytes_per_s)
    assert host.achievable_flop_per_s == pytest.approx(0.25 * host.flop_per_s)
    link = replace(io.load_link("pcie4_x16"), efficiency=eff)
    assert link.achievable_bandwidth_bytes_per_s == pytest.approx(
        0.5 * link.bandwidth_per_direction_bytes_per_s)
    dimm = replace(io.load_dimm("ddr4_3200_ndp"), efficiency=eff)
    assert dimm.achievable_bandwidth_bytes_per_s == pytest.approx(0.5 * 102.4e9)
    # 256 multipliers × 8 fp16 values × 2 FLOP at 1 GHz over the default cycles per op
    assert dimm.achievable_flop_per_s == pytest.approx(
        0.25 * 256 * 8 * 2 * 1e9 / dimm.ndp_cycles_per_op)


def test_efficiency_fraction_bounds() -> None:
    """A fraction of peak lies in (0, 1]: 1 is allowed, 0 is not."""
    assert specs.Efficiency(bandwidth_frac=1.0, compute_frac=1.0, overhead_s=0.0,
                            source="t").bandwidth_frac == 1.0
    for field in ("bandwidth_frac", "compute_frac"):
        kw = {"bandwidth_frac": 0.5, "compute_frac": 0.5, field: 0.0}
        with pytest.raises(ValueError, match=rf"{field} must be in \(0, 1\], got 0.0"):
            specs.Efficiency(overhead_s=0.0, source="t", **kw)


def test_bad_timing_of_zero_cycles(catalog: Path) -> None:
    _edit(catalog / "dimms" / "ddr4_3200_ndp.yaml", "tFAW: 26}", "tFAW: 0}")
    with pytest.raises(ValueError, match=r"field 'timings_cycles'.tFAW: expected a positive integer, got 0"):
        io.load_dimm("ddr4_3200_ndp")


def test_pcie_runs_at_the_narrower_width(catalog: Path) -> None:
    """A GPU with eight lanes on an x16 slot gets the x8 link (a catalog entry added here)."""
    from dataclasses import replace

    text = (catalog / "links" / "pcie4_x16.yaml").read_text()
    (catalog / "links" / "pcie4_x8.yaml").write_text(
        text.replace("PCIe 4.0 x16", "PCIe 4.0 x8").replace("lanes: {value: 16,", "lanes: {value: 8,")
        .replace("paper: {value: 64,", "paper: {value: 32,"))
    gpu = replace(io.load_gpu("rtx_4090"), pcie_lanes=8)
    link = io.effective_pcie_link(io.load_link("pcie4_x16"), gpu, io.load_host("i9_13900k"), "paper")
    assert (link.slug, link.lanes) == ("pcie4_x8", 8)
    assert link.bandwidth_per_direction_bytes_per_s == pytest.approx(32e9)


def test_system_counts_must_be_positive() -> None:
    for key in ("n_dimms", "n_gpus"):
        with pytest.raises(ValueError, match=rf"{key} must be a positive integer, got 0"):
            io.load_system("hermes_paper", **{key: 0})


def test_unknown_paper_table_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown paper table 'fig99.csv'; valid: .*fig9.csv"):
        io.load_paper_table("fig99.csv")
    assert len(io.load_paper_table("fig9.csv")) > 0
