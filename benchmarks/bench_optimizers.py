"""Sparse FTRL and Adagrad updates (fused Numba kernels) against vectorised
NumPy versions of the same update, and dense Adagrad, in one run.

    python benchmarks/bench_optimizers.py [--quick] [--json out.json]

Touched rows are distinct (the optimizer sums duplicates first). Rates are
rows updated per second; ratio = numpy time / kernel time.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_kernels import best_of  # noqa: E402

from minitf.kernels import optimizers as K  # noqa: E402


def np_adagrad(var, acc, rows, g, lr, eps):
    a = acc[rows] + g * g
    acc[rows] = a
    var[rows] -= g * lr / (np.sqrt(a) + eps)


def np_ftrl(var, accum, linear, rows, g, lr, l1, l2):
    w, a = var[rows], accum[rows]
    na = a + g * g
    lin = linear[rows] + g - (np.sqrt(na) - np.sqrt(a)) / lr * w
    linear[rows] = lin
    quad = np.sqrt(na) / lr + 2 * l2
    var[rows] = np.where(np.abs(lin) > l1, (np.sign(lin) * l1 - lin) / quad, 0)
    accum[rows] = na


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    f32 = np.float32
    tables = [10**4, 10**6] if args.quick else [10**4, 10**5, 10**6, 10**7]
    touched = [256, 65536] if args.quick else [256, 4096, 65536]
    results = []
    for n in tables:
        for d in (1, 8):
            if n * d > 2 * 10**7:
                continue
            var = rng.standard_normal((n, d), dtype=f32)
            acc = np.full((n, d), 0.1, f32)
            lin = np.zeros((n, d), f32)
            for k in touched:
                if k > n:
                    continue
                rows = np.sort(rng.choice(n, k, replace=False)).astype(np.int64)
                g = rng.standard_normal((k, d), dtype=f32)
                cases = [
                    ("sparse Adagrad", lambda: K.sparse_adagrad(var, acc, rows, g, f32(0.1),
                                                                f32(1e-7)),
                     lambda: np_adagrad(var, acc, rows, g, f32(0.1), f32(1e-7))),
                    ("sparse FTRL", lambda: K.sparse_ftrl(var, acc, lin, rows, g, f32(0.1),
                                                          f32(0.01), f32(0.01), f32(0),
                                                          f32(-0.5)),
                     lambda: np_ftrl(var, acc, lin, rows, g, f32(0.1), f32(0.01), f32(0.01))),
                ]
                for name, kern, ref in cases:
                    tk, tn = best_of(kern), best_of(ref)
                    results.append(dict(op=name, table_rows=n, dim=d, touched=k, kernel_s=tk,
                                        numpy_s=tn, ratio=tn / tk))
                    print(f"{name:15s} table={n:9d} d={d} rows={k:6d}  kernel {k / tk:12.3e} "
                          f"rows/s  numpy {k / tn:12.3e} rows/s  x{tn / tk:6.2f}", flush=True)
    from minitf import optimizers
    from minitf.tensor import Variable
    w = Variable(rng.standard_normal(10**6, dtype=f32), name="w")
    opt = optimizers.Adagrad(0.1)
    grad = rng.standard_normal(10**6, dtype=f32)
    t = best_of(lambda: opt.apply_gradients([(grad, w)]))
    results.append(dict(op="dense Adagrad", params=10**6, seconds=t))
    print(f"dense Adagrad on 10^6 parameters: {t * 1e3:.2f} ms per step "
          f"({10**6 / t:.3e} params/s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
