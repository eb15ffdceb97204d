"""The only module that reads files: the catalog, model configs and data tables under ``data/``.

`data_dir()` is the repository's ``data/`` folder; the environment variable ``HERMES_DATA_DIR``
overrides it (tests point it at a temporary copy to check that bad entries are refused).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import yaml

from hermes_model import specs
from hermes_model.shapes import ModelSpec, model_from_config
from hermes_model.specs import DimmSpec, Efficiency, GpuSpec, HostSpec, LinkSpec, SystemSpec

if TYPE_CHECKING:
    import pandas as pd

    from hermes_model.policies import Activity

#: Catalog folders, by kind of entry.
CATALOG_KINDS = ("gpus", "hosts", "links", "dimms", "systems")


#: The package's own data folder (resolved once: `data_dir` is called on every catalog read).
_PACKAGE_DATA_DIR: Final = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    """The data folder: ``$HERMES_DATA_DIR`` if set, else ``data/`` beside the package.

    Raises ``ValueError`` if the folder has no ``catalog/`` (a mistyped ``$HERMES_DATA_DIR``).
    """
    env = os.environ.get("HERMES_DATA_DIR")
    path = Path(env) if env else _PACKAGE_DATA_DIR
    if not (path / "catalog").is_dir():
        where = f"HERMES_DATA_DIR={env!r}" if env else "the package's data folder"
        raise ValueError(f"data directory {str(path)!r} ({where}) has no catalog/ folder")
    return path


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise ValueError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@lru_cache(maxsize=256)
def _parse_yaml(path: Path, mtime_ns: int, size_bytes: int) -> Any:
    """Parse one YAML file; cached by path, modification time and size (a rewrite re-parses)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_StrictLoader)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None


