"""Bad input, from the CLI and the API: one line naming the field (or flag), the value and what
is allowed; no traceback; exit 2 for bad input, 3 for a configuration that cannot run (N.P.).

One test (or a few) per finding of the input-validation review (numbers in the docstrings).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hermes_model import io, params, policies, roofline, specs
from hermes_model.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: exit status, stdout, stderr."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_sub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hermes_model`` in a subprocess (to see tracebacks)."""
    import os

    return subprocess.run([sys.executable, "-m", "hermes_model", *args], capture_output=True,
                          text=True, check=False, timeout=120, env={**os.environ, **(env or {})})


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of data/ that the loaders read instead of the real one."""
    shutil.copytree(DATA, tmp_path / "data", ignore=shutil.ignore_patterns("*.npz"))
    monkeypatch.setenv("HERMES_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def llama_config(tmp_path: Path, name: str = "model.json", **changes: object) -> Path:
    config = json.loads((DATA / "models" / "llama2_7b.json").read_text())
    config.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


EST = ("estimate", "--model", "llama2_7b", "--policy", "hermes")


# ------------------------------------------------------------------------------ A. tracebacks


@pytest.mark.parametrize("value", ["inf", "1e400", "nan"])
def test_cycles_per_op_must_be_finite(value: str) -> None:
    """(1) --cycles-per-op inf / 1e400 was a ZeroDivisionError."""
    res = run_sub(*EST, "--cycles-per-op", value)
    assert res.returncode == 2
    line = one_line_error(res.stderr)
    assert "--cycles-per-op" in line and value in line and "finite" in line


def test_assumptions_cycles_per_op_must_be_finite() -> None:
    """(1) The API: Assumptions(cycles_per_op=inf) is refused, naming the field."""
    with pytest.raises(ValueError, match=r"cycles_per_op must be a finite number, got inf"):
        policies.Assumptions(cycles_per_op=math.inf)


@pytest.mark.parametrize(("text", "kind"), [("[1, 2, 3]", "list"), ('"hello"', "str"),
                                            ("null", "null")])
def test_config_json_must_be_an_object(tmp_path: Path, capsys, text: str, kind: str) -> None:
    """(2) A config.json that is a list, a string or null was an AttributeError."""
    path = tmp_path / "config.json"
    path.write_text(text)
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "gpu-only")
    assert code == 2
    assert f"expected a JSON object, got {kind}" in one_line_error(err)
    assert str(path) in err


def test_zero_attention_heads_names_the_field(tmp_path: Path) -> None:
    """(3) num_attention_heads: 0 was a ZeroDivisionError in shapes."""
    path = llama_config(tmp_path, num_attention_heads=0)
    res = run_sub("estimate", "--model", str(path), "--policy", "gpu-only")
    assert res.returncode == 2
    line = one_line_error(res.stderr)
    assert "'num_attention_heads'" in line and "positive" in line and "got 0" in line


def test_closed_stdout_exits_quietly() -> None:
    """(4) Output into a closed pipe (`| head -1`, `| true`) was a BrokenPipeError traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "hermes_model", "hardware"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before the CLI writes
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_sparsity_bounds_tokens_times_layers(capsys) -> None:
    """(5) 10^8 tokens x 1000 layers was a numpy MemoryError."""
    code, _, err = run(capsys, "sparsity", "--model", "llama2_70b", "--tokens", "100000000",
                       "--layers", "1000")
    assert code == 2
    assert "--layers must be at most llama2_70b's 80 layers, got 1000" in one_line_error(err)
    code, _, err = run(capsys, "sparsity", "--model", "llama2_70b", "--tokens", "100000000",
                       "--layers", "80")
    assert code == 2
    line = one_line_error(err)
    assert "--tokens x --layers must be at most 1048576" in line and "100000000 x 80" in line


def test_dimm_infinite_cycles_per_op_is_refused(data: Path) -> None:
    """(6) ndp_cycles_per_op: .inf in a DIMM entry was a ZeroDivisionError downstream."""
    edit(data / "catalog" / "dimms" / "ddr4_3200_ndp.yaml", "ndp_cycles_per_op: {value: 11,",
         "ndp_cycles_per_op: {value: .inf,")
    with pytest.raises(ValueError, match=r"ddr4_3200_ndp.yaml: field 'ndp_cycles_per_op': "
                                         r"must be finite, got inf"):
        io.load_dimm("ddr4_3200_ndp")
    res = run_sub("dimm", "--dimm", "ddr4_3200_ndp", env={"HERMES_DATA_DIR": str(data)})
    assert res.returncode == 2 and "ndp_cycles_per_op" in one_line_error(res.stderr)


@pytest.mark.parametrize("trfc", ["7800", "99999"])
def test_refresh_longer_than_its_interval_is_refused(data: Path, trfc: str) -> None:
    """(6, 8) tRFC >= tREFI gave a division by zero or a negative bandwidth."""
    edit(data / "catalog" / "dimms" / "ddr4_3200_ndp.yaml", "tRFC: 550}", f"tRFC: {trfc}}}")
    with pytest.raises(ValueError, match=rf"field 'refresh_ns': tRFC \({trfc}\) must be less "
                                         r"than tREFI \(7800\)"):
        io.load_dimm("ddr4_3200_ndp")


def test_refresh_check_in_the_dataclass() -> None:
    """(8) The API: a DdrTimings with tRFC >= tREFI is refused."""
    t = io.load_dimm("ddr4_3200_ndp").timings
    import dataclasses

    with pytest.raises(ValueError, match=r"tRFC .* must be less than tREFI"):
        dataclasses.replace(t, tRFC_s=t.tREFI_s)


