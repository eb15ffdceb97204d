"""The CLI: JSON keys, tables, and one-line errors (no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hermes_model.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hermes_model", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def test_op_json_keys_and_values() -> None:
    """The issue's example: an H100 GEMV of 8192×28672 at batch 1 is memory-bound."""
    res = run_cli("op", "--device", "h100_sxm5_80g", "--m", "1", "--n", "28672", "--k", "8192",
                  "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert {"time_s", "bound", "bandwidth_bytes_per_s", "flop_per_s"} <= set(out)
    assert out["bound"] == "memory"
    # ~470 MB at 85% of 3.35 TB/s plus 5 µs: about 0.17 ms.
    assert 1.5e-4 < out["time_s"] < 1.9e-4


def test_unknown_device_is_one_line_naming_valid_devices() -> None:
    res = run_cli("op", "--device", "nosuch", "--m", "1", "--n", "2", "--k", "3")
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "unknown device 'nosuch'" in res.stderr and "h100_sxm5_80g" in res.stderr


@pytest.mark.parametrize("args", [["op", "--device", "t4", "--m", "0", "--n", "1", "--k", "1"],
                                  ["op", "--device", "t4", "--m", "1", "--n", "1"],
                                  ["hardware", "--profile", "vendor"],
                                  ["nosuchcommand"]])
def test_bad_arguments_are_one_line(args, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1


@pytest.mark.parametrize("profile", ["paper", "datasheet"])
def test_hardware_json_under_each_profile(profile, capsys) -> None:
    assert main(["hardware", "--profile", profile, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    bw = {g["slug"]: g["bandwidth_GBps"] for g in out["gpus"]}
    assert bw["rtx_4090"] == (936 if profile == "paper" else 1008)
    assert {"gpus", "hosts", "links", "dimms"} <= set(out)


@pytest.mark.parametrize("profile", ["paper", "datasheet"])
def test_hardware_links_column_does_not_claim_per_direction(profile, capsys) -> None:
    """(cli review 2) The paper profile's 64 GB/s for PCIe 4.0 x16 (its bidirectional figure)
    stood under "GBps_per_direction": the column is "GBps", and the paper profile says so."""
    assert main(["hardware", "--profile", profile]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines.index("links") + 1
    assert lines[head].split() == ["slug", "name", "kind", "GBps"]
    pcie4 = next(line for line in lines if line.startswith("pcie4_x16"))
    assert pcie4.split()[-1] == ("64" if profile == "paper" else "31.51")
    footer = ("paper profile: PCIe figures are the paper's (bidirectional) numbers, used as the",
              "per-direction rate.")
    assert (tuple(lines[-2:]) == footer) == (profile == "paper")
    assert "GBps_per_direction" not in "\n".join(lines)


def test_models_table(capsys) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "llama2_70b" in out and "opt_66b" in out


def test_bench_json_starts_with_op_vectorised_per_s(capsys, monkeypatch) -> None:
    """`bench --json` lists op_vectorised_per_s first, whatever the registry order (issue 2).

    The other benchmarks are replaced by a stub: the whole bench executes every chapter.
    """
    from hermes_model import cli

    monkeypatch.setattr(cli, "BENCHMARKS", {"zz_stub": lambda: 1.0,
                                            "op_vectorised_per_s": cli.bench_op_vectorised_per_s})
    assert main(["bench", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["op_vectorised_per_s", "zz_stub"]
    assert out["op_vectorised_per_s"] >= 1e6


def test_op_vectorised_per_s_at_least_a_million() -> None:
    """Roofline evaluations per second on a 10^5 sweep: at least 10^6 (issue 2 acceptance)."""
    from hermes_model import cli

    assert cli.bench_op_vectorised_per_s() >= 1e6


def test_bench_registry_has_every_issue_key() -> None:
    """Each issue's bench keys are registered (their values are tested by their own modules)."""
    from hermes_model import cli

    required = {"op_vectorised_per_s", "dram_model_per_s", "calibration_fit_s",
                "trace_llama2_70b_256tok_s", "partition_llama2_70b_s", "partition_gap_vs_milp",
                "predictor_recall_real", "predictor_recall_llama2_70b",
                "imbalance_static_llama2_13b", "imbalance_window_llama2_13b", "balance_s",
                "estimate_per_s", "figures_9_to_11_s", "sweeps_s", "book_execute_s"}
    assert required <= set(cli.BENCHMARKS)


# ---------------------------------------------------------------------------------------------
# The CLI review: what an answer ran on, rates, sweep tables, help
# ---------------------------------------------------------------------------------------------


def _json(capsys, *args: str) -> tuple[int, dict]:
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)


def test_estimate_reports_the_configuration_it_ran(capsys) -> None:
    code, out = _json(capsys, "estimate", "--model", "llama2_70b", "--policy", "hermes",
                      "--gpu", "t4", "--n-dimms", "16", "--multipliers", "512",
                      "--cycles-per-op", "6", "--json")
    c = out["configuration"]
    assert code == 0
    assert (c["gpu"], c["n_dimms"], c["ndp_multipliers"], c["cycles_per_op"]) == (
        "t4", 16, 512, 6.0)
    # a T4 is a PCIe 3.0 device: the system's pcie4_x16 runs as pcie3_x16, and the answer says so
    assert c["host_link"] == "pcie3_x16" and c["host_link_asked"] == "pcie4_x16"
    assert c["overrides"] == {"--gpu": "t4", "--n-dimms": 16, "--multipliers": 512,
                              "--cycles-per-op": 6.0}


def test_estimate_configuration_defaults_come_from_the_catalog(capsys) -> None:
    code, out = _json(capsys, "estimate", "--model", "opt_13b", "--policy", "hermes", "--json")
    c = out["configuration"]
    assert code == 0 and c["overrides"] == {} and "host_link_asked" not in c
    assert (c["gpu"], c["n_gpus"], c["dimm"], c["n_dimms"], c["ndp_multipliers"],
            c["ranks_parallel"]) == ("rtx_4090", 1, "ddr4_3200_ndp", 8, 256, True)


def test_activity_borrows_a_catalog_models_statistics(tmp_path, capsys) -> None:
    """--activity runs a model with another model's activation statistics: the same answer as
    the API given them, named in the configuration; a config.json model runs Hermes with it."""
    from hermes_model import io, policies

    code, out = _json(capsys, "estimate", "--model", "llama2_70b", "--policy", "hermes",
                      "--activity", "OPT-13B", "--json")
    opts = policies.Assumptions(activity=io.load_activity("opt_13b"))
    want = policies.estimate("hermes", io.load_model("llama2_70b"),
                             io.load_system("hermes_paper"), options=opts)
    own = policies.estimate("hermes", io.load_model("llama2_70b"),
                            io.load_system("hermes_paper"),
                            options=policies.Assumptions(activity=io.load_activity("llama2_70b")))
    assert code == 0 and out["configuration"]["activity"] == "opt_13b"
    assert out["tokens_per_s"] == pytest.approx(want.tokens_per_s, rel=1e-12)
    assert abs(out["tokens_per_s"] / own.tokens_per_s - 1) > 0.05  # the statistics matter
    # a config.json copy of LLaMA2-70B with LLaMA2-70B's statistics is the catalog model
    path = tmp_path / "config.json"
    path.write_text((io.data_dir() / "models" / "llama2_70b.json").read_text(encoding="utf-8"),
                    encoding="utf-8")
    code, out = _json(capsys, "estimate", "--model", str(path), "--policy", "hermes",
                      "--activity", "llama2_70b", "--json")
    assert code == 0 and out["tokens_per_s"] == pytest.approx(own.tokens_per_s, rel=1e-12)
    assert main(["estimate", "--model", str(path), "--policy", "hermes", "--activity",
                 "llama2_70b"]) == 0
    assert "activity   llama2_70b's activation statistics" in capsys.readouterr().out
    code, out = _json(capsys, "estimate", "--model", "opt_13b", "--policy", "hermes", "--json")
    assert out["configuration"]["activity"] is None
    assert main(["estimate", "--model", "opt_13b", "--policy", "hermes", "--activity",
                 "gpt2"]) == 2
    err = capsys.readouterr().err
    assert "--activity: unknown model with activation statistics 'gpt2'" in err


def test_estimate_table_shows_the_parts(capsys) -> None:
    assert main(["estimate", "--model", "opt_13b", "--policy", "hermes", "--link",
                 "pcie5_x16"]) == 0
    out = capsys.readouterr().out
    assert "gpu        1 x rtx_4090" in out
    assert "pcie5_x16 runs as pcie4_x16" in out and "overrides  --link pcie5_x16" in out


@pytest.mark.parametrize("policy", ["hermes", "hermes-host", "accelerate"])
def test_several_gpus_are_modelled_for_gpu_only_alone(policy: str, capsys) -> None:
    """hermes-host used two GPUs' memory for hot neurons at no link cost (2.86 -> 4.58 tok/s)."""
    code = main(["estimate", "--model", "llama2_70b", "--policy", policy, "--n-gpus", "2"])
    out = capsys.readouterr().out
    assert code == 3 and "is modelled on one GPU" in out


def test_op_on_an_ndp_dimm_uses_the_policies_rates(capsys) -> None:
    """op used the 102.4 GB/s pin bound; `dimm` and the policies use the timings' 95.2 GB/s."""
    code, op = _json(capsys, "op", "--device", "ddr4_3200_ndp", "--m", "1", "--n", "4096",
                     "--k", "4096", "--json")
    code2, dimm = _json(capsys, "dimm", "--dimm", "ddr4_3200_ndp", "--json")
    assert code == code2 == 0
    assert op["bandwidth_bytes_per_s"] == pytest.approx(dimm["bandwidth_bytes_per_s"])
    assert op["bandwidth_bytes_per_s"] < 0.95 * 102.4e9
    assert "DRAM timings" in op["rates"]


def test_sweep_table_names_np_rows_and_gib(capsys) -> None:
    assert main(["sweep", "--figure", "14", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "pool_GiB" in out
    assert "N.P. llama2_70b 4 1: weights and KV cache need 128.6 GiB" in out


@pytest.mark.parametrize("typed", ["Hermes_Base", "HERMES-BASE", "hermes base"])
def test_policy_any_case_and_separator(typed: str, capsys) -> None:
    code, out = _json(capsys, "estimate", "--model", "opt_13b", "--policy", typed,
                      "--profile", "Paper", "--json")
    assert code == 0 and out["policy"] == "hermes-base" and out["profile"] == "paper"


def test_version_and_prefix_hint(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("hermes_model ")
    assert main(["op", "--device", "h100", "--m", "1", "--n", "8", "--k", "8"]) == 2
    assert "did you mean h100_pcie_80g, h100_sxm5_80g" in capsys.readouterr().err


def test_unknown_part_in_a_system_file_names_the_file(tmp_path, capsys) -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "data/catalog/systems/hermes_paper.yaml").read_text()
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace("rtx_4090", "rtx_9090", 1))
    assert main(["estimate", "--model", "opt_13b", "--policy", "hermes", "--system",
                 str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: field gpu: unknown GPU 'rtx_9090'" in err


def test_bench_only_and_units(capsys) -> None:
    assert main(["bench", "--only", "estimate_per_s", "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["estimate_per_s"] and out["estimate_per_s"] > 10
    assert main(["bench", "--only", "nope"]) == 2
    assert "--only: unknown benchmark(s) nope; valid: op_vectorised_per_s" in (
        capsys.readouterr().err)


def test_hardware_json_gives_every_values_source(capsys) -> None:
    assert main(["hardware", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    src = out["sources"]["gpus"]["rtx_4090"]
    assert "Hermes §IV-A" in src["memory_bandwidth_bytes_per_s"]
    assert set(out["sources"]) == {"gpus", "hosts", "links", "dimms"}


@pytest.mark.parametrize(("flag", "value"), [("--model", "gpt2"), ("--gpu", "rtx_9090"),
                                             ("--dimm", "hbm"), ("--system", "nosuch")])
def test_unknown_slug_errors_name_the_flag(flag: str, value: str, capsys) -> None:
    args = ["estimate", "--model", "opt_13b", "--policy", "hermes"]
    args = [*args, flag, value] if flag != "--model" else [
        "estimate", "--model", value, "--policy", "hermes"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {flag}: unknown ") and len(err.splitlines()) == 1


def test_estimate_grid_runs_every_combination(capsys) -> None:
    code = main(["estimate", "--model", "opt_30b,llama2_70b", "--policy", "hermes",
                 "--n-dimms", "4,8", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["grid"] == {"model": ["opt_30b", "llama2_70b"], "n_dimms": [4, 8]}
    rows = {(r["model"], r["configuration"]["n_dimms"]): r for r in out["rows"]}
    assert len(rows) == 4
    assert rows[("llama2_70b", 4)]["supported"] is False  # 128.6 GiB against 4 x 32 GiB
    assert rows[("llama2_70b", 8)]["supported"] is True
    # each row is the single run's answer
    assert main(["estimate", "--model", "opt_30b", "--policy", "hermes", "--n-dimms", "8",
                 "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert rows[("opt_30b", 8)]["tokens_per_s"] == single["tokens_per_s"]


def test_estimate_grid_table_lists_np_reasons(capsys) -> None:
    assert main(["estimate", "--model", "OPT-13B,LLaMA2-70B", "--policy", "flexgen,Hermes"]) == 0
    out = capsys.readouterr().out
    assert "N.P. llama2_70b flexgen: flexgen supports OPT models only" in out
    assert "4 runs; fixed: batch 1, prompt-len 128, gen-len 128" in out and "nan" not in out


def test_estimate_grid_table_names_the_link_used(capsys) -> None:
    """(cli review 1) A grid table said "link pcie5_x16" for rows that ran on a slower link (the
    GPU's PCIe generation): the link used is a column, and the note is under the table."""
    assert main(["estimate", "--model", "llama2_13b", "--policy", "hermes",
                 "--link", "pcie4_x16,pcie5_x16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["link", "host_link", "tokens_per_s", "decode_step_ms",
                                "prefill_s"]
    assert lines[2].split() == ["pcie4_x16", "pcie4_x16", "102.9", "9.344", "0.04817"]
    assert lines[3].split() == ["pcie5_x16", "pcie4_x16", "102.9", "9.344", "0.04817"]
    assert lines[4] == ("note pcie5_x16 runs as pcie4_x16 (the slowest of link, GPU rtx_4090 "
                        "and host sets it)")
    # the link fixed, not varied: the 50.95 tok/s of a plain --gpu t4 run, on PCIe 3.0
    assert main(["estimate", "--model", "llama2_13b", "--policy", "hermes", "--n-dimms", "8,16",
                 "--gpu", "t4", "--link", "pcie5_x16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["n_dimms", "host_link"]
    assert lines[2].split()[:3] == ["8", "pcie3_x16", "50.95"]
    assert lines[4] == ("note pcie5_x16 runs as pcie3_x16 (the slowest of link, GPU t4 "
                        "and host sets it)")
    # no clamping: no column, no note
    assert main(["estimate", "--model", "llama2_13b", "--policy", "hermes",
                 "--n-dimms", "8,16"]) == 0
    out = capsys.readouterr().out
    assert "host_link" not in out and "note" not in out


@pytest.mark.parametrize(("args", "message"), [
    (["--policy", "hermes,nope"], "argument --policy: invalid choice: 'nope'"),
    (["--policy", "hermes", "--batch", "1,,2"], "without empty items, got '1,,2'"),
    (["--policy", "hermes", "--batch", "1,0"], "expected a positive integer"),
])
def test_estimate_grid_bad_items(args: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["estimate", "--model", "opt_13b", *args])
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_partition_and_balance_take_part_overrides(capsys) -> None:
    """They ran only the catalog system ('partition --gpu t4' was an unrecognised argument)."""
    assert main(["partition", "--model", "llama2_70b", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert main(["partition", "--model", "llama2_70b", "--gpu", "T4", "--json"]) == 0
    t4 = json.loads(capsys.readouterr().out)
    assert t4["overrides"] == {"--gpu": "t4"} and "overrides" not in base
    assert t4["gpu_budget_GB"] < base["gpu_budget_GB"]  # 16 GB against 24 GB
    assert main(["partition", "--model", "llama2_70b", "--n-dimms", "4"]) == 3
    assert "the NDP-DIMM pool has 128.0 GiB" in capsys.readouterr().out
    assert main(["balance", "--n-dimms", "4", "--json"]) == 0
    four = json.loads(capsys.readouterr().out)
    assert main(["balance", "--json"]) == 0
    eight = json.loads(capsys.readouterr().out)
    assert four["overrides"] == {"--n-dimms": 4}
    assert four["imbalance_static"] != eight["imbalance_static"]


def test_partition_and_balance_json_match_estimate(capsys) -> None:
    """(cli review 5) `overrides` was a string ("--gpu t4") in partition and balance but a dict
    in estimate, and `partition --gpu t4` ran on PCIe 3.0 without saying so."""
    assert main(["estimate", "--model", "llama2_70b", "--policy", "hermes", "--gpu", "t4",
                 "--json"]) == 0
    est = json.loads(capsys.readouterr().out)["configuration"]
    assert main(["partition", "--model", "llama2_70b", "--gpu", "t4", "--json"]) == 0
    part = json.loads(capsys.readouterr().out)
    assert part["overrides"] == est["overrides"] == {"--gpu": "t4"}
    assert part["host_link"] == est["host_link"] == "pcie3_x16"
    assert part["host_link_asked"] == "pcie4_x16"
    assert part["host_link_note"] == est["host_link_note"] == (
        "pcie4_x16 runs as pcie3_x16 (the slowest of link, GPU t4 and host sets it)")
    assert main(["partition", "--model", "llama2_70b", "--gpu", "t4"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[-4:] == [
        "host_link          pcie3_x16",
        "host_link_asked    pcie4_x16",
        ("host_link_note     pcie4_x16 runs as pcie3_x16 (the slowest of link, GPU t4 and "
         "host sets it)"),
        "overrides          --gpu t4"]
    assert main(["balance", "--n-dimms", "16", "--link", "pcie3_x16"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[-2:] == ["host_link                   pcie3_x16",
                          "overrides                   --n-dimms 16 --link pcie3_x16"]
    assert main(["balance", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["host_link"] == "pcie4_x16" and "overrides" not in plain
    assert "host_link_note" not in plain


# ---------------------------------------------------------------------------------------------
# Display units and derived outputs, recomputed (mutants of these lines survived the suite)
# ---------------------------------------------------------------------------------------------


def test_listings_convert_to_display_units_by_hand() -> None:
    """`models`: LLaMA2-70B's 68,976,648,192 parameters are 137.95 GB in fp16; `hardware`: the
    paper's NDP-DIMM has 4 ranks × 25.6 GB/s = 102.4 GB/s at its pins."""
    from hermes_model import cli, io

    rows = {r["slug"]: r for r in cli.model_rows()}
    assert rows["llama2_70b"]["fp16_GB"] == pytest.approx(68_976_648_192 * 2 / 1e9)
    assert rows["llama2_70b"]["parameters_B"] == pytest.approx(68.976648192)
    hardware = {kind: {r["slug"]: r for r in entries}
                for kind, entries in cli.hardware_rows("paper").items()}
    dimms, gpus, hosts = hardware["dimms"], hardware["gpus"], hardware["hosts"]
    assert dimms["ddr4_3200_ndp"]["ranks_pin_bandwidth_GBps"] == pytest.approx(102.4)
    assert dimms["ddr4_3200_ndp"]["capacity_GiB"] == pytest.approx(32.0)
    assert gpus["rtx_4090"]["fp16_TFLOPS"] == pytest.approx(
        io.load_gpu("rtx_4090", "paper").fp16_flop_per_s / 1e12)
    assert 100 < gpus["rtx_4090"]["fp16_TFLOPS"] < 400
    # i9-13900K: 2 channels × DDR5-5600 × 8 bytes = 89.6 GB/s
    assert hosts["i9_13900k"]["dram_bandwidth_GBps"] == pytest.approx(2 * 5600e6 * 8 / 1e9)
    assert cli._short_name("x" * 34) == "x" * 34
    assert cli._short_name("x" * 40) == "x" * 31 + "..."


def test_dimm_table_shows_the_json_rates_in_display_units(capsys) -> None:
    """The table's GB/s and GMAC/s are the JSON's B/s and MAC/s over 1e9; the stream rate is
    the efficiency times the 102.4 GB/s pin bound."""
    args = ["dimm", "--dimm", "ddr4_3200_ndp"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bandwidth_bytes_per_s"] == pytest.approx(out["efficiency"] * 102.4e9)
    assert main(args) == 0
    row = capsys.readouterr().out.splitlines()[2].split()
    assert row[3] == f"{out['bandwidth_bytes_per_s'] / 1e9:.4g}"
    assert row[4] == f"{out['rank_bandwidth_bytes_per_s'] / 1e9:.4g}"
    assert row[6] == f"{out['mac_per_s'] / 1e9:.4g}"


def test_op_table_shows_the_json_time_in_microseconds(capsys) -> None:
    args = ["op", "--device", "t4", "--m", "1", "--n", "4096", "--k", "4096"]
    assert main([*args, "--json"]) == 0
    time_s = json.loads(capsys.readouterr().out)["time_s"]
    # 4096 × 4096 fp16 weights (plus x and y) at the T4's achievable bandwidth: over 100 µs
    assert 1e-4 < time_s < 2e-4
    assert main(args) == 0
    row = capsys.readouterr().out.splitlines()[2].split()
    assert row[6] == f"{time_s * 1e6:.4g}" and row[7] == "memory"


def test_sparsity_token_layer_limit_is_inclusive(monkeypatch) -> None:
    """--tokens × --layers may equal the limit (here lowered to 256 to stay fast), not pass it."""
    from hermes_model import cli

    monkeypatch.setattr(cli, "MAX_TOKEN_LAYERS", 256)
    out = cli.sparsity_payload("opt_13b", 128, 0, "relu", 2)
    assert out["n_tokens"] == 128 and out["n_layers"] == 2
    out = cli.sparsity_payload("opt_13b", 256, 0, "relu", 1)  # two 128-token sequences
    assert (out["n_tokens"], out["n_sequences"]) == (256, 2)
    with pytest.raises(ValueError, match=r"--tokens x --layers must be at most 256"):
        cli.sparsity_payload("opt_13b", 129, 0, "relu", 2)


def test_predictor_payload_starts_from_the_partitions_gpu_share() -> None:
    """A catalog model's initial GPU set is the partition's share on the paper's RTX 4090
    (LLaMA2-70B: under 10 %, far below the 20 % a 24 GiB card cannot hold), and the scores are
    those of the generated trace scored with that share."""
    import numpy as np

    from hermes_model import cli, io, predictor
    from hermes_model.chapters.predictor import partition_gpu_share

    out = cli.predictor_payload("llama2_70b", 0)
    targets = cli.sparsity_targets("llama2_70b", "relu")
    share = partition_gpu_share(io.load_model("llama2_70b"),
                                io.load_system("hermes_paper", "paper"), targets)[0]
    assert out["gpu_share"] == share and 0.09 < share < 0.1
    assert out["gpu_share_source"].startswith("derived")
    res = predictor.score_generated(targets, 6, np.random.default_rng(0), prefill_tokens=32,
                                    sample=1024, gpu_share=share).result
    assert out["gpu_hit_share_static"] == res.gpu_hit_share_static
    assert out["recall"] == res.recall
    assert cli.predictor_payload("minilm", 0)["gpu_share"] == 0.2

def test_predictor_payload_table_sizes_count_every_layer() -> None:
    """MiniLM: 6 layers × 1536 neurons; the state table holds one entry per neuron of the model."""
    from hermes_model import cli, predictor

    out = cli.predictor_payload("minilm", 0)
    assert out["state_table_bytes"] == int(predictor.state_table_bytes(6 * 1536))
    assert out["state_table_bytes"] > int(predictor.state_table_bytes(1536))
    assert out["correlation_table_bytes"] == int(predictor.correlation_table_bytes(6 * 1536, 1536))


def test_balance_migration_is_scaled_to_the_whole_model() -> None:
    """`balance` replays 4 of LLaMA2-13B's 40 layers; the migration per decode step is ×10 of the
    replayed layers' (recomputed from the scheduling module with the same seed)."""
    import numpy as np

    from hermes_model import cli, io, scheduling

    out = cli.balance_payload("llama2_13b", layers=4)
    model, system = io.load_model("llama2_13b"), io.load_system("hermes_paper", "paper")
    case = scheduling.make_case(model, system, cli.sparsity_targets("llama2_13b", "relu"),
                                batch=1, rng=np.random.default_rng(0), n_layers_sim=4,
                                n_sequences=cli.BALANCE_SEQUENCES)
    m = scheduling.balance_case(case, system).migration
    assert m.bytes_per_step > 0
    assert out["migrated_bytes_per_step"] == pytest.approx(10 * m.bytes_per_step)
    assert out["migration_link_s_per_step"] == pytest.approx(10 * m.link_s_per_step)


def test_timing_benchmarks_are_elapsed_seconds() -> None:
    """Timers read elapsed time (seconds, not a clock reading); the fast partition solver's gap
    over the committed HiGHS dual bounds is a small non-negative fraction."""
    from hermes_model import cli

    assert 0 < cli.bench_calibration_fit_s() < 30
    assert 0 <= cli.bench_partition_gap_vs_milp() < 0.05
    assert 0 < cli.bench_figures_9_to_11_s() < 60
    assert 0 < cli.bench_partition_llama2_70b_s() < 30


def test_estimate_rate_is_calls_over_elapsed_seconds(monkeypatch) -> None:
    """With each estimate stubbed to sleep 5 ms, `estimate_per_s` is at most 200 (calls per
    second), and well above the calls × seconds a swapped division would give."""
    import time

    from hermes_model import cli, policies

    monkeypatch.setattr(policies, "estimate", lambda *a, **k: time.sleep(0.005))
    assert 100 < cli.bench_estimate_per_s() <= 200


def test_sweeps_timer_runs_every_sweep_and_reads_elapsed_seconds(monkeypatch) -> None:
    """`sweeps_s` runs the four sweeps of the sensitivity and cost chapters once each; with each
    stubbed to sleep 10 ms it reads at least 40 ms, and not a clock reading."""
    import time

    from hermes_model import cli

    ran: list[str] = []
    monkeypatch.setattr(cli, "sweep_frames", lambda f: (ran.append(f), time.sleep(0.01)))
    assert 0.04 <= cli.bench_sweeps_s() < 5
    assert ran == ["14", "15", "17", "bands"]


def test_positive_float_refuses_zero() -> None:
    import argparse

    from hermes_model import cli

    assert cli._positive_float("0.5") == 0.5
    for text in ("0", "-1", "inf", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected a positive finite number"):
            cli._positive_float(text)