def read_yaml(path: Path) -> Any:
    """Read one YAML file strictly; errors name the file.

    A system load reads ``efficiency.yaml`` a dozen times: parsed files are cached (keyed on the
    path, so a changed ``$HERMES_DATA_DIR`` reads its own files) and each call gets its own copy.
    """
    stat = path.stat()
    return copy.deepcopy(_parse_yaml(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=64)
def _listing(folder: Path, mtime_ns: int) -> tuple[str, ...]:
    """Sorted stems of the ``*.yaml`` files of `folder`; cached by the folder's path and
    modification time (adding or removing a file lists it again)."""
    return tuple(sorted(p.stem for p in folder.glob("*.yaml")))


def _slugs(kind: str) -> tuple[str, ...]:
    """`catalog_slugs` as a tuple, from the cached listing of the catalog folder (a system load
    checks slugs a dozen times)."""
    if kind not in CATALOG_KINDS:
        raise ValueError(f"catalog kind must be one of {', '.join(CATALOG_KINDS)}; got {kind!r}")
    folder = data_dir() / "catalog" / kind
    try:
        mtime_ns = folder.stat().st_mtime_ns
    except FileNotFoundError:
        return ()
    return _listing(folder, mtime_ns)


def catalog_slugs(kind: str) -> list[str]:
    """Slugs of one catalog kind (``gpus``, ``hosts``, ``links``, ``dimms``, ``systems``)."""
    return list(_slugs(kind))


def _slug_key(text: str) -> str:
    """How a slug is matched: case and separators (``-``, ``_``, ``.``, spaces) do not matter
    (``LLaMA2-70B`` and ``llama270b`` are ``llama2_70b``, ``RTX 4090`` is ``rtx_4090``), nor does
    a B after a size in gigabytes (the paper's ``A100-40GB-SXM4`` is ``a100_40g_sxm4``)."""
    return re.sub(r"(\d)gb", r"\1g", re.sub(r"[-_.\s]+", "", text.strip().lower()))


def resolve_slug(text: str, slugs: Sequence[str], what: str) -> str:
    """The slug of `slugs` that `text` names, spelled as in the catalog.

    `text` matches a slug exactly or up to case, hyphens, dots and spaces (the paper writes
    ``OPT-13B``, the catalog ``opt_13b``). Otherwise ``ValueError`` naming `what`, the value,
    the closest slugs and every valid one.

    Examples
    --------
    >>> resolve_slug("LLaMA2-70B", ["llama2_13b", "llama2_70b"], "model")
    'llama2_70b'
    """
    if text in slugs:
        return text
    if not isinstance(text, str):
        got = repr(text)
        if len(got) > 60:  # a spec object: its type and slug, not its whole repr
            got = f"a {type(text).__name__}" + (f" ({text.slug!r})" if hasattr(text, "slug")
                                                else "")
        raise ValueError(f"{what} must be a slug (a string), got {got}; "
                         f"valid: {', '.join(slugs)}")
    key = _slug_key(text)
    matches = [slug for slug in slugs if _slug_key(slug) == key]
    if len(matches) == 1:  # two slugs alike but for separators: only an exact name will do
        return matches[0]
    starts = [s for s in slugs if _slug_key(s).startswith(key)] if key else []
    close = list(dict.fromkeys([*starts, *difflib.get_close_matches(text.strip().lower(), slugs,
                                                                    n=3, cutoff=0.6)]))[:3]
    hint = ""
    if close:
        names = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
        hint = f" (did you mean {names}?)"
    raise ValueError(f"unknown {what} {text!r}{hint}; valid: {', '.join(slugs)}")


def _entry(kind: str, slug: str | os.PathLike[str], what: str) -> tuple[Any, str, str]:
    """The parsed YAML of one catalog entry, its origin and its slug as the catalog spells it
    (up to case and hyphens, `resolve_slug`); or, where `slug` names a file (`is_file_argument`:
    a ``pathlib.Path``, text ending in ``.yaml``/``.yml`` or holding a ``/``, or the name of an
    existing file or folder), that file, in
    the catalog's schema, labelled by its path. A catalog slug is always a slug."""
    if isinstance(slug, os.PathLike):
        slug = os.fspath(slug)
    if not (isinstance(slug, str) and is_file_argument(slug, (".yaml", ".yml"), _slugs(kind))):
        slug = resolve_slug(slug, _slugs(kind), what)
        return (read_yaml(data_dir() / "catalog" / kind / f"{slug}.yaml"),
                f"catalog/{kind}/{slug}.yaml", slug)
    path = Path(slug)
    if path.is_dir():
        raise ValueError(f"{what} file {slug!r} is a directory")
    if not path.is_file():
        raise ValueError(f"{what} file {slug!r} not found (a catalog {what} is a slug: "
                         f"{', '.join(_slugs(kind))})")
    return read_yaml(path), slug, slug


@lru_cache(maxsize=16)
def _slots_of(link_slugs: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    found = (re.fullmatch(r"pcie(\d+)_x(\d+)", s) for s in link_slugs)
    return tuple(sorted((int(m[1]), int(m[2])) for m in found if m))


def _pcie_slots() -> list[tuple[int, int]]:
    """(generation, lanes) of the catalog's PCIe links, from their ``pcie{gen}_x{lanes}`` slugs:
    the links `effective_pcie_link` can load."""
    return list(_slots_of(_slugs("links")))


def _check_pcie(spec: GpuSpec | HostSpec, origin: str) -> None:
    """A GPU's or host's PCIe generation and width must be ones the catalog has a link for."""
    slots = _pcie_slots()
    for key, value, allowed in (("pcie_gen", spec.pcie_gen, {g for g, _ in slots}),
                                ("pcie_lanes", spec.pcie_lanes, {n for _, n in slots})):
        if value not in allowed:
            raise ValueError(f"{origin}: field {key!r}: must be one of "
                             f"{', '.join(map(str, sorted(allowed)))} (the catalog's PCIe links), "
                             f"got {value!r}")


def load_efficiency(kind: str) -> Efficiency:
    """Achievable fractions and overhead of one device kind, from ``catalog/efficiency.yaml``.

    `kind` is one of `specs.EFFICIENCY_KINDS`: ``gpu``, ``host_cpu``, ``pcie``, ``nvlink``,
    ``dimm_link``, ``ndp_dimm``; a spec built in Python takes its kind's (``GpuSpec(...,
    efficiency=load_efficiency("gpu"))``), as the catalog's do.
    """
    if kind not in specs.EFFICIENCY_KINDS:
        raise ValueError(f"efficiency kind must be one of {', '.join(specs.EFFICIENCY_KINDS)}, "
                         f"got {kind!r}")
    path = data_dir() / "catalog" / "efficiency.yaml"
    stat = path.stat()
    return _efficiency(path, stat.st_mtime_ns, stat.st_size, kind)


@lru_cache(maxsize=64)
def _efficiency(path: Path, mtime_ns: int, size_bytes: int, kind: str) -> Efficiency:
    """One kind's `Efficiency` (frozen, so shared), cached like `_parse_yaml`: a system load
    asks for a dozen; `specs.parse_efficiency` only reads the cached parse."""
    return specs.parse_efficiency(_parse_yaml(path, mtime_ns, size_bytes), kind, origin=str(path))


def load_gpu(slug: str | os.PathLike[str], profile: str = "paper") -> GpuSpec:
    """Load a GPU under `profile` (``paper`` or ``datasheet``).

    `slug` is a catalog slug (``rtx_4090``, or ``RTX 4090``: `resolve_slug`) or the path of a
    YAML file of the catalog's schema outside it (a ``pathlib.Path``, text ending in
    ``.yaml``/``.yml`` or holding a ``/``, or the name of an existing file or folder, which is
    then read as such a file); a file's GPU is labelled by its path. The same holds
    for `load_host`, `load_link` and `load_dimm`.

    Examples
    --------
    >>> load_gpu("RTX 4090").memory_bandwidth_bytes_per_s
    936000000000.0
    """
    specs.check_profile(profile)
    raw, origin, slug = _entry("gpus", slug, "GPU")
    gpu = specs.parse_gpu(raw, slug=slug, profile=profile, efficiency=load_efficiency("gpu"),
                          origin=origin)
    _check_pcie(gpu, origin)
    return gpu


def load_host(slug: str | os.PathLike[str], profile: str = "paper") -> HostSpec:
    """Load a host CPU and its DRAM under `profile`; `slug` as in `load_gpu` (a slug or a file)."""
    specs.check_profile(profile)
    raw, origin, slug = _entry("hosts", slug, "host")
    host = specs.parse_host(raw, slug=slug, profile=profile,
                            efficiency=load_efficiency("host_cpu"), origin=origin)
    _check_pcie(host, origin)
    return host


def load_link(slug: str | os.PathLike[str], profile: str = "paper") -> LinkSpec:
    """Load a link (PCIe, NVLink, DIMM-link) under `profile`; `slug` as in `load_gpu`."""
    specs.check_profile(profile)
    raw, origin, slug = _entry("links", slug, "link")
    effs = {k: load_efficiency(k) for k in specs.LINK_KINDS}
    return specs.parse_link(raw, slug=slug, profile=profile, efficiencies=effs, origin=origin)


def load_dimm(slug: str | os.PathLike[str], profile: str = "paper") -> DimmSpec:
    """Load an NDP-DIMM under `profile` (its timing table is the same under both); `slug` as in
    `load_gpu` (a catalog slug, or a YAML file of your own in the catalog's schema)."""
    specs.check_profile(profile)
    raw, origin, slug = _entry("dimms", slug, "DIMM")
    return specs.parse_dimm(raw, slug=slug, profile=profile,
                            efficiency=load_efficiency("ndp_dimm"), origin=origin)


def load_device(slug: str, profile: str = "paper") -> GpuSpec | HostSpec | DimmSpec:
    """Load a compute device by slug: a GPU, a host CPU or an NDP-DIMM."""
    slug = resolve_slug(slug, device_slugs(), "device")
    load = load_gpu if slug in _slugs("gpus") else load_host if slug in _slugs("hosts") else load_dimm
    return load(slug, profile)


def device_slugs() -> list[str]:
    """Slugs of every compute device: the GPUs, the host CPUs and the NDP-DIMMs."""
    return [*catalog_slugs("gpus"), *catalog_slugs("hosts"), *catalog_slugs("dimms")]


def effective_pcie_link(link: LinkSpec, gpu: GpuSpec, host: HostSpec, profile: str) -> LinkSpec:
    """The PCIe link a GPU really gets: the lowest generation and width of link, GPU and host.

    A T4 (a PCIe 3.0 device) on a PCIe 4.0 slot runs at 3.0: the catalog's ``pcie{gen}_x{lanes}``
    entry is loaded for the effective generation and width.
    """
    if link.kind != "pcie":
        return link
    gen = min(link.generation, gpu.pcie_gen, host.pcie_gen)
    lanes = min(link.lanes, gpu.pcie_lanes, host.pcie_lanes)
    if (gen, lanes) == (link.generation, link.lanes):
        return link
    return load_link(f"pcie{gen}_x{lanes}", profile)


def is_file_argument(text: str, suffixes: tuple[str, ...], slugs: Sequence[str]) -> bool:
    """Whether a command-line value names a file rather than a catalog slug.

    One of `slugs` (the catalog's) is always a slug, even where a file of that name happens to
    be in the working folder; anything else is a path if it ends in one of `suffixes`, contains
    a path separator, or exists (a file, or a model folder).
    """
    if text in slugs or not text.strip():  # '' is not the working folder
        return False
    return (text.endswith(suffixes) or "/" in text or os.sep in text
            or Path(text).exists())


def system_refs(slug: str) -> dict[str, Any]:
    """A system's parts as its file names them (slugs and counts, before any override or the
    PCIe clamp of `effective_pcie_link`)."""
    raw, origin, _ = _entry("systems", slug, "system")
    return dict(specs.parse_system_refs(raw, origin=origin)[0])


def _role_link(role: str, slug: str, profile: str) -> LinkSpec:
    """Load the link of a system's `role` (host_link, gpu_link, dimm_link), checking its kind."""
    link = load_link(slug, profile)
    kinds = specs.LINK_ROLES[role]
    if link.kind not in kinds:
        valid = [s for s in catalog_slugs("links") if load_link(s, profile).kind in kinds]
        raise ValueError(f"{role} {slug!r} is a link of kind {link.kind}; {role} must be of "
                         f"kind {' or '.join(kinds)}: {', '.join(valid)}")
    return link


def load_system(slug: str | os.PathLike[str], profile: str = "paper", *,
                gpu: str | os.PathLike[str] | GpuSpec | None = None, n_gpus: int | None = None,
                host: str | os.PathLike[str] | HostSpec | None = None,
                host_link: str | os.PathLike[str] | LinkSpec | None = None,
                gpu_link: str | os.PathLike[str] | LinkSpec | None = None,
                dimm: str | os.PathLike[str] | DimmSpec | None = None,
                n_dimms: int | None = None) -> SystemSpec:
    """Load a system under `profile`; keyword overrides swap one part (what-ifs).

    `slug` is a catalog slug (always, even where a file of that name is in the working folder)
    or the path of a system YAML file (ending in ``.yaml``/``.yml``, containing a ``/``, or an
    existing file); a file's system is labelled by its path. Its parts are catalog slugs or
    paths of part files (`load_gpu`), a relative path read from the system file's folder.
    The host link must be a PCIe link, the GPU link NVLink or PCIe, the DIMM link a DIMM-link
    (`specs.LINK_ROLES`).

    Each override of a part is a catalog slug, the path of a part file, or a spec built in
    Python (a `GpuSpec`, `HostSpec`, `LinkSpec` or `DimmSpec` loaded under the same `profile`).
    Prefer an override to ``dataclasses.replace(system, gpu=...)``: the host link here is the
    one the GPU really gets (`effective_pcie_link`), which ``replace`` cannot re-derive
    (`SystemSpec` refuses a host link faster than its GPU or host).

    Examples
    --------
    >>> load_system("hermes_paper", gpu="t4").host_link.generation
    3
    >>> t4 = load_gpu("t4")
    >>> load_system("hermes_paper", gpu=t4).host_link.slug
    'pcie3_x16'
    """
    specs.check_profile(profile)
    raw, origin, slug = _entry("systems", slug, "system")  # a pathlib.Path is a system file
    refs, sources, name, notes = specs.parse_system_refs(raw, origin=origin)
    overrides = {"gpu": gpu, "n_gpus": n_gpus, "host": host, "host_link": host_link,
                 "gpu_link": gpu_link, "dimm": dimm, "n_dimms": n_dimms}
    for key, value in overrides.items():
        if value is not None:
            refs[key] = value
            sources[key] = "override"
    for key in ("n_gpus", "n_dimms"):
        if isinstance(refs[key], bool) or not isinstance(refs[key], int) or refs[key] <= 0:
            raise ValueError(f"{key} must be a positive integer, got {refs[key]!r}")

    folder = Path(origin).parent if origin == slug else None  # a system file's folder

    def part(key: str, load: Callable[[Any], Any], cls: type) -> Any:
        """Load one part (a spec given as an override is taken as it is, checked for its type
        and profile); an error names the system file and field it came from (an override is
        the caller's own argument and is named by the loader)."""
        ref = refs[key]
        if isinstance(ref, cls):
            if ref.profile != profile:
                raise ValueError(f"{key} {ref.slug!r} was loaded under profile {ref.profile!r}, "
                                 f"the system under {profile!r}: load it with "
                                 f"profile={profile!r}")
            return ref
        if (sources[key] != "override" and folder is not None and isinstance(ref, str)
                and ref not in _slugs(_PART_KINDS[key])
                and is_file_argument(ref, (".yaml", ".yml"), ()) and not Path(ref).is_absolute()):
            ref = str(folder / ref)  # a part file named in a system file: beside it
        try:
            return load(ref)
        except ValueError as exc:
            if sources[key] == "override":
                raise
            raise ValueError(f"{origin}: field {key}: {exc}") from None

    gpu_spec = part("gpu", lambda r: load_gpu(r, profile), GpuSpec)
    host_spec = part("host", lambda r: load_host(r, profile), HostSpec)
    link = effective_pcie_link(
        part("host_link", lambda r: _role_link("host_link", r, profile), LinkSpec),
        gpu_spec, host_spec, profile)
    return SystemSpec(
        slug=slug, name=name, profile=profile,  # type: ignore[arg-type]
        gpu=gpu_spec, n_gpus=refs["n_gpus"], host=host_spec, host_link=link,
        gpu_link=part("gpu_link", lambda r: _role_link("gpu_link", r, profile), LinkSpec),
        dimm=part("dimm", lambda r: load_dimm(r, profile), DimmSpec), n_dimms=refs["n_dimms"],
        dimms_per_channel=refs["dimms_per_channel"],
        dimm_link=part("dimm_link", lambda r: _role_link("dimm_link", r, profile), LinkSpec),
        sources=sources, notes=notes)


#: The catalog folder of each part of a system.
_PART_KINDS: Final = {"gpu": "gpus", "host": "hosts", "host_link": "links", "gpu_link": "links",
                      "dimm": "dimms", "dimm_link": "links"}


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


def _model_index() -> Mapping[str, Any]:
    path = data_dir() / "models" / "models.yaml"
    index = read_yaml(path)
    if not isinstance(index, Mapping):
        raise ValueError(f"{path}: expected a mapping of model slugs")
    return index


def model_slugs() -> list[str]:
    """Slugs of the models with a committed ``config.json``."""
    return sorted(_model_index())


def model_config(slug: str) -> dict[str, Any]:
    """The committed HuggingFace ``config.json`` of a catalog model."""
    slug = resolve_slug(slug, model_slugs(), "model")
    return read_model_config(data_dir() / "models" / f"{slug}.json")


def load_model(slug: str | os.PathLike[str]) -> ModelSpec:
    """Load a model's shape from its committed HuggingFace ``config.json`` and index entry;
    `slug` as in `resolve_slug` (``OPT-13B`` loads ``opt_13b``). A path (a ``pathlib.Path``, or
    text ending in ``.json``, holding a ``/`` or naming an existing file or folder, as the CLI's
    ``--model`` takes it) loads that file instead (`load_model_file`); a catalog slug is always
    a slug.

    Examples
    --------
    >>> load_model("LLaMA2-70B").n_layers
    80
    """
    if isinstance(slug, os.PathLike) or (
            isinstance(slug, str) and is_file_argument(slug, (".json",), model_slugs())):
        return load_model_file(slug)
    slug = resolve_slug(slug, model_slugs(), "model")
    config = model_config(slug)
    return model_from_config(slug, config, _model_index()[slug])


def load_model_file(path: str | os.PathLike[str]) -> ModelSpec:
    """A model from any HuggingFace ``config.json`` (or a folder holding one), labelled by its
    path: it never takes a catalog model's name or activation statistics. Its parameter count
    is counted from the shapes (a file states none). Its display name is the file's stem, or
    the folder's name for a file called ``config.json`` (``mistral_7b/config.json`` is
    ``mistral_7b``)."""
    import dataclasses

    from hermes_model import shapes

    path = os.fspath(path)
    config = read_model_config(path)
    native = shapes.config_native_activation(path, config)
    stem = Path(path).resolve()
    name = stem.parent.name if stem.name == "config.json" and stem.parent.name else stem.stem
    meta = {"name": name, "config_source": path, "card_parameter_count": 1,
            "card_parameter_source": "not given",
            "activation": "reglu" if native == "swiglu" else "relu",
            "native_activation": native, "notes": "from a config.json file"}
    model = model_from_config(path, config, meta)
    return dataclasses.replace(model, card_parameter_count=shapes.parameter_count(model))


def read_model_config(path: str | Path) -> dict[str, Any]:
    """A HuggingFace ``config.json`` from any path (the CLI's ``estimate --model FILE.json``),
    or from a model folder that holds one (a downloaded checkpoint); errors name the file."""
    path = Path(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ValueError(f"model config {str(path)!r} is a folder without a config.json")
        path = path / "config.json"
    if not path.exists():
        raise ValueError(f"model config {str(path)!r} not found")
    if not path.is_file():
        raise ValueError(f"model config {str(path)!r} is not a regular file")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"model config {str(path)!r}: cannot read it as JSON: {exc}") from None
    if not isinstance(config, dict):
        got = "null" if config is None else type(config).__name__
        raise ValueError(f"model config {str(path)!r}: expected a JSON object, got {got}")
    return config


def _first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line, or its type where it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_csv(path: Path, columns: Sequence[str], **kwargs: Any) -> pd.DataFrame:
    """``pd.read_csv(path, **kwargs)``, with a ``ValueError`` naming the file when it is missing,
    unreadable, or lacks one of ``columns`` (the columns its loader promises)."""
    import pandas as pd

    try:
        df = pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found (a data file of the repository)") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError) as exc:
        reason = _first_line(exc)
        raise ValueError(f"{path}: not a readable CSV table ({reason})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: column(s) {', '.join(missing)} missing; the file needs "
                         f"{', '.join(columns)}")
    return df


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------


def measurement_names() -> list[str]:
    """Names of the committed measurement tables (``data/measured/<name>.csv``)."""
    return sorted(p.stem for p in (data_dir() / "measured").glob("*.csv"))


def load_measurements(name: str) -> pd.DataFrame:
    """One measurement table of ``data/measured/`` as a pandas DataFrame (one row a measurement).

    Examples
    --------
    >>> load_measurements("gpu_h200_20261126")["device_name"].iloc[0]
    'NVIDIA H200'
    """
    path = data_dir() / "measured" / f"{name}.csv"
    if not path.is_file():
        raise ValueError(f"unknown measurement {name!r}; valid: {', '.join(measurement_names())}")
    return _read_csv(path, ("kind", "median_s", "device_name"))


def load_paper_fig16() -> pd.DataFrame:
    """The paper's Fig. 16 statements (and the digest's inferred per-DIMM rates), for comparison only.

    Columns: ``quantity``, ``batch``, ``multipliers``, ``value``, ``unit``, ``kind``
    (``stated`` by the paper or ``inferred`` from its figures), ``source``.
    """
    return _read_csv(data_dir() / "paper" / "fig16.csv",
                     ("quantity", "batch", "multipliers", "value", "unit", "kind", "source"))


#: The paper's sensitivity and cost results (issue 10), for comparison only.
PAPER_SENSITIVITY = ("fig14", "fig15", "fig17")
_SENSITIVITY_COLUMNS = {
    "fig14": ("model", "n_dimms", "batch", "tokens_per_s", "supported", "source"),
    "fig15": ("name", "value", "definition", "source"),
    "fig17": ("batch", "efficiency", "gap_label", "hermes_tokens_per_s", "trt_tokens_per_s",
              "source"),
}


def load_paper_sensitivity(name: str) -> pd.DataFrame:
    """The paper's Fig. 14 (``model``, ``n_dimms``, ``batch``, ``tokens_per_s``, ``supported``),
    Fig. 15 (stated averages: ``name``, ``value``, ``definition``) or Fig. 17 (``batch``,
    ``efficiency``, ``gap_label``, ``hermes_tokens_per_s``, ``trt_tokens_per_s``) from
    ``data/paper/``; every row has ``source`` and, where needed, ``kind`` (stated, read or
    inferred) and ``note``."""
    if name not in PAPER_SENSITIVITY:
        raise ValueError(f"unknown paper table {name!r}; valid: {', '.join(PAPER_SENSITIVITY)}")
    return _read_csv(data_dir() / "paper" / f"{name}.csv", _SENSITIVITY_COLUMNS[name])


def load_prices() -> pd.DataFrame:
    """Purchase prices from ``catalog/prices.yaml``: ``slug``, ``name``, ``price_usd``,
    ``source`` (one row per entry)."""
    import pandas as pd

    path = data_dir() / "catalog" / "prices.yaml"
    raw = read_yaml(path)
    rows = []
    for slug, entry in raw.items():
        if slug in ("schema_version", "notes"):
            continue
        if set(entry) != {"name", "price_USD"} or set(entry["price_USD"]) != {"value", "source"}:
            raise ValueError(f"{path}: {slug} needs exactly name and price_USD {{value, source}}")
        value = entry["price_USD"]["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 < value < float("inf")):
            raise ValueError(f"{path}: {slug}.price_USD must be a positive finite number, "
                             f"got {value!r}")
        rows.append({"slug": slug, "name": entry["name"], "price_usd": float(value),
                     "source": entry["price_USD"]["source"]})
    return pd.DataFrame(rows)


#: The paper's end-to-end results under ``data/paper/`` (issue 9), for comparison only.
PAPER_FIGURES = ("fig9", "fig10", "fig11", "averages")


def load_paper_figure(name: str) -> pd.DataFrame:
    """The paper's bars of Fig. 9, 10 or 11, or its stated averages (``averages``).

    Figures: ``figure``, ``model`` (catalog slug), ``policy`` (policy name), ``batch``,
    ``tokens_per_s`` (NaN where the paper prints N.P.), ``supported``, ``source``, ``note``.
    Averages: ``name``, ``value``, ``value_high`` (for a range), ``unit``, ``definition``,
    ``figures``, ``source``, ``note``. Bar values are read from the figure labels; which bar a
    label belongs to is the digest's assignment (see ``note``).
    """
    if name not in PAPER_FIGURES:
        raise ValueError(f"unknown paper figure {name!r}; valid: {', '.join(PAPER_FIGURES)}")
    columns = (("name", "value", "value_high", "unit", "source") if name == "averages"
               else ("model", "policy", "batch", "tokens_per_s", "supported", "source"))
    return _read_csv(data_dir() / "paper" / f"{name}.csv", columns, keep_default_na=True)


# ---------------------------------------------------------------------------------------------
# Activation sparsity (issue 6): measured traces and published statistics
# ---------------------------------------------------------------------------------------------

#: Measured activation data sets under ``data/activations/``.
ACTIVATION_SETS = ("minilm", "smollm2")


def _activation_path(name: str, suffix: str) -> Path:
    if name not in ACTIVATION_SETS:
        raise ValueError(f"unknown activation data set {name!r}; valid: {', '.join(ACTIVATION_SETS)}")
    return data_dir() / "activations" / f"{name}{suffix}"


def load_activation_summary(name: str) -> dict[str, Any]:
    """Measured activation statistics of ``minilm`` or ``smollm2`` (the JSON summary as is)."""
    return json.loads(_activation_path(name, "_summary.json").read_text(encoding="utf-8"))


def load_activation_frequencies(name: str) -> np.ndarray:
    """Measured per-neuron activation frequencies, shape (layers, neurons)."""
    df = _read_csv(_activation_path(name, "_frequencies.csv"), ("layer", "neuron", "frequency"))
    return (df.pivot(index="layer", columns="neuron", values="frequency")
            .sort_index().to_numpy(dtype=float))


def load_activation_masks(name: str = "minilm") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measured activation masks: ``active`` bool (tokens, layers, neurons), ``seq_id``,
    ``position`` (only ``minilm`` has masks)."""
    path = _activation_path(name, "_masks.npz")
    if not path.is_file():
        raise ValueError(f"no masks for {name!r}; only minilm has masks")
    import zipfile

    try:  # opened here: np.load leaves its own handle open when the archive is broken
        with path.open("rb") as fh, np.load(fh) as z:
            shape = tuple(int(s) for s in z["shape"])
            active = np.unpackbits(z["masks"], axis=int(z["pack_axis"]),
                                   count=shape[0]).astype(bool)
            return (active.reshape(shape), z["seq_id"].astype(np.int64),
                    z["position"].astype(np.int64))
    except (OSError, EOFError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        reason = _first_line(exc)
        raise ValueError(f"{path}: not a readable mask archive (needs arrays shape, masks, "
                         f"pack_axis, seq_id, position; {reason})") from None


#: Columns of ``data/derived/sparsity_validation_minilm.csv``.
SPARSITY_VALIDATION_COLUMNS: Final = ("statistic", "real", "generated", "abs_diff", "tolerance",
                                      "within")


def load_sparsity_validation() -> pd.DataFrame:
    """The generator's validation on MiniLM's held-out sequences
    (``data/derived/sparsity_validation_minilm.csv``, written by
    ``scripts/make_sparsity_validation.py`` with ``sparsity.held_out_validation``): one row per
    statistic, ``real`` (measured, held out), ``generated`` (model, mean of the replicates),
    ``abs_diff``, ``tolerance`` (fixed before the first run) and ``within`` (bool)."""
    df = _read_csv(data_dir() / "derived" / "sparsity_validation_minilm.csv",
                   SPARSITY_VALIDATION_COLUMNS)
    if df["within"].dtype != bool:
        raise ValueError("data/derived/sparsity_validation_minilm.csv: column 'within' must hold "
                         "True or False")
    return df


def load_generator_inputs() -> dict[str, dict[str, Any]]:
    """Per catalog model, the sparsity generator's inputs and their provenance
    (``data/paper/sparsity_generator_inputs.csv``); numbers as float."""
    df = _read_csv(data_dir() / "paper" / "sparsity_generator_inputs.csv",
                   ("model", "mlp_density", "hot_share_80", "similarity_d1", "similarity_d10",
                    "similarity_d25", "qkv_density", "qkv_hot_share_80"))
    return {str(r["model"]): dict(r) for r in df.to_dict(orient="records")}


def activity_slugs() -> list[str]:
    """Slugs of the catalog models that have activation statistics (`load_activity`)."""
    return sorted(load_generator_inputs())


def load_activity(slug: str) -> Activity:
    """The activation statistics of a catalog model (a `policies.Activity`), which the sparse
    policies (``hermes``, ``hermes-host``, ``dejavu``) need in ``Assumptions(activity=...)``.

    `slug` as in `resolve_slug`. These are the ReLU-fied statistics the paper evaluates
    (``data/paper/sparsity_generator_inputs.csv``, one row of `load_generator_inputs` through
    `policies.activity_from_inputs`). A model of your own has none: build a `policies.Activity`
    by hand.

    Examples
    --------
    >>> load_activity("LLaMA2-70B").mlp_density
    0.18
    """
    from hermes_model import policies

    inputs = load_generator_inputs()
    slug = resolve_slug(slug, sorted(inputs), "model with activation statistics")
    return policies.activity_from_inputs(inputs[slug])


def load_published_sparsity() -> pd.DataFrame:
    """Published sparsity statistics, one row per value with its source
    (``data/paper/sparsity_published.csv``; values kept as text, e.g. ``96-98``, ``>0.90``)."""
    return _read_csv(data_dir() / "paper" / "sparsity_published.csv",
                     ("model", "statistic", "value", "unit", "source"), dtype={"value": str})


# ---------------------------------------------------------------------------------------------
# Scheduling (issue 8): the paper's ablation and imbalance claims; the precomputed ablation
# ---------------------------------------------------------------------------------------------

#: Issue 8's tables: the paper's (``data/paper/``) and the precomputed model's (``data/derived/``).
SCHEDULING_TABLES = {"paper_fig13": ("paper", "fig13.csv"),
                     "paper_imbalance": ("paper", "imbalance.csv"),
                     "fig13_ablation": ("derived", "fig13_ablation.csv"),
                     "balance": ("derived", "balance.csv"),
                     "motivation": ("derived", "motivation.csv")}
#: The columns of ``balance`` that its readers use: the case, the imbalances and the remap's
#: migration per decode step (a step decodes ``batch`` tokens, one per sequence; the whole model).
BALANCE_COLUMNS: Final = ("model", "batch", "placement", "imbalance_window", "imbalance_per_token",
                          "layer_window_p95", "migrated_bytes_per_step", "link_s_per_step",
                          "host_s_per_step", "link_exposed_s_per_step", "host_exposed_s_per_step",
                          "link_energy_j_per_step")


def load_scheduling_table(name: str) -> pd.DataFrame:
    """One of `SCHEDULING_TABLES`: the paper's Fig. 13 ratios (``paper_fig13``) and imbalance
    claims (``paper_imbalance``), each with its source; or the model's Fig. 13 ablation
    (``fig13_ablation``) and imbalance table (``balance``, with `BALANCE_COLUMNS`; migration per
    decode step) written by ``scripts/make_fig13.py``;
    or the §III-B/§IV-A motivation numbers (``motivation``) of ``scripts/make_motivation.py``."""
    if name not in SCHEDULING_TABLES:
        raise ValueError(f"unknown scheduling table {name!r}; valid: "
                         f"{', '.join(SCHEDULING_TABLES)}")
    folder, file = SCHEDULING_TABLES[name]
    columns = {"paper_fig13": ("value",), "balance": BALANCE_COLUMNS}.get(name, ())
    return _read_csv(data_dir() / folder / file, columns)


def load_partition_milp() -> pd.DataFrame:
    """Committed results of the reference partition MILP (``data/derived/partition_milp.csv``,
    written by ``scripts/solve_partition_milp.py``)."""
    return _read_csv(data_dir() / "derived" / "partition_milp.csv", ("model", "status"))


def load_paper_predictor() -> pd.DataFrame:
    """The predictor claims of Hermes and its baselines, with sources
    (``data/paper/predictor.csv``; values kept as text, e.g. ``<1``, ``10-25``)."""
    return _read_csv(data_dir() / "paper" / "predictor.csv",
                     ("system", "model", "claim", "value", "unit", "source"), dtype={"value": str})


def load_paper_table(file: str) -> pd.DataFrame:
    """Any CSV of ``data/paper/`` by file name (e.g. ``fig9.csv``), as it is on disk; used to
    check the scorecard's references (``data/paper/scorecard_rows.csv``, ``data_ref``)."""
    path = data_dir() / "paper" / file
    if path.suffix != ".csv" or not path.is_file():
        valid = sorted(p.name for p in (data_dir() / "paper").glob("*.csv"))
        raise ValueError(f"unknown paper table {file!r}; valid: {', '.join(valid)}")
    return _read_csv(path, (), dtype=str, keep_default_na=False)


def load_scorecard_rows() -> pd.DataFrame:
    """The scorecard's rows (``data/paper/scorecard_rows.csv``): the digest's results to
    reproduce (§16), one number, range, threshold, trend or input each, with its paper value,
    rule, source and the ``data/paper`` file and field it comes from."""
    return _read_csv(data_dir() / "paper" / "scorecard_rows.csv",
                     ("id", "row", "figure", "quantity", "kind", "paper_value", "paper_high",
                      "unit", "rule", "source", "data_file", "data_ref"),
                     dtype={"data_file": str, "data_ref": str, "id": str},
                     keep_default_na=False, na_values={"paper_value": [""], "paper_high": [""]})