@pytest.mark.parametrize("command", [EST, ("hardware",)])
def test_missing_data_directory_is_one_line(command: tuple[str, ...]) -> None:
    """(7) HERMES_DATA_DIR=/nonexistent: a FileNotFoundError traceback, or empty tables."""
    res = run_sub(*command, env={"HERMES_DATA_DIR": "/nonexistent"})
    assert res.returncode == 2 and res.stdout == ""
    line = one_line_error(res.stderr)
    assert "'/nonexistent'" in line and "has no catalog" in line


# ---------------------------------------------------------------------- B. nonsense accepted


@pytest.mark.parametrize(("file", "old", "new", "field"), [
    ("gpus/rtx_4090.yaml", "paper: {value: 936,", "paper: {value: .inf,", "memory_bandwidth_GBps"),
    ("links/pcie4_x16.yaml", "paper: {value: 64,", "paper: {value: .inf,",
     "bandwidth_per_direction_GBps"),
    ("efficiency.yaml", "overhead_us: {value: 9.96,", "overhead_us: {value: .inf,",
     "overhead_us"),
])
def test_infinite_catalog_values_are_refused(data: Path, capsys, file: str, old: str, new: str,
                                             field: str) -> None:
    """(9) .inf passed the "positive" checks and gave Infinity/NaN in the JSON."""
    edit(data / "catalog" / file, old, new)
    code, out, err = run(capsys, *EST, "--json")
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert f"'{field}'" in line and "must be finite, got inf" in line


def test_infinite_price_is_refused(data: Path) -> None:
    """(9) A price of .inf passed the positive check."""
    edit(data / "catalog" / "prices.yaml", "price_USD: {value: 2500,", "price_USD: {value: .inf,")
    with pytest.raises(ValueError, match=r"price_USD must be a positive finite number, got inf"):
        io.load_prices()


@pytest.mark.parametrize("value", ["1e-320", "1e300", "0.05", "2000"])
def test_cycles_per_op_range(capsys, value: str) -> None:
    """(10) --cycles-per-op 1e-320 / 1e300 gave absurd results: the range is stated."""
    code, _, err = run(capsys, *EST, "--cycles-per-op", value)
    assert code == 2
    line = one_line_error(err)
    assert "--cycles-per-op" in line and "[0.1, 1000]" in line and value in line
    with pytest.raises(ValueError, match=r"cycles_per_op must be in \[0.1, 1000\]"):
        policies.Assumptions(cycles_per_op=float(value))


@pytest.mark.parametrize("value", ["0", "-1", "0.01", "abc", "inf", "nan", "0.05"])
def test_cycles_per_op_every_refusal_states_the_range(capsys, value: str) -> None:
    """(cli review 4) --cycles-per-op 0 said "a positive finite number", as if 0.01 were
    accepted: every refused value now gets the [0.1, 1000] message."""
    code, _, err = run(capsys, *EST, "--cycles-per-op", value)
    assert code == 2
    assert one_line_error(err) == (
        f"error: argument --cycles-per-op: expected a finite number of cycles in [0.1, 1000], "
        f"got '{value}' (see 'python -m hermes_model estimate --help')")


@pytest.mark.parametrize(("flag", "slug", "role", "allowed"), [
    ("--link", "nvlink3", "host_link", "pcie3_x16, pcie4_x16, pcie5_x16"),
    ("--link", "dimm_link", "host_link", "pcie3_x16, pcie4_x16, pcie5_x16"),
    ("--gpu-link", "dimm_link", "gpu_link", "nvlink3, pcie3_x16"),
])
def test_wrong_kind_of_link_is_refused(capsys, flag: str, slug: str, role: str,
                                       allowed: str) -> None:
    """(11) A link of the wrong kind was accepted as the host or GPU link. (cli review 3) The
    error names the flag, not the system field ({role})."""
    code, _, err = run(capsys, *EST, flag, slug)
    assert code == 2
    line = one_line_error(err)
    assert line.startswith(f"error: {flag}: '{slug}' is a link of kind ")
    assert f"; {flag} must be of kind " in line and allowed in line and role not in line


@pytest.mark.parametrize("command", [EST, ("partition",), ("balance",)])
def test_wrong_kind_of_link_names_the_flag(capsys, command: tuple[str, ...]) -> None:
    """(cli review 3) `--link nvlink3` said "host_link 'nvlink3' ...", which is no flag."""
    code, _, err = run(capsys, *command, "--link", "nvlink3")
    assert code == 2
    assert one_line_error(err) == ("error: --link: 'nvlink3' is a link of kind nvlink; --link "
                                   "must be of kind pcie: pcie3_x16, pcie4_x16, pcie5_x16")
    code, _, err = run(capsys, *EST, "--gpu-link", "dimm_link")
    assert code == 2
    assert one_line_error(err) == (
        "error: --gpu-link: 'dimm_link' is a link of kind dimm_link; --gpu-link must be of kind "
        "nvlink or pcie: nvlink3, pcie3_x16, pcie4_x16, pcie5_x16")


