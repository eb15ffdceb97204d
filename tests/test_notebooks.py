"""The papermill contract and the committed outputs of every chapter named in ``_toc.yml``.

Each chapter has exactly one ``parameters`` cell of literal assignments (checked with ``ast``),
defines every glue key its text uses, carries its outputs (``make outputs``), and runs once
through ``scripts/rerun.py`` (papermill) with its **smoke parameters**: a small, non-default set
kept in the notebook's own metadata, ``metadata["hermes"]["smoke_parameters"]``, so that each
chapter holds its parameters, defaults and smoke values in one file.

Strict nbval on the committed outputs runs from the Makefile (``make test``), with
``nbval_sanitize.cfg``; `test_nbval_catches_a_tampered_number` shows that it still fails on a
changed number.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a chapter may take (its defaults, and the smoke run without the kernel start).
BUDGET_S = 20.0
#: Largest single output (a chart embeds its data) and largest notebook, in bytes.
MAX_OUTPUT_BYTES, MAX_NOTEBOOK_BYTES = 250_000, 2_000_000
#: Longest code cell the rendered book may show (source lines, blank lines and comments included).
MAX_VISIBLE_CELL_LINES = 15


def _load_rerun() -> Any:
    spec = importlib.util.spec_from_file_location("hermes_rerun", ROOT / "scripts" / "rerun.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hermes_rerun"] = module
    spec.loader.exec_module(module)
    return module


rerun = _load_rerun()


def toc_files() -> list[str]:
    """Every ``file:`` of ``_toc.yml``, in order (without extension)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = [toc["root"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return found


def chapters() -> list[Path]:
    """The notebooks named in ``_toc.yml``."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").is_file()]


CHAPTERS = chapters()
IDS = [p.stem for p in CHAPTERS]


def _read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def _code(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


# ---------------------------------------------------------------------------------------------
# Unit tests of scripts/rerun.py (fast)
# ---------------------------------------------------------------------------------------------


def test_parse_parameters_accepts_literals() -> None:
    src = "a = 'x'  # text\nb = 3\nc = 2.5\nd = True\ne = [1, 2]\n"
    assert rerun.parse_parameters(src) == {"a": "x", "b": 3, "c": 2.5, "d": True, "e": [1, 2]}


@pytest.mark.parametrize("src", ["a = b", "a = 2 * 3", "import os", "a, b = 1, 2",
                                 "a = {'k': 1}", "a = None", "a = 1\na = 2", "a += 1",
                                 "a = f(1)", "a = [x]"])
def test_parse_parameters_refuses_anything_else(src: str) -> None:
    with pytest.raises(rerun.ContractError, match="parameters cell"):
        rerun.parse_parameters(src)


@pytest.mark.parametrize(("text", "default", "expected"), [
    ("4", 1, 4), ("0.5", 1.0, 0.5), ("7", 1.0, 7.0), ("true", False, True), ("No", True, False),
    ("t4", "rtx_4090", "t4"), ("[1, 2]", [3], [1, 2]), ("8", "x", "8")])
def test_coerce_follows_the_default_type(text: str, default: Any, expected: Any) -> None:
    value = rerun.coerce("p", text, default)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("text", "default"), [("four", 1), ("x", 1.0), ("maybe", True),
                                               ("{1: 2}", [1])])
def test_coerce_refuses_a_wrong_type(text: str, default: Any) -> None:
    with pytest.raises(rerun.ContractError, match="parameter 'p' expects"):
        rerun.coerce("p", text, default)


@pytest.mark.parametrize(("text", "default", "kind"), [
    ("nan", 0.1, "a finite number"), ("inf", 0.1, "a finite number"),
    ("-Infinity", 0.1, "a finite number"), ("1e400", 0.1, "a finite number"),
    ("[1.0, 1e400]", [1.0], "a list of finite numbers")])
def test_coerce_refuses_a_non_finite_number(text: str, default: Any, kind: str) -> None:
    with pytest.raises(rerun.ContractError) as err:
        rerun.coerce("p", text, default)
    assert str(err.value) == f"parameter 'p' expects {kind} (default {default!r}), got {text!r}"
    assert rerun.coerce("p", "1e300", 0.1) == 1e300  # large but finite


def test_unknown_parameter_names_the_valid_ones(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("gpu = 'rtx_4090'  # slug\nbatch = 1  # count")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(rerun.ContractError) as err:
        rerun.resolve(path, [("bacth", "4")])
    assert "unknown parameter 'bacth'" in str(err.value)
    assert "Valid parameters: gpu (default 'rtx_4090'), batch (default 1)" in str(err.value)
    assert rerun.resolve(path, [("batch", "4")]) == {"batch": 4}


def _checked_notebook(tmp_path: Path, check: str) -> Path:
    """A one-parameter notebook (``n = 1``) whose setup cell is `check`."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell("n = 1  # count")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_code_cell("import os"), cell, nbformat.v4.new_code_cell(check)]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    return path


def _run_rerun(*args: str) -> subprocess.CompletedProcess[str]:
    """scripts/rerun.py in its own process, so that stderr holds the kernel's log too."""
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "rerun.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_a_non_finite_number_is_refused_before_the_kernel(tmp_path: Path, capsys,
                                                          value: str) -> None:
    """partition's workspace_frac = nan once reached the kernel past every check (review #1)."""
    out_dir = tmp_path / "reruns"
    path = ROOT / "book" / "partition.ipynb"
    assert rerun.main([str(path), "-p", "workspace_frac", value, "--out-dir", str(out_dir)]) == 2
    assert capsys.readouterr().err == (
        f"error: parameter 'workspace_frac' expects a finite number (default 0.1), "
        f"got {value!r}\n")
    assert not out_dir.exists()


def test_rerun_runs_no_chapter_code_outside_the_kernel() -> None:
    """The chapter's code runs only in its kernel: rerun.py neither compiles nor exec's it."""
    tree = ast.parse((ROOT / "scripts" / "rerun.py").read_text(encoding="utf-8"))
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not called & {"exec", "eval", "compile"}


@pytest.mark.notebook
def test_a_failed_execution_is_one_line_and_leaves_a_failed_copy(tmp_path: Path) -> None:
    """A chapter failing in its kernel: one line naming the exception and the partial copy."""
    path = _checked_notebook(tmp_path, "if n > 2:\n    raise ValueError(f'parameter {n=}: too big')")
    out_dir = tmp_path / "reruns"
    proc = _run_rerun(str(path), "-p", "n", "3", "--out-dir", str(out_dir))
    failed = out_dir / "x__n=3.failed.ipynb"
    assert proc.returncode == 2
    assert proc.stderr == (f"error: ValueError: parameter n=3: too big "
                           f"(partly executed copy: {failed})\n")
    assert failed.is_file() and not (out_dir / "x__n=3.ipynb").exists()
    assert proc.stdout == ""


@pytest.mark.notebook
def test_a_dead_kernel_is_one_line_and_leaves_a_failed_copy(tmp_path: Path) -> None:
    """Not a cell's error (review #3): a kernel that dies mid-run is reported the same way."""
    path = _checked_notebook(tmp_path, "if n > 2:\n    os._exit(1)")
    out_dir = tmp_path / "reruns"
    proc = _run_rerun(str(path), "-p", "n", "3", "--out-dir", str(out_dir))
    failed = out_dir / "x__n=3.failed.ipynb"
    assert proc.returncode == 2
    assert proc.stderr == f"error: DeadKernelError: Kernel died (partly executed copy: {failed})\n"
    assert failed.is_file() and not (out_dir / "x__n=3.ipynb").exists()


@pytest.mark.notebook
def test_in_place_leaves_a_failed_notebook_untouched(tmp_path: Path) -> None:
    path = _checked_notebook(tmp_path, "if n > 0:\n    os._exit(1)")
    before = path.read_bytes()
    proc = _run_rerun("--in-place", str(path))
    assert proc.returncode == 2
    assert proc.stderr == f"error: {path}: DeadKernelError: Kernel died (outputs not written)\n"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ipynb"]
    # one that runs gets its outputs, written beside it and renamed over it
    path = _checked_notebook(tmp_path, "print(n + 1)")
    assert rerun.execute_in_place(path) < BUDGET_S
    assert _code(_read(path))[2].outputs[0].text == "2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ipynb"]


