"""A large sparse wide & deep model on synthetic Criteo-like data: training speed,
where a step's time goes, and how much of the machine's BLAS peak the GEMMs get.

    .venv/bin/python benchmarks/bench_large.py [--quick]
    .refenv/bin/python benchmarks/bench_large.py --tf [--json out.json]

Data (made here, seeded): 13 numeric features I1..I13 (log1p of heavy-tailed
counts) and 26 string features C1..C26, Zipf(1.2)-distributed over vocabularies of
10^1..10^7 values (Criteo's spread). Model: `DNNLinearCombinedClassifier`; wide: the
26 string features hashed into 10^6 buckets plus 3 crosses of pairs (10^6
buckets); deep: the 13 numerics and a 32-d embedding of each hashed column
(26 x 10^6 x 32 floats: 3.3 GB, as much again for Adagrad's accumulators);
hidden [1024, 512, 256]; default optimizers; batch 1024.

Each framework trains in its own subprocess (so their memory is not held
together): warm-up steps, then timed steps (examples/s), then (ours) steps under
cProfile. Profile time is grouped by the file of the Python function it was
spent in; time in NumPy/builtins goes to the group of the project function that
called it (a Numba kernel's time shows in its Python caller):

  GEMM            minitf/ops/math.py matmul and its backward, minitf/kernels/matmul.py,
                  minitf/blas.py (the GEMMs of the canned tape-free step)
  sparse          minitf/ops/sparse.py, minitf/sparse.py, minitf/kernels (segments, scatter)
  feature columns widedeep/feature_column, minitf/hashing.py, minitf/kernels/farmhash.py
                  and lookup.py
  optimizers      minitf/optimizers, minitf/kernels/optimizers.py
  dense ops       the rest of minitf/ops (element-wise, nn, array), kernels/activations.py,
                  the rest of widedeep/canned/fast_step.py (gathers, bias, ReLU)
  input pipeline  minitf/data.py, minitf/kernels/shuffle.py
  other           estimator loop, tape, heads, models, Python overhead

The BLAS peak (float32 2048 x 2048 GEMM through NumPy, all threads and one) is
measured in the same run, in the process that trains ours (the estimator runs
its loops with one BLAS thread); the GEMM efficiency is the model's GEMM FLOPs per step
(forward, and both backward products of every dense layer) over the GEMM time.
"""

import argparse
import cProfile
import inspect
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, ROOT)

BATCH, HIDDEN, EMBED = 1024, [1024, 512, 256], 32
CROSSES = [("C1", "C2"), ("C3", "C4"), ("C5", "C6")]
NUMERIC = [f"I{i}" for i in range(1, 14)]
CATEGORICAL = [f"C{i}" for i in range(1, 27)]


def make_data(rows, seed=0):
    """(features {name: array}, labels int64): Criteo-like, deterministic."""
    rng = np.random.default_rng(seed)
    x = {k: np.log1p(rng.lognormal(1.0 + i % 4, 1.5, rows)).astype(np.float32)
         for i, k in enumerate(NUMERIC)}
    vocab = rng.permutation(np.geomspace(10, 1e7, len(CATEGORICAL)).astype(np.int64))
    score = 0.2 * x["I1"] - 1.5
    for j, (k, v) in enumerate(zip(CATEGORICAL, vocab)):
        ids = (rng.zipf(1.2, rows) - 1) % v
        uniq, inverse = np.unique(ids, return_inverse=True)
        names = np.array([f"{(int(u) * 2654435761 + j) & 0xFFFFFFFF:08x}" for u in uniq])
        x[k] = names[inverse.ravel()]
        score = score + 0.3 * ((ids % 7 == 0) - 0.14)
    labels = (rng.random(rows) < 1 / (1 + np.exp(-score))).astype(np.int64)
    return x, labels


def columns(fc, buckets):
    """(wide, deep) with `fc` = widedeep.feature_column or tf.feature_column."""
    hashed = [fc.categorical_column_with_hash_bucket(k, buckets) for k in CATEGORICAL]
    wide = hashed + [fc.crossed_column(list(pair), buckets) for pair in CROSSES]
    deep = [fc.numeric_column(k) for k in NUMERIC] + [fc.embedding_column(c, EMBED)
                                                      for c in hashed]
    return wide, deep


def gemm_flops_per_step():
    """Forward x @ W, backward g @ W.T and x.T @ g of each dense layer: 3 x 2*B*m*n."""
    dims = [len(NUMERIC) + EMBED * len(CATEGORICAL)] + HIDDEN + [1]
    return sum(6 * BATCH * m * n for m, n in zip(dims[:-1], dims[1:]))