def test_wrong_kind_of_link_in_the_api() -> None:
    """(11) load_system(host_link="nvlink3") and a replaced SystemSpec are refused."""
    import dataclasses

    with pytest.raises(ValueError, match=r"host_link 'nvlink3' is a link of kind nvlink; "
                                         r"host_link must be of kind pcie: pcie3_x16"):
        io.load_system("hermes_paper", host_link="nvlink3")
    system = io.load_system("hermes_paper")
    with pytest.raises(ValueError, match=r"dimm_link 'pcie4_x16' .* must be of kind dimm_link"):
        dataclasses.replace(system, dimm_link=system.host_link)
    # PCIe between GPUs stays allowed (the deployment sweep's "tensor parallel, PCIe" reading)
    assert io.load_system("hermes_paper", gpu_link="pcie4_x16").gpu_link.kind == "pcie"


def test_file_model_is_labelled_by_its_path(tmp_path: Path, capsys) -> None:
    """(12) A config.json named like a catalog slug was labelled as that model and got its
    activation statistics."""
    (tmp_path / "x").mkdir()
    path = tmp_path / "x" / "llama2_70b.json"
    shutil.copy(DATA / "models" / "llama2_70b.json", path)
    code, out, _ = run(capsys, "estimate", "--model", str(path), "--policy", "hermes-base",
                       "--json")
    assert code == 0 and json.loads(out)["model"] == str(path)
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "hermes")
    assert code == 2 and "needs activation statistics" in one_line_error(err)


def test_context_beyond_max_position_embeddings(capsys) -> None:
    """(13) prompt_len + gen_len beyond the model's trained context was accepted."""
    code, _, err = run(capsys, *EST, "--prompt-len", "4000", "--gen-len", "1000")
    assert code == 2
    line = one_line_error(err)
    assert "--prompt-len + --gen-len = 5000" in line and "max_position_embeddings (4096)" in line
    # Falcon-40B's config states no max_position_embeddings: not checked.
    code, _, _ = run(capsys, "estimate", "--model", "falcon_40b", "--policy", "hermes",
                     "--prompt-len", "3000", "--gen-len", "100")
    assert code == 0


def test_partition_agrees_with_estimate_on_np(capsys) -> None:
    """(14) partition --batch 10^9 reported feasible while estimate says N.P."""
    code, out, _ = run(capsys, "partition", "--model", "llama2_70b", "--batch", "1000000000",
                         "--json")
    assert code == 3
    payload = json.loads(out)
    assert payload["supported"] is False and "NDP-DIMM pool" in payload["reason"]
    code, _, _ = run(capsys, "estimate", "--model", "llama2_70b", "--policy", "hermes",
                     "--batch", "1000000000")
    assert code == 3


@pytest.mark.parametrize("value", ["no", 0, 1, None])
def test_assumption_flags_must_be_bools(value: object) -> None:
    """(15) Assumptions(ranks_parallel="no") was treated as True."""
    with pytest.raises(ValueError, match=rf"ranks_parallel must be True or False, got {value!r}"):
        policies.Assumptions(ranks_parallel=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("m", [math.nan, math.inf, 1.5, 0])
def test_roofline_rows_must_be_positive_whole_numbers(m: float) -> None:
    """(15) matmul_time accepted NaN, inf and fractional rows."""
    from hermes_model import io as hio

    with pytest.raises(ValueError, match=rf"m must be positive, finite and a whole number, "
                                         rf"got {float(m)}"):
        roofline.matmul_time(hio.load_gpu("t4"), m, 4096, 4096)


@pytest.mark.parametrize("nbytes", [math.nan, math.inf, -1.0])
def test_transfer_bytes_must_be_finite(nbytes: float) -> None:
    """(15) transfer_time_s accepted NaN and inf bytes."""
    with pytest.raises(ValueError, match="bytes_moved must be non-negative and finite"):
        roofline.transfer_time_s(nbytes, io.load_link("pcie4_x16"))


def test_system_yaml_file(tmp_path: Path, capsys) -> None:
    """(16) --system path/to/file.yaml gave "unknown system"; it now loads, labelled by path."""
    code, out, _ = run(capsys, *EST, "--json")
    assert code == 0
    base = json.loads(out)
    for name in ("mine.yaml", "mine.yml"):  # both suffixes the help names
        path = tmp_path / name
        shutil.copy(DATA / "catalog" / "systems" / "hermes_paper.yaml", path)
        code, out, _ = run(capsys, *EST, "--system", str(path), "--json")
        assert code == 0
        mine = json.loads(out)
        assert mine["system"] == str(path)
        assert {**mine, "system": "hermes_paper"} == base  # every number the slug's
    assert base["tokens_per_s"] > 0
    # the file's parts are read: another GPU in the file gives another answer
    edit(path, "gpu: {value: rtx_4090,", "gpu: {value: t4,")
    code, out, _ = run(capsys, *EST, "--system", str(path), "--json")
    assert code == 0 and json.loads(out)["tokens_per_s"] < base["tokens_per_s"]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--system", "/tmp/no/such/system", "system file '/tmp/no/such/system' not found"),
    ("--system", "../systems/hermes_paper", "system file '../systems/hermes_paper' not found"),
    ("--gpu", "../gpus/t4", "unknown GPU '../gpus/t4'; valid: "),
    ("--dimm", str(DATA / "catalog" / "dimms" / "ddr4_3200_ndp"), "unknown DIMM"),
])
def test_path_like_slugs_are_refused(capsys, flag: str, value: str, message: str) -> None:
    """(16) A slug with '/' (or an absolute path without extension) sneaked through."""
    code, _, err = run(capsys, *EST, flag, value)
    assert code == 2 and message in one_line_error(err)


