"""Numba kernels against their best vectorised NumPy equivalents, in one run.

    python benchmarks/bench_kernels.py            # full grid
    python benchmarks/bench_kernels.py --quick    # a few points
    python benchmarks/bench_kernels.py --json out.json

Each line times one kernel and its NumPy equivalent on the same inputs (best of
several repeats, so a noisy shared machine hurts both alike) and prints the
ratio numpy_time / kernel_time (> 1: the kernel is faster). Then the first-call
cost of the kernels (Numba compile) in a fresh process with an empty cache
(cold) and again with the cache it left (warm).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def best_of(fn, repeat=5, min_time=0.05):
    """Best per-call seconds over `repeat` rounds of enough calls to last min_time."""
    fn()
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time / 5 or n > 10**5:
            break
        n *= 4
    best = t / n
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def batch(rng, n_batch, per_row, vocab, d):
    """A batch of `per_row` ids per row (rows sorted, as feature columns give them)."""
    rows = np.repeat(np.arange(n_batch, dtype=np.int64), per_row)
    ids = rng.integers(0, vocab, len(rows)).astype(np.int64)
    weights = np.ones(len(rows), np.float32)
    params = rng.standard_normal((vocab, d), dtype=np.float32)
    return params, rows, ids, weights


def cases(quick):
    if quick:
        return [(256, 10, 10**3, 8), (4096, 10, 10**6, 8), (4096, 50, 10**5, 1)]
    return [(b, k, v, d) for b in (256, 4096) for k in (1, 10, 50) for v in (10**3, 10**6)
            for d in (1, 8, 32)]


def pairs_at(params, rows, ids, w, g, per_row):
    """(name, kernel call, NumPy call) for one grid point; both compute the same."""
    from minitf.kernels import scatter as S
    from minitf.kernels import segment as K
    n_batch, d, vocab = len(g), params.shape[1], len(params)
    starts = np.arange(0, len(rows), per_row)

    def np_combine():  # mean combiner: gather, weight, segment-sum, divide
        out = np.add.reduceat(params[ids] * w[:, None], starts, axis=0)
        return out / np.add.reduceat(w, starts)[:, None]

    def np_combine_add_at():  # the same without relying on sorted rows
        out = np.zeros((n_batch, d), np.float32)
        np.add.at(out, rows, params[ids] * w[:, None])
        return out / np.bincount(rows, w, minlength=n_batch)[:, None]

    def np_grad():
        norm = np.bincount(rows, w, minlength=n_batch).astype(np.float32)
        return g[rows] * (w / norm[rows])[:, None]

    values = np_grad()
    table = np.zeros((vocab, d), np.float32)

    def np_dedup():
        uniq, first, inv = np.unique(ids, return_index=True, return_inverse=True)
        summed = np.zeros((len(uniq), d), np.float32)
        np.add.at(summed, inv.reshape(-1), values)
        order = np.argsort(first, kind="stable")
        return uniq[order], summed[order]

    return [
        ("sparse_combine mean (reduceat)",
         lambda: K.sparse_combine(params, rows, ids, w, n_batch, "mean"), np_combine),
        ("sparse_combine mean (add.at)",
         lambda: K.sparse_combine(params, rows, ids, w, n_batch, "mean"), np_combine_add_at),
        ("sparse_combine_grad mean",
         lambda: K.sparse_combine_grad(g, params, rows, ids, w, "mean", False), np_grad),
        ("scatter_add", lambda: S.scatter_add(table, ids, values),
         lambda: np.add.at(table, ids, values)),
        ("dedup_sum", lambda: S.dedup_sum(ids, values), np_dedup),
    ]


def run_grid(quick):
    rng = np.random.default_rng(0)
    results = []
    for n_batch, per_row, vocab, d in cases(quick):
        params, rows, ids, w = batch(rng, n_batch, per_row, vocab, d)
        g = rng.standard_normal((n_batch, d), dtype=np.float32)
        point = dict(batch=n_batch, ids_per_row=per_row, table_rows=vocab, dim=d)
        for name, kern, ref in pairs_at(params, rows, ids, w, g, per_row):
            tk, tn = best_of(kern), best_of(ref)
            results.append(dict(point, kernel=name, kernel_s=tk, numpy_s=tn, ratio=tn / tk))
            print(f"{name:31s} b={n_batch:4d} ids/row={per_row:2d} table={vocab:7d} d={d:2d}"
                  f"  kernel {tk * 1e6:8.1f} us  numpy {tn * 1e6:8.1f} us  x{tn / tk:6.2f}",
                  flush=True)
    return results


def run_matmul(quick):
    from minitf.kernels import matmul as MM
    rng = np.random.default_rng(1)
    results = []
    for m, k, n in ([(256, 512, 256)] if quick else [(256, 51, 100), (256, 512, 256),
                                                     (1024, 1024, 512)]):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        tk, tn = best_of(lambda a=a, b=b: MM.matmul(a, b)), best_of(lambda a=a, b=b: a @ b)
        results.append(dict(kernel="tiled matmul vs BLAS", m=m, k=k, n=n, kernel_s=tk,
                            numpy_s=tn, ratio=tn / tk))
        print(f"{'tiled matmul vs BLAS':32s} {m}x{k} @ {k}x{n}  kernel {tk * 1e6:9.1f} us  "
              f"BLAS {tn * 1e6:9.1f} us  x{tn / tk:6.3f}", flush=True)
    return results


FIRST_CALLS = """
import time, numpy as np
t0 = time.perf_counter()
from minitf.kernels import matmul as MM, scatter as S, segment as K
t1 = time.perf_counter()
p = np.ones((4, 2), np.float32); r = np.array([0, 0, 1]); i = np.array([1, 2, 3])
w = np.ones(3, np.float32)
K.sparse_combine(p, r, i, w, 2, "mean")
K.sparse_combine_grad(np.ones((2, 2), np.float32), p, r, i, w, "mean")
S.scatter_add(p, i, np.ones((3, 2), np.float32)); S.dedup_sum(i, np.ones((3, 2), np.float32))
MM.matmul(p, p.T)
print(t1 - t0, time.perf_counter() - t1)
"""


def run_compile():
    """First-call cost in fresh processes: empty Numba cache, then the warm one."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "warm"):
            res = subprocess.run([sys.executable, "-c", FIRST_CALLS], env=env, check=True,
                                 capture_output=True, text=True)
            imp, first = (float(x) for x in res.stdout.split())
            out[label] = dict(import_s=imp, first_calls_s=first)
            print(f"first calls of all kernels, {label} cache: {first:7.3f} s "
                  f"(import {imp:.3f} s)", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few points only")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    res = dict(grid=run_grid(args.quick), matmul=run_matmul(args.quick), compile=run_compile())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