def blas_peak(n=2048, repeat=5):
    """Best float32 n x n GEMM GFLOP/s with NumPy: {threads: GFLOP/s} (all, then one),
    and the BLAS NumPy uses (OpenBLAS's kernel choice matters: 'Prescott' is generic)."""
    from threadpoolctl import threadpool_info, threadpool_limits
    a, b = (np.random.default_rng(0).random((n, n), dtype=np.float32) for _ in range(2))
    out = {"blas": ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')}"
                             for i in threadpool_info() if i["user_api"] == "blas")}
    for threads in (None, 1):
        with threadpool_limits(limits=threads, user_api="blas"):
            a @ b
            best = min(_timed(lambda: a @ b) for _ in range(repeat))
        out["all" if threads is None else "1"] = 2 * n ** 3 / best / 1e9
    return out


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# --- profile groups -----------------------------------------------------------------------
GROUPS = ["GEMM", "sparse", "feature columns", "optimizers", "dense ops", "input pipeline",
          "other"]


def group_of(func, gemm_lines):
    """The group of a profiled function (file, line, name), or None outside the project."""
    path, line, _ = func
    if path == "~" or not os.path.realpath(path).startswith(ROOT + os.sep):
        return None
    rel = os.path.relpath(os.path.realpath(path), ROOT).replace(os.sep, "/")
    if rel == "minitf/ops/math.py" and gemm_lines[0] <= line < gemm_lines[1]:
        return "GEMM"
    for prefix, group in (("minitf/kernels/matmul", "GEMM"), ("minitf/blas", "GEMM"),
                          ("minitf/kernels/farmhash", "feature columns"),
                          ("minitf/kernels/lookup", "feature columns"),
                          ("minitf/kernels/optimizers", "optimizers"),
                          ("minitf/kernels/activations", "dense ops"),
                          ("minitf/kernels/shuffle", "input pipeline"),
                          ("widedeep/canned/fast_step", "dense ops"),
                          ("minitf/ops/sparse", "sparse"), ("minitf/sparse", "sparse"),
                          ("minitf/kernels", "sparse"), ("widedeep/feature_column",
                          "feature columns"), ("minitf/hashing", "feature columns"),
                          ("minitf/optimizers", "optimizers"), ("minitf/ops", "dense ops"),
                          ("minitf/data", "input pipeline")):
        if rel.startswith(prefix):
            return group
    return "other"


def grouped(stats):
    """{group: seconds}: each function's own time, time outside the project going to
    its callers' groups in proportion to the time spent under each caller."""
    from minitf.ops import math as ops_math
    src, start = inspect.getsourcelines(inspect.unwrap(ops_math.matmul))
    gemm_lines = (start, start + len(src))
    table, memo = stats.stats, {}

    def shares(func):
        own = group_of(func, gemm_lines)
        if own is not None:
            return {own: 1.0}
        if func not in memo:
            memo[func] = {"other": 1.0}  # while in a cycle
            callers = table[func][4] if func in table else {}
            total = sum(e[2] for e in callers.values())
            out = {}
            for caller, edge in callers.items():
                w = edge[2] / total if total else 1 / len(callers)
                for g, s in shares(caller).items():
                    out[g] = out.get(g, 0.0) + w * s
            memo[func] = out or {"other": 1.0}
        return memo[func]

    seconds = dict.fromkeys(GROUPS, 0.0)
    for func, (_, _, tottime, _, _) in table.items():
        for g, s in shares(func).items():
            seconds[g] += tottime * s
    return seconds


# --- the subprocesses: one framework each -------------------------------------------------
def step_hook(base, warm, timed, profiled):
    """Notes when each step ends; profiles steps warm+timed+1 .. warm+timed+profiled."""
    class Steps(base):
        def __init__(self):
            self.times, self.profile = [], cProfile.Profile()

        def after_run(self, run_context, run_values):
            self.times.append(time.perf_counter())
            n = len(self.times)
            if profiled and n == warm + timed:
                self.profile.enable()
            elif profiled and n == warm + timed + profiled:
                self.profile.disable()
    return Steps()