@pytest.mark.parametrize(("file", "old", "new", "field", "allowed"), [
    ("gpus/rtx_4090.yaml", "pcie_gen: {value: 4,", "pcie_gen: {value: 9,", "pcie_gen", "3, 4, 5"),
    ("dimms/ddr4_3200_ndp.yaml", "ddr_generation: {value: 4,", "ddr_generation: {value: 7,",
     "ddr_generation", "4, 5"),
])
def test_implausible_generations_are_refused(data: Path, capsys, file: str, old: str, new: str,
                                             field: str, allowed: str) -> None:
    """(17) pcie_gen: 9 and ddr_generation: 7 were accepted."""
    edit(data / "catalog" / file, old, new)
    code, _, err = run(capsys, *EST)
    assert code == 2
    line = one_line_error(err)
    assert f"field '{field}': must be one of {allowed}" in line and line.endswith("got " + new[-2])


def test_ddr_generations_match_the_dram_model() -> None:
    """(17) The allowed DDR generations are those of the DRAM model's JEDEC table."""
    from hermes_model import dram

    assert set(specs.DDR_GENERATIONS) == set(dram.TRTP_MIN_CYCLES)


# ------------------------------------------------------------------------------- C. messages


def test_file_model_with_a_sparse_policy_is_a_usage_error(tmp_path: Path, capsys) -> None:
    """(18) --model FILE.json --policy hermes exited 3 with "options.activity"."""
    path = llama_config(tmp_path)
    for policy in ("dejavu", "hermes-host", "hermes"):
        code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", policy)
        assert code == 2
        line = one_line_error(err)
        assert f"--policy {policy} needs activation statistics" in line
        assert "runs with accelerate, flexgen, hermes-base, gpu-only" in line
        assert "--activity SLUG (one of falcon_40b, llama2_13b" in line
        assert "options.activity" not in line
    # the policies the message lists take the file model (FlexGen runs OPT only: N.P., exit 3)
    for policy, status in (("accelerate", 0), ("flexgen", 3), ("hermes-base", 0),
                           ("gpu-only", 0)):
        code, out, _ = run(capsys, "estimate", "--model", str(path), "--policy", policy, "--json")
        assert code == status, policy
        assert json.loads(out)["model"] == str(path)


def test_invalid_json_names_the_file(tmp_path: Path, capsys) -> None:
    """(19) An invalid config.json did not say which file."""
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "gpu-only")
    assert code == 2 and f"model config '{path}': cannot read it as JSON" in one_line_error(err)


def test_directory_as_model(tmp_path: Path, capsys) -> None:
    """(20) A directory given as --model was "not found"."""
    path = tmp_path / "dir.json"
    path.mkdir()
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "gpu-only")
    assert code == 2 and "is a folder without a config.json" in one_line_error(err)


def test_model_folder_with_config_json(tmp_path: Path, capsys) -> None:
    """A downloaded checkpoint's folder is read through its config.json."""
    folder = tmp_path / "opt-13b"
    folder.mkdir()
    shutil.copy(DATA / "models" / "opt_13b.json", folder / "config.json")
    code, out, _ = run(capsys, "estimate", "--model", str(folder), "--policy", "hermes-base",
                       "--json")
    direct = main(["estimate", "--model", str(folder / "config.json"), "--policy",
                   "hermes-base", "--json"])
    again, _ = capsys.readouterr()
    assert code == 0 and direct == 0
    assert json.loads(out)["tokens_per_s"] == json.loads(again)["tokens_per_s"]


def test_unsupported_hidden_act_names_the_field(tmp_path: Path, capsys) -> None:
    """(21) hidden_act: "gelu" blamed meta field native_activation."""
    path = llama_config(tmp_path, hidden_act="gelu")
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "gpu-only")
    assert code == 2
    line = one_line_error(err)
    assert "'hidden_act' must be one of silu, swish" in line and "'gelu'" in line


@pytest.mark.parametrize("command", ["sparsity", "predictor", "balance"])
def test_negative_seed_is_a_usage_error(capsys, command: str) -> None:
    """(22) --seed -1 reached numpy."""
    args = [command, "--seed", "-1"] + (["--model", "llama2_7b"] if command == "sparsity" else [])
    code, _, err = run(capsys, *args)
    assert code == 2
    line = one_line_error(err)
    assert "--seed" in line and "non-negative integer" in line and "'-1'" in line


def test_balance_batch_names_the_allowed(capsys) -> None:
    """(23) balance --batch 3 did not say which batches are allowed."""
    code, _, err = run(capsys, "balance", "--batch", "3")
    assert code == 2 and "--batch must be one of 1, 2, 4, 8" in one_line_error(err)


def test_predictor_lists_minilm(capsys) -> None:
    """(24) predictor --model bogus omitted the default minilm from the valid list."""
    code, _, err = run(capsys, "predictor", "--model", "bogus")
    assert code == 2 and "unknown model 'bogus'; valid: minilm, " in one_line_error(err)


def test_gpu_pcie_lanes_names_the_field(data: Path, capsys) -> None:
    """(25) pcie_lanes: 3 failed as an unknown link pcie4_x3."""
    edit(data / "catalog" / "gpus" / "rtx_4090.yaml", "pcie_lanes: {value: 16,",
         "pcie_lanes: {value: 3,")
    code, _, err = run(capsys, *EST)
    assert code == 2
    line = one_line_error(err)
    assert "gpus/rtx_4090.yaml: field 'pcie_lanes': must be one of 16" in line
    assert line.endswith("got 3")


def test_yaml_exponent_without_dot_gets_a_hint(data: Path) -> None:
    """(26) PyYAML reads 1e-300 as a string: the message says how to write it."""
    edit(data / "catalog" / "gpus" / "rtx_4090.yaml", "paper: {value: 936,", "paper: {value: 1e-300,")
    with pytest.raises(ValueError, match=r"expected a number, got '1e-300' \(YAML reads 1e-300 as "
                                         r"text: .* e\.g\. 1\.0e-300\)"):
        io.load_gpu("rtx_4090")


