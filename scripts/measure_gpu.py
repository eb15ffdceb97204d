#!/usr/bin/env python3
"""Micro-benchmarks that ground the GPU, PCIe and host models of hermes-study.

Purpose
-------
The Hermes paper (HPCA 2025) times its GPU kernels on an RTX 4090 and models
the GPU<->host link as PCIe 4.0 at 64 GB/s and the host CPU by its DRAM
bandwidth.  This script measures the same quantities on whatever CUDA machine
it runs on, so the analytic models in ``hermes_model/`` can be checked against
attained (not datasheet) numbers:

* ``gemm``          dense ``y = x @ W.T`` (fp16, cuBLAS via ``torch.matmul``) for
                    LLM weight shapes (out x in) at batch M = 1 .. 1024;
* ``gemv_gather``   neuron-sparse GEMV: a fraction ``frac`` of the rows
                    (neurons) of W is selected by a sorted random index inside
                    the timed region; variants ``index_select`` (gather copy +
                    matmul), ``advanced_index`` (``W[idx]`` + matmul) and
                    ``triton_fused`` (one Triton kernel reading the selected rows
                    in place, if Triton works);
* ``gemv_compact``  the same selected rows pre-compacted into a contiguous
                    matrix; only the matmul is timed;
* ``h2d`` / ``d2h`` host<->device copies, pinned and pageable, 1 MiB .. 1 GiB;
* ``cpu_gemv``      GEMV on the host CPU with all torch threads (fp32, bf16);
* ``cpu_stream_copy`` / ``cpu_stream_triad``  STREAM-style host bandwidth;
* ``launch``        empty-kernel / tiny-op launch and sync overheads.

GPU matmul timings use CUDA events around each repetition, after warm-up, with
the L2 cache flushed (a 256 MiB memset) before every repetition so weights
come from HBM, as they would in a decode step over many layers.  Pinned copies
are timed with CUDA events; pageable copies and everything on the CPU with a
wall clock (``time.perf_counter``) around a synchronised call.

Usage
-----
    PYTHONUNBUFFERED=1 python3 scripts/measure_gpu.py            # writes $OUT/gpu_measurements.csv
    python3 scripts/measure_gpu.py --out results.csv             # when OUT is unset
    python3 scripts/measure_gpu.py --dry-run --out /tmp/x.csv    # tiny CPU-only logic check

``--budget-s`` (default 420) stops starting new GPU measurements after that many
seconds; the host-CPU section that follows may start them for 60 s more.  Rows are flushed to the CSV as they are measured, so a killed run
still leaves data.  Not part of the book's requirements (needs PyTorch; Triton
is optional).

Output columns (long form, one row per measurement)
---------------------------------------------------
kind, variant      what was measured (see above) and how
m, n, k            batch rows, output neurons (rows of W that are computed),
                   input features; for gather/compact n is the number of
                   selected rows and ``n_total`` the rows of the full W
n_total            rows of the full weight matrix (sparse kinds)
frac               fraction of rows selected (sparse kinds), else empty
pinned             1/0 for copies, else empty
bytes              bytes the roofline counts: weights + activations in + out
                   for matmuls; transfer size for copies; read+write bytes for
                   STREAM (copy 2N, triad 3N element bytes); 0 for launch
flop               2*m*n*k for matmuls, 2N for triad, else 0
dtype              element type
median_s, p10_s, p90_s, min_s   statistics over the repeats, seconds
repeats            timed repetitions
gbps, tflops       bytes/median_s/1e9 and flop/median_s/1e12 (convenience)
timer              cuda_event | wall
l2_flush           1 if L2 was flushed before each repetition
device_name, driver, torch_version, cuda_version, cpu_model, n_threads, date
                   provenance (date = UTC ISO-8601 at start of run)
note               free text (e.g. why a point was skipped)
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import os
import platform
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

COLUMNS = [
    "kind", "variant", "m", "n", "k", "n_total", "frac", "pinned", "bytes", "flop",
    "dtype", "median_s", "p10_s", "p90_s", "min_s", "repeats", "gbps", "tflops",
    "timer", "l2_flush", "device_name", "driver", "torch_version", "cuda_version",
    "cpu_model", "n_threads", "date", "note",
]

SHAPES = [(4096, 4096), (5120, 13824), (13824, 5120), (8192, 28672),
          (28672, 8192), (9216, 36864), (36864, 9216)]  # (out=n, in=k)
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
FRACS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
SPARSE_BATCHES = [1, 16]
COPY_SIZES = [2 ** p for p in range(20, 31)]  # 1 MiB .. 1 GiB
MiB = 2 ** 20

T0 = time.perf_counter()


def log(*a):
    print(f"[{time.perf_counter() - T0:7.1f}s]", *a, flush=True)


def pct(xs, q):
    """Percentile with linear interpolation, q in [0, 100]."""
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout
    except Exception as e:  # noqa: BLE001
        return f"<{cmd!r} failed: {e}>"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Writer:
    def __init__(self, path, meta):
        self.path = path
        self.meta = meta
        self.n = 0
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        self.f = open(path, "w", newline="")
        self.w = csv.DictWriter(self.f, fieldnames=COLUMNS)
        self.w.writeheader()
        self.f.flush()

    def row(self, kind, variant, times, *, m="", n="", k="", n_total="", frac="",
            pinned="", nbytes=0, flop=0, dtype="", timer="cuda_event", l2_flush="",
            note=""):
        if times:
            med = pct(times, 50)
            r = dict(median_s=f"{med:.9g}", p10_s=f"{pct(times, 10):.9g}",
                     p90_s=f"{pct(times, 90):.9g}", min_s=f"{min(times):.9g}",
                     repeats=len(times),
                     gbps=f"{nbytes / med / 1e9:.6g}" if nbytes and med > 0 else "",
                     tflops=f"{flop / med / 1e12:.6g}" if flop and med > 0 else "")
        else:
            r = dict(median_s="", p10_s="", p90_s="", min_s="", repeats=0, gbps="",
                     tflops="")
        r.update(kind=kind, variant=variant, m=m, n=n, k=k, n_total=n_total,
                 frac=frac, pinned=pinned, bytes=nbytes, flop=flop, dtype=dtype,
                 timer=timer, l2_flush=l2_flush, note=note)
        r.update(self.meta)
        self.w.writerow(r)
        self.f.flush()
        self.n += 1
        return r

    def close(self):
        self.f.close()


class Bench:
    """Timing helpers; GPU (CUDA events) or CPU (wall clock) depending on device."""

    def __init__(self, device, flush_mib=256):
        self.device = device
        self.cuda = device.type == "cuda"
        self.timer = "cuda_event" if self.cuda else "wall"
        self.flush_buf = (torch.empty(flush_mib * MiB, dtype=torch.uint8, device=device)
                          if self.cuda else None)

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def gpu(self, fn, reps, warmup=3, flush=True):
        """Per-repetition CUDA-event times (s); L2 flushed before each rep."""
        for _ in range(warmup):
            fn()
        if not self.cuda:
            return self.wall(fn, reps, warmup=0)
        st = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
        en = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
        self.sync()
        for i in range(reps):
            if flush:
                self.flush_buf.zero_()
            st[i].record()
            fn()
            en[i].record()
        self.sync()
        return [s.elapsed_time(e) / 1e3 for s, e in zip(st, en)]

    def wall(self, fn, reps, warmup=1):
        for _ in range(warmup):
            fn()
        self.sync()
        out = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            self.sync()
            out.append(time.perf_counter() - t)
        return out


# --------------------------------------------------------------------------- Triton
_TRITON = None


def _build_triton():
    """Fused gather-GEMV: y[:, j] = x @ W[idx[j], :] read in place. None if unavailable."""
    global _TRITON
    if _TRITON is not None:
        return _TRITON or None
    try:
        import triton
        import triton.language as tl

        @triton.jit
        def _gather_mv(X, W, IDX, Y, M, NSEL, K, sxm, swn, sym,
                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                       BLOCK_K: tl.constexpr):
            pid = tl.program_id(0)
            offs_n = pid * BLOCK_N + tl.arange(0, BLOCK_N)
            mask_n = offs_n < NSEL
            rows = tl.load(IDX + offs_n, mask=mask_n, other=0).to(tl.int64)
            offs_m = tl.arange(0, BLOCK_M)
            mask_m = offs_m < M
            acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
            for k0 in range(0, K, BLOCK_K):
                offs_k = k0 + tl.arange(0, BLOCK_K)
                mask_k = offs_k < K
                x = tl.load(X + offs_m[:, None] * sxm + offs_k[None, :],
                            mask=mask_m[:, None] & mask_k[None, :], other=0.0)
                w = tl.load(W + rows[:, None] * swn + offs_k[None, :],
                            mask=mask_n[:, None] & mask_k[None, :], other=0.0)
                acc += tl.dot(x, tl.trans(w))
            tl.store(Y + offs_m[:, None] * sym + offs_n[None, :],
                     acc.to(Y.dtype.element_ty),
                     mask=mask_m[:, None] & mask_n[None, :])

        def run(x, W, idx, y):
            M, K = x.shape
            nsel = idx.numel()
            block_n = 16 if nsel < 132 * 64 else 32
            grid = (triton.cdiv(nsel, block_n),)
            _gather_mv[grid](x, W, idx, y, M, nsel, K, x.stride(0), W.stride(0),
                             y.stride(0), BLOCK_M=16, BLOCK_N=block_n, BLOCK_K=256,
                             num_warps=4, num_stages=3)
            return y

        _TRITON = run
    except Exception as e:  # noqa: BLE001
        log("triton unavailable:", repr(e)[:200])
        _TRITON = False
    return _TRITON or None


# --------------------------------------------------------------------------- sections
def sec_gemm(b, w, dev, shapes, batches, reps, deadline):
    log("== gemm: dense y = x @ W.T, fp16")
    dt = torch.float16
    for (n, k) in shapes:
        W = torch.randn(n, k, device=dev, dtype=dt) * 0.02
        for m in batches:
            if time.perf_counter() > deadline:
                w.row("gemm", "matmul", [], m=m, n=n, k=k, dtype="float16",
                      note="skipped: time budget")
                continue
            x = torch.randn(m, k, device=dev, dtype=dt)
            y = torch.empty(m, n, device=dev, dtype=dt)
            fn = lambda: torch.matmul(x, W.t(), out=y)  # noqa: E731
            t = b.gpu(fn, reps)
            nbytes = 2 * (n * k + m * k + m * n)
            r = w.row("gemm", "matmul", t, m=m, n=n, k=k, nbytes=nbytes,
                      flop=2 * m * n * k, dtype="float16", l2_flush=int(b.cuda),
                      timer=b.timer)
            if m in (1, 16, 1024):
                log(f"gemm n={n} k={k} m={m}: {float(r['median_s'])*1e3:.4f} ms "
                    f"{r['gbps']} GB/s {r['tflops']} TFLOP/s")
            del x, y
        del W
        if b.cuda:
            torch.cuda.empty_cache()


def sec_sparse(b, w, dev, shapes, fracs, batches, reps, deadline):
    log("== neuron-sparse GEMV: gather (in timed region) vs pre-compacted")
    dt = torch.float16
    gen = torch.Generator(device="cpu").manual_seed(0)
    tri = _build_triton() if b.cuda else None
    tri_ok = tri is not None
    for (n, k) in shapes:
        W = torch.randn(n, k, device=dev, dtype=dt) * 0.02
        for frac in fracs:
            nsel = max(1, int(round(frac * n)))
            idx = torch.randperm(n, generator=gen)[:nsel].sort().values.to(dev)
            Wc = W.index_select(0, idx).contiguous()
            for m in batches:
                common = dict(m=m, n=nsel, k=k, n_total=n, frac=frac, dtype="float16",
                              l2_flush=int(b.cuda), timer=b.timer)
                nbytes = 2 * (nsel * k + m * k + m * nsel)
                flop = 2 * m * nsel * k
                if time.perf_counter() > deadline:
                    w.row("gemv_compact", "matmul", [], note="skipped: time budget",
                          **common)
                    continue
                x = torch.randn(m, k, device=dev, dtype=dt)
                y = torch.empty(m, nsel, device=dev, dtype=dt)
                t = b.gpu(lambda: torch.matmul(x, Wc.t(), out=y), reps)
                rc = w.row("gemv_compact", "matmul", t, nbytes=nbytes, flop=flop,
                           **common)
                t = b.gpu(lambda: torch.matmul(x, W.index_select(0, idx).t(), out=y),
                          reps)
                rg = w.row("gemv_gather", "index_select", t, nbytes=nbytes, flop=flop,
                           note="gather copy + matmul; bytes = roofline minimum",
                           **common)
                t = b.gpu(lambda: torch.matmul(x, W[idx].t(), out=y), reps)
                w.row("gemv_gather", "advanced_index", t, nbytes=nbytes, flop=flop,
                      note="W[idx] + matmul; bytes = roofline minimum", **common)
                rf = None
                if tri_ok and m <= 16:
                    try:
                        yr = torch.matmul(x, Wc.t())
                        tri(x, W, idx, y)
                        torch.cuda.synchronize()
                        err = (y.float() - yr.float()).abs().max().item()
                        tol = 1e-2 + 1e-2 * yr.float().abs().max().item()
                        if err > tol:
                            raise RuntimeError(f"triton mismatch err={err:.3g}")
                        t = b.gpu(lambda: tri(x, W, idx, y), reps)
                        rf = w.row("gemv_gather", "triton_fused", t, nbytes=nbytes,
                                   flop=flop, note="one kernel, rows read in place",
                                   **common)
                    except Exception as e:  # noqa: BLE001
                        tri_ok = False
                        log("triton fused variant disabled:", repr(e)[:300])
                        w.row("gemv_gather", "triton_fused", [],
                              note=f"failed: {repr(e)[:150]}", **common)
                if frac in (0.1, 0.5, 1.0):
                    log(f"sparse n={n} k={k} m={m} f={frac}: compact "
                        f"{float(rc['median_s'])*1e6:.1f} us ({rc['gbps']} GB/s), "
                        f"gather {float(rg['median_s'])*1e6:.1f} us"
                        + (f", fused {float(rf['median_s'])*1e6:.1f} us" if rf else ""))
                del x, y
            del Wc, idx
        del W
        if b.cuda:
            torch.cuda.empty_cache()


def sec_copies(b, w, dev, sizes, deadline):
    log("== host<->device copies")
    if not b.cuda:
        log("no CUDA: copies skipped")
        return
    for pinned in (1, 0):
        for size in sizes:
            if time.perf_counter() > deadline:
                for kind in ("h2d", "d2h"):
                    w.row(kind, "copy_", [], pinned=pinned, nbytes=size, dtype="uint8",
                          note="skipped: time budget")
                continue
            reps = 20 if size <= 64 * MiB else (10 if size <= 256 * MiB else 5)
            h = torch.empty(size, dtype=torch.uint8, pin_memory=bool(pinned))
            h.fill_(1)  # touch pages
            d = torch.empty(size, dtype=torch.uint8, device=dev)
            if pinned:
                th = b.gpu(lambda: d.copy_(h, non_blocking=True), reps, warmup=2,
                           flush=False)
                td = b.gpu(lambda: h.copy_(d, non_blocking=True), reps, warmup=2,
                           flush=False)
                timer = "cuda_event"
            else:
                th = b.wall(lambda: d.copy_(h), reps, warmup=2)
                td = b.wall(lambda: h.copy_(d), reps, warmup=2)
                timer = "wall"
            a = w.row("h2d", "copy_", th, pinned=pinned, nbytes=size, dtype="uint8",
                      timer=timer)
            c = w.row("d2h", "copy_", td, pinned=pinned, nbytes=size, dtype="uint8",
                      timer=timer)
            if size in (MiB, 64 * MiB, 1024 * MiB):
                log(f"copy {size // MiB} MiB pinned={pinned}: h2d {a['gbps']} GB/s, "
                    f"d2h {c['gbps']} GB/s")
            del h, d
    torch.cuda.empty_cache()


def sec_cpu(b, w, shapes, stream_elems, deadline):
    nt = torch.get_num_threads()
    log(f"== host CPU (torch threads = {nt})")
    cpu = torch.device("cpu")
    for dt, name in ((torch.float32, "float32"), (torch.bfloat16, "bfloat16")):
        esz = torch.tensor([], dtype=dt).element_size()
        for (n, k) in shapes:
            for m in (1, 16):
                if time.perf_counter() > deadline:
                    w.row("cpu_gemv", "matmul", [], m=m, n=n, k=k, dtype=name,
                          timer="wall", note="skipped: time budget")
                    continue
                W = torch.randn(n, k, dtype=torch.float32).to(dt)
                x = torch.randn(m, k, dtype=torch.float32).to(dt)
                t1 = time.perf_counter()
                y = torch.matmul(x, W.t())
                first = time.perf_counter() - t1
                if first > 3.0:
                    w.row("cpu_gemv", "matmul", [first], m=m, n=n, k=k, dtype=name,
                          timer="wall", note="single call only: too slow")
                    log(f"cpu_gemv {name} n={n} k={k} m={m}: {first:.3f} s (1 call)")
                    continue
                reps = max(3, min(20, int(2.0 / max(first, 1e-4))))
                t = b.wall(lambda: torch.matmul(x, W.t(), out=y), reps, warmup=1)
                nbytes = esz * (n * k + m * k + m * n)
                r = w.row("cpu_gemv", "matmul", t, m=m, n=n, k=k, nbytes=nbytes,
                          flop=2 * m * n * k, dtype=name, timer="wall")
                log(f"cpu_gemv {name} n={n} k={k} m={m}: "
                    f"{float(r['median_s'])*1e3:.3f} ms, {r['gbps']} GB/s")
                del W, x, y
    if time.perf_counter() > deadline:
        return
    N = stream_elems
    a = torch.ones(N, dtype=torch.float32)
    bb = torch.full((N,), 2.0, dtype=torch.float32)
    c = torch.full((N,), 0.5, dtype=torch.float32)
    t = b.wall(lambda: a.copy_(bb), 10, warmup=2)
    r = w.row("cpu_stream_copy", "copy_", t, n=N, nbytes=2 * 4 * N, dtype="float32",
              timer="wall", note="a = b; bytes = read + write")
    log(f"cpu stream copy {4 * N // MiB} MiB/array: {r['gbps']} GB/s")
    t = b.wall(lambda: torch.add(bb, c, alpha=3.0, out=a), 10, warmup=2)
    r = w.row("cpu_stream_triad", "add_alpha", t, n=N, nbytes=3 * 4 * N, flop=2 * N,
              dtype="float32", timer="wall", note="a = b + 3*c; bytes = 2 reads + 1 write")
    log(f"cpu stream triad: {r['gbps']} GB/s")
    # single-thread reference for the copy
    torch.set_num_threads(1)
    t = b.wall(lambda: a.copy_(bb), 5, warmup=1)
    w.row("cpu_stream_copy", "copy_1thread", t, n=N, nbytes=2 * 4 * N,
          dtype="float32", timer="wall", note="torch.set_num_threads(1)")
    torch.set_num_threads(nt)
    del a, bb, c


def sec_launch(b, w, dev):
    log("== launch overhead")
    if not b.cuda:
        log("no CUDA: launch skipped")
        return
    N = 2000
    x = torch.zeros(1, device=dev)
    torch.cuda.synchronize()

    # CPU-side cost of launching an (almost) empty kernel, no sync
    def launch_block(op):
        def f():
            for _ in range(N):
                op()
        return f

    for name, op in (("sleep0", lambda: torch.cuda._sleep(0)),
                     ("add_scalar_1elem", lambda: x.add_(1.0))):
        # wall time of N back-to-back launches incl. final sync, per launch
        t = b.wall(launch_block(op), 5, warmup=1)
        w.row("launch", f"{name}_wall_per_launch", [v / N for v in t],
              dtype="float32", timer="wall",
              note=f"{N} back-to-back launches then one sync, per launch")
        # GPU time between events around N launches, per launch
        t = b.gpu(launch_block(op), 5, warmup=1, flush=False)
        w.row("launch", f"{name}_event_per_launch", [v / N for v in t],
              dtype="float32", note=f"events around {N} launches, per launch")
    # launch + synchronize round trip
    t = b.wall(lambda: x.add_(1.0), 200, warmup=20)
    r = w.row("launch", "add_scalar_1elem_sync_roundtrip", t, dtype="float32",
              timer="wall", note="one tiny kernel + torch.cuda.synchronize()")
    log(f"launch+sync roundtrip: {float(r['median_s'])*1e6:.1f} us")
    # CUDA graph replay of tiny kernels
    try:
        G = 100
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                x.add_(1.0)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(G):
                x.add_(1.0)
        t = b.gpu(g.replay, 20, warmup=3, flush=False)
        r = w.row("launch", "add_scalar_1elem_cudagraph_per_kernel", [v / G for v in t],
                  dtype="float32", note=f"graph of {G} tiny kernels, per kernel")
        log(f"cuda graph per tiny kernel: {float(r['median_s'])*1e6:.2f} us")
    except Exception as e:  # noqa: BLE001
        w.row("launch", "add_scalar_1elem_cudagraph_per_kernel", [],
              note=f"failed: {repr(e)[:150]}")
    for name, op in (("sleep0", lambda: torch.cuda._sleep(0)),
                     ("add_scalar_1elem", lambda: x.add_(1.0))):
        t = []
        for _ in range(5):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(N):
                op()
            t.append((time.perf_counter() - t0) / N)
        torch.cuda.synchronize()
        r = w.row("launch", f"{name}_cpu_enqueue", t, dtype="float32", timer="wall",
                  note="host time to enqueue one launch (no sync inside)")
        log(f"{name} cpu enqueue: {float(r['median_s'])*1e6:.2f} us")


# --------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None,
                    help="CSV path (default $OUT/gpu_measurements.csv)")
    ap.add_argument("--dry-run", action="store_true",
                    help="tiny shapes on CPU, to check the logic without a GPU")
    ap.add_argument("--budget-s", type=float, default=420.0,
                    help="stop starting new measurements after this many seconds")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--only", default="launch,gemm,sparse,copies,cpu",
                    help="comma-separated sections to run")
    a = ap.parse_args(argv)

    out = a.out or (os.path.join(os.environ["OUT"], "gpu_measurements.csv")
                    if os.environ.get("OUT") else None)
    if out is None:
        ap.error("set OUT or pass --out")
    deadline = T0 + a.budget_s
    sections = set(a.only.split(","))

    use_cuda = torch.cuda.is_available() and not a.dry_run
    dev = torch.device("cuda" if use_cuda else "cpu")
    date = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    if use_cuda:
        dname = torch.cuda.get_device_name(0)
        driver = sh("nvidia-smi --query-gpu=driver_version --format=csv,noheader"
                    ).strip().splitlines()[0:1]
        driver = driver[0] if driver else ""
    else:
        dname, driver = "cpu-dry-run" if a.dry_run else "cpu", ""
    meta = dict(device_name=dname, driver=driver, torch_version=torch.__version__,
                cuda_version=torch.version.cuda or "", cpu_model=cpu_model(),
                n_threads=torch.get_num_threads(), date=date)
    log("meta:", meta)
    log("python", sys.version.split()[0], "| host cores (os.cpu_count):", os.cpu_count())
    if use_cuda:
        p = torch.cuda.get_device_properties(0)
        log(f"device props: {p.name}, {p.total_memory / 2**30:.1f} GiB, "
            f"{p.multi_processor_count} SMs, cc {p.major}.{p.minor}")
        log("nvidia-smi -q (selected lines):")
        keep = ("Product Name", "Driver Version", "CUDA Version", "Persistence",
                "Clocks", "Graphics", "SM ", "Memory  ", "Max ", "Applications",
                "Default Applications", "ECC", "Current", "Pending", "PCIe Generation",
                "Link Width", "Max  ", "Performance State", "Power Limit",
                "Bus Id", "MIG Mode", "Compute Mode", "Clocks Event Reasons",
                "Clocks Throttle", "Power Draw", "GPU Current Temp")
        for line in sh("nvidia-smi -q").splitlines():
            if line.strip() and any(kk in line for kk in keep):
                print("   ", line.rstrip(), flush=True)
        print(sh("lscpu | grep -E 'Model name|Socket|Core|Thread|NUMA|MHz|L3'"),
              flush=True)
        print(sh("grep -E 'MemTotal|MemAvailable' /proc/meminfo"), flush=True)

    w = Writer(out, meta)
    b = Bench(dev, flush_mib=256 if use_cuda else 0)
    if a.dry_run:
        shapes = [(64, 48), (96, 128)]
        batches, fracs, sp_b = [1, 4], [0.1, 1.0], [1, 2]
        sizes, cpu_shapes, stream_n, reps = [MiB], [(64, 48)], 2 ** 16, 3
    else:
        shapes, batches, fracs, sp_b = SHAPES, BATCHES, FRACS, SPARSE_BATCHES
        sizes, cpu_shapes, stream_n, reps = (COPY_SIZES, [(4096, 4096), (8192, 28672)],
                                             2 ** 28, a.reps)
    torch.manual_seed(0)
    smi_q = ("nvidia-smi --query-gpu=clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,"
             "power.draw,temperature.gpu,pcie.link.gen.current,pcie.link.width.current,"
             "pcie.link.gen.max,pcie.link.width.max --format=csv")
    if use_cuda:
        log("clocks/PCIe before:\n" + sh(smi_q))
    plan = [("launch", lambda: sec_launch(b, w, dev)),
            ("gemm", lambda: sec_gemm(b, w, dev, shapes, batches, reps, deadline)),
            ("sparse", lambda: sec_sparse(b, w, dev, shapes, fracs, sp_b, reps,
                                          deadline)),
            ("copies", lambda: sec_copies(b, w, dev, sizes, deadline)),
            ("cpu", lambda: sec_cpu(b, w, cpu_shapes, stream_n, deadline + 60))]
    with torch.inference_mode():
        for name, fn in plan:
            if name not in sections:
                continue
            try:
                fn()
            except Exception as e:  # noqa: BLE001  keep going with other sections
                import traceback
                traceback.print_exc()
                log(f"section {name} FAILED: {e!r}")
                w.row(name, "section_failed", [], note=f"failed: {repr(e)[:200]}")
                if use_cuda:
                    torch.cuda.empty_cache()
    if use_cuda:
        log("clocks/PCIe after:\n" + sh(smi_q))
    w.close()
    log(f"done: {w.n} rows -> {out}")


if __name__ == "__main__":
    main()