def child(impl, settings):
    """Trains one framework; prints {examples/s, profile groups, peak RSS} as JSON."""
    s = settings
    x, y = make_data(s["rows"])
    if impl == "tf":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")
        fc, est_mod, Dataset = tf.feature_column, tf.estimator, tf.data.Dataset
        config = tf.estimator.RunConfig(tf_random_seed=0, keep_checkpoint_max=1)
        hook = step_hook(tf.estimator.SessionRunHook, s["warm"], s["timed"], 0)
    else:
        import widedeep.canned as est_mod
        import widedeep.feature_column as fc
        from minitf.data import Dataset
        from widedeep.estimator import RunConfig, SessionRunHook
        config = RunConfig(tf_random_seed=0, keep_checkpoint_max=1)
        hook = step_hook(SessionRunHook, s["warm"], s["timed"], s["profiled"])
    wide, deep = columns(fc, s["buckets"])
    work = tempfile.mkdtemp()
    try:
        est = est_mod.DNNLinearCombinedClassifier(
            model_dir=work, linear_feature_columns=wide, dnn_feature_columns=deep,
            dnn_hidden_units=HIDDEN, config=config)
        est.train(lambda: Dataset.from_tensor_slices((x, y)).repeat().batch(BATCH),
                  hooks=[hook], steps=s["warm"] + s["timed"] + (0 if impl == "tf"
                                                                else s["profiled"]))
    finally:
        shutil.rmtree(work)
    t, w = hook.times, s["warm"]
    out = {"blas_peak": blas_peak() if impl != "tf" else None, "numpy": np.__version__,
           "examples_s": s["timed"] * BATCH / (t[w + s["timed"] - 1] - t[w - 1]),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if impl != "tf" and s["profiled"]:
        n0 = s["warm"] + s["timed"]
        out["profiled_step_s"] = (t[n0 + s["profiled"] - 1] - t[n0 - 1]) / s["profiled"]
        out["profile_s"] = {g: v / s["profiled"]
                            for g, v in grouped(pstats.Stats(hook.profile)).items()}
    print(json.dumps(out))


def run_child(impl, settings):
    out = subprocess.run([sys.executable, __file__, "--child", impl, json.dumps(settings)],
                         check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the run -----------------------------------------------------------------------------
def report(ours, tf, settings):
    flops, peak = gemm_flops_per_step(), ours["blas_peak"]
    print(f"large sparse wide & deep: {len(NUMERIC)} numeric + {len(CATEGORICAL)} hashed "
          f"({settings['buckets']:,} buckets) + {len(CROSSES)} crosses, {EMBED}-d embeddings, "
          f"hidden {HIDDEN}, batch {BATCH}; python {sys.executable}")
    print(f"BLAS peak, float32 2048^3 GEMM: {peak['all']:.1f} GFLOP/s (all threads), "
          f"{peak['1']:.1f} GFLOP/s (one thread); numpy {ours['numpy']}, {peak['blas']}")
    line = f"training: widedeep {ours['examples_s']:,.0f} ex/s"
    if tf:
        line += (f", TF 2.15 {tf['examples_s']:,.0f} ex/s, ours/TF "
                 f"{ours['examples_s'] / tf['examples_s']:.3g}")
    print(line)
    print(f"peak RSS: widedeep {ours['peak_rss_mb']:,.0f} MB"
          + (f", TF {tf['peak_rss_mb']:,.0f} MB" if tf else ""))
    if "profile_s" not in ours:
        return
    prof, step = ours["profile_s"], BATCH / ours["examples_s"]
    total = sum(prof.values())
    print(f"profile ({settings['profiled']} steps; a step {step:.3f} s, "
          f"{ours['profiled_step_s']:.3f} s under cProfile):")
    print(f"  {'group':<16} {'s/step':>8} {'share':>7}")
    for g in GROUPS:
        print(f"  {g:<16} {prof[g]:>8.4f} {prof[g] / total:>7.1%}")
    if not prof["GEMM"]:
        print("GEMM: no time found in the GEMM group (is the grouping out of date?)")
        return
    achieved = flops / prof["GEMM"] / 1e9
    print(f"GEMM: {flops / 1e9:.2f} GFLOP per step in {prof['GEMM']:.4f} s = {achieved:.1f} "
          f"GFLOP/s = {achieved / peak['1']:.0%} of the one-thread peak, "
          f"{achieved / peak['all']:.0%} of the all-thread peak; at the all-thread peak "
          f"the GEMMs alone would take {flops / peak['all'] / 1e9 / step:.0%} of a step")
    ours["gemm_gflop_per_step"], ours["gemm_gflop_s"] = flops / 1e9, achieved


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="10^4 buckets, a few steps")
    p.add_argument("--tf", action="store_true", help="also TF 2.15 (needs the reference venv)")
    p.add_argument("--json")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child[0], json.loads(args.child[1]))
    settings = (dict(rows=8 * BATCH, buckets=10 ** 4, warm=3, timed=4, profiled=3)
                if args.quick else
                dict(rows=48 * BATCH, buckets=10 ** 6, warm=5, timed=25, profiled=10))
    ours = run_child("ours", settings)  # the BLAS peak is measured in this child
    tf = run_child("tf", settings) if args.tf else None
    report(ours, tf, settings)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": settings, "widedeep": ours,
                       "tf": tf}, f, indent=1)


if __name__ == "__main__":
    main()