def test_api_messages() -> None:
    """(27) Band with a bad policy, a slug for the model, numpy reprs in messages."""
    from hermes_model import dram

    model, system = io.load_model("llama2_7b"), io.load_system("hermes_paper")
    with pytest.raises(ValueError, match=r"unknown policy 'bogus'; valid: accelerate, .*gpu-only"):
        policies.tokens_per_s_band("bogus", model, system)
    with pytest.raises(TypeError, match=r"model must be a ModelSpec .* got str 'llama2_7b'"):
        policies.estimate("gpu-only", "llama2_7b", system)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"system must be a SystemSpec"):
        policies.tokens_per_s_band("gpu-only", model, "hermes_paper")  # type: ignore[arg-type]
    with pytest.raises(ValueError) as exc:
        dram.rank_bandwidth_bytes_per_s(system.dimm, pattern="chunks", chunk_bytes=0)
    assert "got 0.0" in str(exc.value) and "np." not in str(exc.value)


def test_unrecognized_arguments_point_to_the_subcommand_help(capsys) -> None:
    """(28) An unknown flag pointed to the top-level --help."""
    code, _, err = run(capsys, *EST, "--bogus", "1")
    assert code == 2
    line = one_line_error(err)
    assert "unrecognized arguments: --bogus 1" in line
    assert "see 'python -m hermes_model estimate --help'" in line


def test_not_supported_json_has_no_numbers(capsys) -> None:
    """(29) N.P. with --json: tokens_per_s and the breakdown were 0.0 beside null times."""
    code, out, _ = run(capsys, "estimate", "--model", "llama2_70b", "--policy", "gpu-only",
                       "--json")
    assert code == 3
    payload = json.loads(out)
    assert payload["supported"] is False and payload["tokens_per_s"] is None
    assert set(payload["breakdown_s"]) == set(policies.CATEGORIES)
    assert all(v is None for v in payload["breakdown_s"].values())
    # the Python result the book and scorecard read is unchanged
    est = policies.estimate("gpu-only", io.load_model("llama2_70b"), io.load_system("hermes_paper"))
    assert est.tokens_per_s == 0.0 and not est.supported


def test_not_supported_table_says_so_on_stdout(capsys) -> None:
    """(30) Text-mode N.P. printed only to stderr."""
    code, out, err = run(capsys, "estimate", "--model", "llama2_70b", "--policy", "gpu-only")
    assert code == 3
    assert out.startswith("supported: false - weights and KV cache need")
    assert err == ""  # once: a terminal shows stdout and stderr together


def test_not_supported_json_gives_the_reason_on_stderr_too(capsys) -> None:
    code, out, err = run(capsys, "estimate", "--model", "llama2_70b", "--policy", "gpu-only",
                         "--json")
    assert code == 3 and json.loads(out)["supported"] is False
    assert err.startswith("not supported: weights and KV cache need")


# ------------------------------------------------------------------- D. review follow-ups