def test_ctrl_c_moves_the_partial_copy_and_is_one_line(tmp_path: Path, capsys,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while papermill runs: rerun() moves the copy it wrote and re-raises; main() says so
    on one line, status 2."""
    import papermill

    def interrupted(_input: str, output: str, **_: Any) -> None:
        Path(output).write_text("{}", encoding="utf-8")  # papermill writes as it goes
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    path = _checked_notebook(tmp_path, "pass")
    out_dir = tmp_path / "reruns"
    failed = out_dir / "x__n=3.failed.ipynb"
    with pytest.raises(KeyboardInterrupt):
        rerun.rerun(path, {"n": 3}, out_dir)
    assert failed.is_file() and not (out_dir / "x__n=3.ipynb").exists()
    assert rerun.main([str(path), "-p", "n", "3", "--out-dir", str(out_dir)]) == 2
    assert capsys.readouterr().err == (
        f"error: KeyboardInterrupt (partly executed copy: {failed})\n")
    assert failed.is_file() and not (out_dir / "x__n=3.ipynb").exists()


@pytest.mark.notebook
def test_a_chapter_refuses_a_bad_value_in_its_kernel_with_one_line(tmp_path: Path) -> None:
    """A real chapter whose setup cell checks its parameter first (scorecard, one parameter)."""
    path = ROOT / "book" / "scorecard.ipynb"
    proc = _run_rerun(str(path), "-p", "profile", "nominal", "--out-dir", str(tmp_path))
    failed = tmp_path / "scorecard__profile=nominal.failed.ipynb"
    assert proc.returncode == 2
    assert proc.stderr == ("error: ValueError: parameter 'profile': must be one of paper, "
                           f"datasheet, got 'nominal' (partly executed copy: {failed})\n")
    assert failed.is_file() and not (tmp_path / "scorecard__profile=nominal.ipynb").exists()


def test_output_path_is_under_reruns_and_names_the_parameters() -> None:
    out = rerun.output_path(Path("book/rooflines.ipynb"), {"gpu": "t4", "batch": 4})
    assert out == rerun.RERUN_DIR / "rooflines__gpu=t4__batch=4.ipynb"
    assert rerun.output_path(Path("book/x.ipynb"), {}).name == "x.ipynb"


def test_doctests_of_rerun() -> None:
    import doctest

    assert doctest.testmod(rerun).failed == 0


# ---------------------------------------------------------------------------------------------
# The contract, chapter by chapter
# ---------------------------------------------------------------------------------------------

notebook = pytest.mark.notebook


@notebook
def test_toc_names_existing_files() -> None:
    for f in toc_files():
        assert any((ROOT / f"{f}{ext}").is_file() for ext in (".md", ".ipynb")), f
    assert CHAPTERS, "no chapter notebook in _toc.yml"


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_parameters_cell_contract(path: Path) -> None:
    """One ``parameters`` cell, second code cell (after the imports), literals with comments."""
    nb = _read(path)
    index, cell = rerun.parameters_cell(nb, path)
    params = rerun.parse_parameters(cell.source, path)
    assert params, f"{path}: the parameters cell defines nothing"
    assert _code(nb).index(cell) == 1, f"{path}: the parameters cell must follow the imports cell"
    for line in cell.source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert "#" in line, f"{path}: parameter line without a comment (meaning, unit): {line}"
    assert index > 0


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_structure(path: Path) -> None:
    """One H1 title first; a hidden check cell of asserts; imports in the first code cell."""
    nb = _read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    h1 = [line for c in nb.cells if c.cell_type == "markdown"
          for line in c.source.splitlines() if re.match(r"# \S", line)]
    assert len(h1) == 1, f"{path}: expected one H1, found {h1}"
    checks = [c for c in _code(nb) if "remove-cell" in c.metadata.get("tags", [])
              and "assert" in c.source]
    assert checks, f"{path}: no hidden (remove-cell) cell of invariant asserts"
    imports = ast.parse(_code(nb)[0].source)
    assert any(isinstance(n, ast.Import | ast.ImportFrom) for n in imports.body)


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_glue_key_used_is_defined(path: Path) -> None:
    nb = _read(path)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    used = set(re.findall(r"\{glue(?::\w+)?\}`([A-Za-z_][\w]*)", text))
    used |= set(re.findall(r"```\{glue(?::\w+)?\}\s+([A-Za-z_]\w*)", text))
    code = "\n".join(c.source for c in _code(nb))
    defined = set(re.findall(r"glue\(\s*f?[\"']([A-Za-z_]\w*)[\"']", code))
    # keys glued in a loop over values a `hermes_model.chapters` function returns: the names
    # the committed outputs record
    defined |= {o.metadata["scrapbook"]["name"] for c in _code(nb) for o in c.get("outputs", [])
                if "scrapbook" in o.get("metadata", {})}
    # f-string keys such as glue(f"{name}_ridge", ...): accept a used key matching the pattern.
    patterns = [re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(k)) for k in
                re.findall(r"glue\(\s*f[\"']([^\"']+)[\"']", code)]
    missing = sorted(k for k in used - defined
                     if not any(re.fullmatch(p, k) for p in patterns))
    assert not missing, f"{path}: glue keys used in the text but never glued: {missing}"


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_visible_code_cells_are_short(path: Path) -> None:
    """The book shows every code cell not tagged ``remove-cell`` or ``remove-input``: each stays
    within `MAX_VISIBLE_CELL_LINES` lines (the style's "about 15"; longer logic belongs in
    ``hermes_model.chapters``, with tests). The imports cell is exempt when it holds only imports
    and the theme call."""
    long = []
    for i, c in enumerate(_code(_read(path))):
        if {"remove-cell", "remove-input"} & set(c.metadata.get("tags", [])):
            continue
        n = len(c.source.splitlines())
        imports_only = i == 0 and all(
            isinstance(s, ast.Import | ast.ImportFrom)
            or ast.unparse(s).endswith("plotting.use_theme()") for s in ast.parse(c.source).body)
        if n > MAX_VISIBLE_CELL_LINES and not imports_only:
            long.append((c.get("id"), n))
    assert not long, f"{path}: visible code cells over {MAX_VISIBLE_CELL_LINES} lines: {long}"


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_outputs_are_committed_and_small(path: Path) -> None:
    """Executed top to bottom in one run (``make outputs``), no errors, no huge embedded data."""
    nb = _read(path)
    counts = [c.execution_count for c in _code(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path}: outputs missing or stale (execution counts {counts}); run `make outputs`")
    for cell in _code(nb):
        for out in cell.outputs:
            assert out.output_type != "error", f"{path}: a committed output is an error"
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{path}: stderr in committed outputs: {out.text[:200]}")
            size = len(json.dumps(out))
            assert size < MAX_OUTPUT_BYTES, f"{path}: an output of {size} bytes; aggregate first"
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES


def _smoke(path: Path) -> dict[str, Any]:
    smoke = _read(path).metadata.get("hermes", {}).get("smoke_parameters")
    assert isinstance(smoke, dict) and smoke, (
        f"{path}: add metadata.hermes.smoke_parameters, a small non-default parameter set "
        "that runs in a few seconds")
    return smoke


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_smoke_parameters_are_valid_and_not_the_defaults(path: Path) -> None:
    smoke = _smoke(path)
    defaults = rerun.notebook_parameters(path)
    unknown = sorted(set(smoke) - set(defaults))
    assert not unknown, f"{path}: smoke parameters not in the parameters cell: {unknown}"
    for name, value in smoke.items():
        assert type(value) is type(defaults[name]), f"{path}: {name} changes type"
    assert any(smoke[k] != defaults[k] for k in smoke)


@notebook
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_runs_with_its_smoke_parameters(path: Path, tmp_path: Path) -> None:
    """``scripts/rerun.py`` (papermill) runs the chapter with its smoke parameters."""
    args = [arg for k, v in _smoke(path).items()
            for arg in ("-p", k, json.dumps(v) if isinstance(v, list) else str(v))]
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "rerun.py"), str(path), *args,
                           "--out-dir", str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, f"{path} failed with {_smoke(path)}:\n{proc.stderr[-3000:]}"
    out = Path(proc.stdout.strip().splitlines()[-1])
    executed = _read(out)
    assert executed.metadata["papermill"]["parameters"] == _smoke(path)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert executed.metadata["papermill"]["duration"] < BUDGET_S + 10  # kernel start included


@notebook
def test_make_rerun_rejects_a_misspelt_parameter() -> None:
    path = CHAPTERS[0].relative_to(ROOT)
    name, _ = next(iter(rerun.notebook_parameters(CHAPTERS[0]).items()))
    proc = subprocess.run(["make", "--no-print-directory", "rerun", f"NB={path}",
                           f"PARAMS=-p {name}x 4"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)
    assert proc.returncode != 0
    assert f"unknown parameter '{name}x'" in proc.stderr
    assert f"Valid parameters: {name} (default" in proc.stderr


@notebook
def test_nbval_catches_a_tampered_number(tmp_path: Path) -> None:
    """Strict nbval with the sanitize file still fails when a stored number changes."""
    path = ROOT / "book" / "rooflines.ipynb"
    nb = _read(path)
    done = False
    for cell in _code(nb):
        for out in cell.outputs:
            data = out.get("data", {})
            key = "application/papermill.record/text/plain"
            if not done and key in data and re.fullmatch(r"\d+\.\d+", data[key]):
                data[key] = data[key][:-1] + ("1" if data[key][-1] != "1" else "2")
                done = True
    assert done, "no glued float found to tamper with"
    copy = tmp_path / "tampered.ipynb"
    nbformat.write(nb, copy)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(ROOT / "nbval_sanitize.cfg"), str(copy)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "1 failed" in proc.stdout