def _estimate_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code, out, err = run(capsys, "estimate", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_stray_files_named_like_slugs_do_not_shadow_them(tmp_path: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """(31) A file named ``hermes_paper`` or ``llama2_70b`` in the working folder turned the slug
    into a path; a catalog slug is always a slug, any other existing file still a path."""
    args = ("--model", "llama2_70b", "--policy", "hermes", "--system", "hermes_paper")
    expected = _estimate_json(capsys, *args)  # from the repository root
    monkeypatch.chdir(tmp_path)
    for stray in ("hermes_paper", "llama2_70b"):
        (tmp_path / stray).write_text("stray: not a system, not a model\n")
    assert _estimate_json(capsys, *args) == expected
    assert expected["model"] == "llama2_70b" and expected["system"] == "hermes_paper"
    assert not io.is_file_argument("hermes_paper", (".yaml",), io.catalog_slugs("systems"))
    # a name that is no slug but an existing file is read as a file (no suffix needed)
    shutil.copy(DATA / "catalog" / "systems" / "hermes_paper.yaml", tmp_path / "mysystem")
    shutil.copy(DATA / "models" / "llama2_70b.json", tmp_path / "mymodel")
    mine = _estimate_json(capsys, "--model", "mymodel", "--policy", "hermes-base",
                          "--system", "mysystem")
    base = _estimate_json(capsys, "--model", "llama2_70b", "--policy", "hermes-base")
    assert mine["model"] == "mymodel" and mine["system"] == "mysystem"
    assert mine["tokens_per_s"] == base["tokens_per_s"] > 0


def test_context_limit_in_the_api() -> None:
    """(32) prompt_len + gen_len beyond max_position_embeddings was refused by the CLI only."""
    model, system = io.load_model("llama2_7b"), io.load_system("hermes_paper")
    message = r"prompt_len \+ gen_len = 4097 exceeds llama2_7b's max_position_embeddings \(4096\)"
    with pytest.raises(ValueError, match=message):
        policies.estimate("gpu-only", model, system, prompt_len=4000, gen_len=97)
    with pytest.raises(ValueError, match=message):
        policies.tokens_per_s_band("gpu-only", model, system, prompt_len=4000, gen_len=97)
    with pytest.raises(ValueError, match=message):  # the policy functions themselves
        policies.POLICIES[policies.Policy.GPU_ONLY](model, system, batch=1, prompt_len=4000,
                                                     gen_len=97, options=policies.Assumptions())
    at_limit = policies.estimate("gpu-only", model, system, prompt_len=4000, gen_len=96)
    assert at_limit.supported and at_limit.prompt_len + at_limit.gen_len == 4096
    opt = io.load_model("opt_13b")
    with pytest.raises(ValueError, match=r"= 2049 exceeds opt_13b's max_position_embeddings "
                                         r"\(2048\)"):
        policies.estimate("flexgen", opt, system, prompt_len=2000, gen_len=49)


def test_context_limit_is_the_configs_own() -> None:
    """(32) The limit is what each committed config.json states, nothing else: Falcon-40B's
    RW config states none (2048 was transformers' FalconConfig default), so it is not checked."""
    for slug in io.model_slugs():
        stated = io.model_config(slug).get("max_position_embeddings")
        assert io.load_model(slug).max_position_embeddings == stated, slug
    assert io.load_model("llama3_70b").max_position_embeddings == 8192
    falcon = io.load_model("falcon_40b")
    assert falcon.max_position_embeddings is None
    est = policies.estimate("gpu-only", falcon, io.load_system("hermes_paper", n_gpus=8),
                            prompt_len=3000, gen_len=100)
    assert est.supported and est.tokens_per_s > 0


def test_assumptions_accept_numpy_scalars() -> None:
    """(33) numpy scalars are accepted and give exactly the estimate of Python scalars."""
    import numpy as np

    system = io.load_system("hermes_paper")
    inputs = io.load_generator_inputs()
    for slug, policy in (("llama2_70b", "hermes"), ("opt_30b", "dejavu")):
        model = io.load_model(slug)
        act = policies.activity_from_inputs(inputs[slug])
        with_np = policies.Assumptions(activity=act, cycles_per_op=np.float64(11),
                                       dejavu_predictor_rank=np.int64(1024),
                                       cuda_graphs=np.bool_(True))
        with_py = policies.Assumptions(activity=act, cycles_per_op=11.0,
                                       dejavu_predictor_rank=1024, cuda_graphs=True)
        est_np = policies.estimate(policy, model, system, batch=8, options=with_np)
        est_py = policies.estimate(policy, model, system, batch=8, options=with_py)
        assert est_np.supported and est_np == est_py, slug
        # the values are read: the default (launched kernels) is slower
        default = policies.estimate(policy, model, system, batch=8,
                                    options=policies.Assumptions(activity=act))
        assert est_np.tokens_per_s > default.tokens_per_s, slug


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cycles_per_op", complex(11, 0), "cycles_per_op must be a finite number"),
    ("cycles_per_op", "np.complex128(11)", "cycles_per_op must be a finite number"),
    ("gather_penalty", "np.float64('nan')", "gather_penalty must be a finite number"),
    ("dimm_imbalance", 10**400, "dimm_imbalance must be a finite number"),
    ("gpu_workspace_frac", "np.bool_(False)", "gpu_workspace_frac must be a finite number"),
    ("cuda_graphs", "np.int64(1)", "cuda_graphs must be True or False"),
    ("dejavu_predictor_rank", 1024.0, "dejavu_predictor_rank must be an integer"),
    ("n_activity_classes", "np.float32(64)", "n_activity_classes must be an integer"),
    ("link_bandwidth_scale", "1.0", "link_bandwidth_scale must be a finite number"),
])
def test_assumptions_refuse_wrong_kinds(field: str, value: object, message: str) -> None:
    """(33) Complex numbers, NaN, huge ints, bools for numbers, numbers for flags, floats for
    integers and text are refused, naming the field (numpy values included)."""
    import numpy as np

    if isinstance(value, str) and value.startswith("np."):
        value = eval(value, {"np": np})  # a numpy scalar, built here so the id stays readable
    with pytest.raises(ValueError, match=rf"^{message}, got "):
        policies.Assumptions(**{field: value})


def test_assumption_kinds_cover_every_field() -> None:
    """(33) The field → kind table is built once from the annotations and covers every field
    that is not checked by value."""
    from dataclasses import fields

    kinds = dict(policies._KINDS)
    assert set(kinds) | {"activity", "dtype"} == {f.name for f in fields(policies.Assumptions)}
    assert kinds["cuda_graphs"] == "bool" and kinds["dejavu_predictor_rank"] == "int"
    assert kinds["gather_penalty"] == "real" and kinds["cycles_per_op"] == "real|None"


@pytest.mark.parametrize("value", ["0.05", "2000"])
def test_dimm_cycles_per_op_range(data: Path, capsys, value: str) -> None:
    """(34) A catalog DIMM's ndp_cycles_per_op: 0.05 loaded though --cycles-per-op 0.05 and
    Assumptions refuse it: one range for all three."""
    assert policies.CYCLES_PER_OP_RANGE is specs.CYCLES_PER_OP_RANGE == (0.1, 1000.0)
    edit(data / "catalog" / "dimms" / "ddr4_3200_ndp.yaml", "ndp_cycles_per_op: {value: 11,",
         f"ndp_cycles_per_op: {{value: {value},")
    with pytest.raises(ValueError, match=rf"ddr4_3200_ndp.yaml: field 'ndp_cycles_per_op': "
                                         rf"must be in \[0.1, 1000\], got {value}"):
        io.load_dimm("ddr4_3200_ndp")
    code, out, err = run(capsys, *EST)
    assert code == 2 and out == ""
    assert "field 'ndp_cycles_per_op': must be in [0.1, 1000]" in one_line_error(err)


def test_dimm_cycles_per_op_range_ends(data: Path) -> None:
    """(34) The ends of the range load; the dataclass refuses what the loader refuses."""
    import dataclasses

    path = data / "catalog" / "dimms" / "ddr4_3200_ndp.yaml"
    edit(path, "ndp_cycles_per_op: {value: 11,", "ndp_cycles_per_op: {value: 0.1,")
    dimm = io.load_dimm("ddr4_3200_ndp")
    assert dimm.ndp_cycles_per_op == 0.1
    with pytest.raises(ValueError, match=r"ndp_cycles_per_op must be in \[0.1, 1000\] cycles, "
                                         r"got 0.05"):
        dataclasses.replace(dimm, ndp_cycles_per_op=0.05)
    edit(path, "ndp_cycles_per_op: {value: 0.1,", "ndp_cycles_per_op: {value: 1000,")
    assert io.load_dimm("ddr4_3200_ndp").ndp_cycles_per_op == 1000.0


def test_unstated_labels() -> None:
    """(35) Every unstated parameter has a short label of plain words (the book's text)."""
    labels = {p.name: p.label for p in policies.UNSTATED}
    assert len(set(labels.values())) == len(labels) == 18
    assert all(0 < len(label.split()) <= 14 and "_" not in label for label in labels.values())
    assert labels["link_bandwidth_scale"] == "the paper's PCIe figure read per direction or for both"


def test_band_holds_user_set_parameters_fixed():
    """--band sweeps only the unstated parameters the user left open: with --ranks-parallel
    false the band brackets that run, not the default one, and never reaches the default's
    parallel-rank high end; a name that is no unstated parameter is refused."""
    import json as _json
    base = ["estimate", "--model", "llama2_7b", "--policy", "hermes", "--band", "--json"]
    free = _json.loads(run_sub(*base).stdout)
    serial = _json.loads(run_sub(*base, "--ranks-parallel", "false").stdout)
    lo, hi = serial["tokens_per_s_band"]
    assert lo <= serial["tokens_per_s"] <= hi
    assert hi < free["tokens_per_s"] < free["tokens_per_s_band"][1]
    from hermes_model import io, policies
    with pytest.raises(ValueError, match="fixed names no unstated parameter: bogus"):
        policies.tokens_per_s_band("hermes", io.load_model("opt_13b"),
                                   io.load_system("hermes_paper"), fixed=("bogus",))


# ---------------------------------------------------------------------------------------------
# Second review: huge integers, config fields, broken data files, slug spelling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--batch", "--multipliers", "--n-dimms", "--prompt-len"])
def test_integer_options_beyond_2_53_are_refused(capsys: pytest.CaptureFixture[str],
                                                 flag: str) -> None:
    """A 401-digit count overflowed float conversion deep in the model (OverflowError)."""
    code, _, err = run(capsys, "estimate", "--model", "opt_13b", "--policy", "hermes", flag,
                       str(10**400))
    line = one_line_error(err)
    assert code == 2 and flag in line and "2**53" in line and "401 characters" in line


def test_integer_option_at_2_53_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "op", "--device", "rtx_4090", "--m", str(2**53), "--n", "8",
                       "--k", "8", "--json")
    assert code == 0 and math.isfinite(json.loads(out)["time_s"])


def _opt_config(tmp_path: Path, **changes: object) -> Path:
    config = json.loads((DATA / "models" / "opt_13b.json").read_text())
    config.update(changes)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(("changes", "expected"), [
    ({"num_hidden_layers": 10**400}, ("'num_hidden_layers' must be a positive int up to 2**53, "
                                     "got an int of 401 digits")),
    ({"hidden_size": 2**62}, "'hidden_size' must be a positive int up to 2**53"),
    ({"num_attention_heads": 7}, ("'hidden_size' (5120) must be a multiple of "
                                 "'num_attention_heads' (7)")),
    ({"torch_dtype": "int8"}, "'torch_dtype' must be one of auto, bfloat16, float16, float32"),
    ({"quantization_config": {"bits": 4}}, "'quantization_config' is present"),
])
def test_config_fields_out_of_range(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                    changes: dict[str, object], expected: str) -> None:
    path = _opt_config(tmp_path, **changes)
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "hermes-base")
    line = one_line_error(err)
    assert code == 2 and expected in line and str(path) in line


def test_config_floating_dtypes_all_read_as_fp16(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    answers = set()
    for dtype in ("float16", "bfloat16", "float32"):
        path = _opt_config(tmp_path, torch_dtype=dtype)
        code, out, _ = run(capsys, "estimate", "--model", str(path), "--policy", "hermes-base",
                           "--json")
        assert code == 0
        answers.add(json.loads(out)["tokens_per_s"])
    assert len(answers) == 1


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a zip at all"])
def test_broken_mask_archive_names_the_file(capsys: pytest.CaptureFixture[str], data: Path,
                                            content: bytes) -> None:
    """An empty or truncated masks file raised EOFError / BadZipFile from numpy."""
    (data / "activations" / "minilm_masks.npz").write_bytes(content)
    code, _, err = run(capsys, "predictor", "--model", "minilm")
    line = one_line_error(err)
    assert code == 2 and "minilm_masks.npz: not a readable mask archive" in line


@pytest.mark.parametrize("content", ["a,b\n1,2\n", "{{{ : not: [valid\n", ""])
def test_malformed_paper_figure_names_the_file_and_columns(data: Path, content: str) -> None:
    """A fig9.csv without its columns raised pandas' KeyError in ``sweep --figure bands``."""
    (data / "paper" / "fig9.csv").write_text(content)
    with pytest.raises(ValueError, match=r"fig9\.csv: ") as info:
        io.load_paper_figure("fig9")
    if content:
        assert "column(s) model, policy, batch, tokens_per_s, supported, source missing" in str(
            info.value)
    else:
        assert "not a readable CSV table" in str(info.value)


def test_malformed_paper_figure_from_the_cli(data: Path) -> None:
    (data / "paper" / "fig9.csv").write_text("a,b\n1,2\n")
    res = run_sub("sweep", "--figure", "bands", "--quiet", env={"HERMES_DATA_DIR": str(data)})
    line = one_line_error(res.stderr)
    assert res.returncode == 2 and "fig9.csv: column(s)" in line


def test_missing_data_csv_names_the_file(data: Path) -> None:
    (data / "paper" / "sparsity_generator_inputs.csv").unlink()
    with pytest.raises(ValueError, match=r"sparsity_generator_inputs\.csv: file not found"):
        io.load_generator_inputs()


@pytest.mark.parametrize(("typed", "slug"), [("OPT-13B", "opt_13b"), ("LLaMA2-70B", "llama2_70b"),
                                             ("llama270b", "llama2_70b"),
                                             ("Falcon 40B", "falcon_40b")])
def test_models_spelled_as_the_paper_does(capsys: pytest.CaptureFixture[str], typed: str,
                                          slug: str) -> None:
    code, out, _ = run(capsys, "estimate", "--model", typed, "--policy", "hermes", "--json")
    assert code == 0 and json.loads(out)["model"] == slug
    assert io.load_model(typed).slug == slug


def test_parts_spelled_loosely_resolve_to_catalog_slugs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "estimate", "--model", "opt_13b", "--policy", "hermes",
                       "--gpu", "RTX-3090", "--dimm", "DDR4-3200-NDP", "--system", "Hermes-Paper",
                       "--json")
    assert code == 0
    assert json.loads(out)["system"] == "hermes_paper"
    assert io.load_gpu("RTX 3090").slug == "rtx_3090"
    assert io.load_system("hermes-paper", gpu="T4").gpu.slug == "t4"


@pytest.mark.parametrize(("typed", "hint"), [("opt-14b", "did you mean opt_13b"),
                                             ("minlm", "did you mean minilm?")])
def test_near_misses_suggest_the_closest_slug(capsys: pytest.CaptureFixture[str], typed: str,
                                              hint: str) -> None:
    command = "predictor" if typed == "minlm" else "partition"
    code, _, err = run(capsys, command, "--model", typed)
    line = one_line_error(err)
    assert code == 2 and hint in line and "valid: " in line


def test_resolve_slug_refuses_an_ambiguous_spelling() -> None:
    """Two slugs alike but for separators: only the exact name resolves."""
    assert io.resolve_slug("a_b1", ["a_b1", "ab_1"], "thing") == "a_b1"
    with pytest.raises(ValueError, match="unknown thing 'AB1'"):
        io.resolve_slug("AB1", ["a_b1", "ab_1"], "thing")


def test_kv_heads_must_divide_the_heads(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    """The error named the spec's fields (n_heads, n_kv_heads), not the config's."""
    config = json.loads((DATA / "models" / "llama2_70b.json").read_text())
    config["num_key_value_heads"] = 7
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    code, _, err = run(capsys, "estimate", "--model", str(path), "--policy", "hermes-base")
    line = one_line_error(err)
    assert code == 2 and ("config field 'num_attention_heads' (64) must be a multiple of "
                          "'num_key_value_heads' (7)") in line


def test_paths_load_files_in_the_api() -> None:
    """load_model and load_system refused a pathlib.Path ("must be a slug")."""
    model = io.load_model(DATA / "models" / "opt_13b.json")
    assert model.slug.endswith("opt_13b.json") and model.d_model == 5120
    assert model.card_parameter_count == 12_853_473_280  # counted from the shapes
    system = io.load_system(DATA / "catalog" / "systems" / "hermes_paper.yaml")
    assert system.n_dimms == io.load_system("hermes_paper").n_dimms == 8


@pytest.mark.parametrize("flag", ["--model", "--system"])
def test_an_empty_value_is_not_the_working_folder(capsys: pytest.CaptureFixture[str],
                                                  flag: str) -> None:
    args = {"--model": "opt_13b", "--system": "hermes_paper", flag: ""}
    code, _, err = run(capsys, "estimate", "--policy", "hermes", *[
        x for k, v in args.items() for x in (k, v)])
    line = one_line_error(err)
    assert code == 2 and line.startswith(f"error: {flag}: unknown ")


@pytest.mark.parametrize(("text", "slug"), [("A100-40GB-SXM4", "a100_40g_sxm4"),
                                            ("A100 80GB SXM4", "a100_80g_sxm4"),
                                            ("H100-PCIe-80GB", "h100_pcie_80g")])
def test_gpu_spelled_as_the_paper_writes_it(text: str, slug: str) -> None:
    """The paper's "A100-40GB-SXM4" names the catalog's a100_40g_sxm4 (GB after a size is G)."""
    assert io.load_gpu(text).slug == slug
    assert params.gpu(text) == slug


def test_slug_keys_stay_distinct() -> None:
    """No two slugs of a catalog kind, or models, share a matching key."""
    for slugs in [*(io.catalog_slugs(k) for k in io.CATALOG_KINDS), io.model_slugs()]:
        keys = [io._slug_key(s) for s in slugs]
        assert len(set(keys)) == len(keys), slugs
