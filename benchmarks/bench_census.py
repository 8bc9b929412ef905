"""Speed of the census wide & deep classifier, widedeep against TF 2.15, in one run.

    .venv/bin/python benchmarks/bench_census.py [--epochs 3] [--quick] [--json out.json]
    .refenv/bin/python benchmarks/bench_census.py --tf --json out.json   # both, and ratios

The model is TF's census tutorial: `DNNLinearCombinedClassifier`, the census
columns, hidden [100, 75, 50, 25], default optimizers (FTRL + Adagrad), batch 256,
shuffled with a 10,000-row buffer. Figures:

* training examples/s over `--epochs` epochs: steady state (the clock starts at
  the end of step 50) and including start-up (the whole `train` call); and a
  bound: BATCH over the time of one step's GEMMs alone (forward and backward,
  as this machine's BLAS runs them, measured here), which a training step made
  of these GEMMs cannot beat;
* evaluate and predict examples/s on the test split (batch 256);
* one `Estimator.predict` call for one example (seconds);
* from a loaded export (parsing receiver: the `predict` and `serving_default`
  signatures; raw receiver: `predict`): latency for one example (ms, median) and
  examples/s over the test split in batches of 256 (examples serialized before);
* subprocesses: `import widedeep` (and what a training script imports) minus
  `python -c pass`; launch to the end of the first training step with a fresh
  Numba cache (cold) and again with the cache it left (warm); peak RSS of a
  process that trains one epoch.

A shared 2-core machine is noisy: compare the ratios of one run, not runs.
The reference venv's NumPy 1.26 ships an OpenBLAS that misdetects some CPUs
(generic "Prescott" kernels, 5x slower GEMMs); run it with
``OPENBLAS_CORETYPE=SkylakeX`` (or your CPU's type) so ours gets the BLAS it
would get with NumPy 2. TF does not use OpenBLAS.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
from widedeep.datasets import load_adult  # noqa: E402

BATCH, SKIP, HIDDEN = 256, 50, [100, 75, 50, 25]


class Ours:
    """widedeep's side: the estimator, its data pipeline, its export."""
    name = "widedeep"
    imports = ["import widedeep",
               "import widedeep.canned, widedeep.feature_column, widedeep.export, "
               "widedeep.saved_model, minitf.data"]

    def __init__(self):
        from minitf.data import Dataset
        from widedeep import feature_column, saved_model
        from widedeep.canned import DNNLinearCombinedClassifier
        from widedeep.datasets import census_columns
        from widedeep.estimator import RunConfig, SessionRunHook
        from widedeep.export import (
            TensorSpec,
            build_parsing_serving_input_receiver_fn,
            build_raw_serving_input_receiver_fn,
        )
        self.Dataset, self.hook_base = Dataset, SessionRunHook
        self.wide, self.deep = census_columns()
        self.spec = feature_column.make_parse_example_spec(self.wide + self.deep)
        self.parsing_fn = build_parsing_serving_input_receiver_fn(self.spec)
        self.raw_fn = build_raw_serving_input_receiver_fn(
            {k: TensorSpec([None], "float32" if k in NUMERIC else "string") for k in self.spec})
        self.make = lambda d: DNNLinearCombinedClassifier(
            model_dir=d, linear_feature_columns=self.wide, dnn_feature_columns=self.deep,
            dnn_hidden_units=HIDDEN, config=RunConfig(tf_random_seed=0))
        self.load = saved_model.load

    def call(self, sig, **inputs):
        return sig(**inputs)


class TF(Ours):
    """TF 2.15's side: same settings; its census columns are generate_canned.py's."""
    name = "tf"
    imports = ["import tensorflow",
               "import tensorflow as tf; tf.estimator.DNNLinearCombinedClassifier"]

    def __init__(self):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        tf.get_logger().setLevel("ERROR")
        sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
        from generate_canned import census_columns
        self.tf, self.Dataset = tf, tf.data.Dataset
        self.hook_base = tf.estimator.SessionRunHook
        self.wide, self.deep = census_columns()
        spec = tf.feature_column.make_parse_example_spec(self.wide + self.deep)
        self.parsing_fn = tf.estimator.export.build_parsing_serving_input_receiver_fn(spec)
        self.raw_fn = tf.estimator.export.build_raw_serving_input_receiver_fn(
            {k: tf.constant([0.0] if k in NUMERIC else [""]) for k in spec})
        self.make = lambda d: tf.estimator.DNNLinearCombinedClassifier(
            model_dir=d, linear_feature_columns=self.wide, dnn_feature_columns=self.deep,
            dnn_hidden_units=HIDDEN, config=tf.estimator.RunConfig(tf_random_seed=0))
        self.load = tf.saved_model.load

    def call(self, sig, **inputs):
        out = sig(**{k: self.tf.constant(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in out.items()}


NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
KEYS = NUMERIC + ["education", "marital_status", "relationship", "workclass", "occupation"]


def step_timer(impl):
    """A hook (of the framework's own hook class) that notes when each step ends."""
    class StepTimes(impl.hook_base):
        def __init__(self):
            self.times = []

        def after_run(self, run_context, run_values):
            self.times.append(time.perf_counter())
    return StepTimes()


def per_second(n, fn):
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def median_time(fn, repeat):
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gemm_floor(est, repeat=2000):
    """Seconds per step of the GEMMs alone: the trained model's hidden and logits
    layers, forward and backward (kernel and input gradients; not the logits
    layer's input gradient, an outer product that the step forms without BLAS)
    at batch BATCH, on one BLAS thread and on all of them, whichever is faster
    (OpenBLAS builds differ: NumPy 2's gains from a second thread here, NumPy
    1.26's loses). A step that runs these GEMMs through BLAS is no faster, so
    BATCH / floor bounds its examples/s on this machine. (It is BLAS's limit,
    not the hardware's: on one thread these small GEMMs run at 60-80% of a
    large GEMM's rate, and a second core would have to take half of each
    20-40 us product.)"""
    import numpy as np

    from minitf.blas import _blas
    from widedeep import checkpoint as ckpt
    values = ckpt.read(est.latest_checkpoint())
    names = [f"dnn/hiddenlayer_{i}/kernel" for i in range(len(HIDDEN))] + ["dnn/logits/kernel"]
    kernels = [values[n] for n in names]
    x = np.random.default_rng(0).standard_normal((BATCH, kernels[0].shape[0])).astype(
        np.float32)

    def step():
        acts, h = [], x
        for k in kernels:
            acts.append(h)
            h = np.matmul(h, k)
        g = h
        for a, k in zip(acts[::-1], kernels[::-1]):
            np.matmul(a.T, g)
            g = np.matmul(g, k.T) if k.shape[1] > 1 else g * k.T
    libs = _blas()
    saved = [lib.get_num_threads() for lib in libs]
    best = float("inf")
    try:
        for threads in sorted({1, *saved}):
            for lib in libs:
                lib.set_num_threads(threads)
            step()
            for _ in range(5):  # the least disturbed of five runs
                t = time.perf_counter()
                for _ in range(repeat // 5):
                    step()
                best = min(best, (time.perf_counter() - t) / (repeat // 5))
    finally:
        for lib, n in zip(libs, saved):
            lib.set_num_threads(n)
    return best


def train(impl, est, data, epochs):
    """(steady-state examples/s after step SKIP, examples/s of the whole train call)."""
    x, y = data
    n, timer = epochs * len(y), step_timer(impl)
    t = time.perf_counter()
    est.train(lambda: impl.Dataset.from_tensor_slices((x, y)).shuffle(10000, seed=0)
              .repeat(epochs).batch(BATCH), hooks=[timer])
    total = n / (time.perf_counter() - t)
    skip = min(SKIP, len(timer.times) // 2)
    steady = (n - skip * BATCH) / (timer.times[-1] - timer.times[skip - 1])
    return {"train_steady_ex_s": steady, "train_total_ex_s": total}


def evaluate_predict(impl, est, data, repeat):
    x, y = data
    one = {k: v[:1] for k, v in x.items()}
    return {
        "evaluate_ex_s": per_second(len(y), lambda: est.evaluate(
            lambda: impl.Dataset.from_tensor_slices((x, y)).batch(BATCH))),
        "predict_ex_s": per_second(len(y), lambda: list(est.predict(
            lambda: impl.Dataset.from_tensor_slices(x).batch(BATCH)))),
        "estimator_predict_1_s": median_time(lambda: list(est.predict(
            lambda: impl.Dataset.from_tensor_slices(one).batch(1))), repeat),
    }


def exported(impl, est, data, repeat, work):
    """Latency (one example) and throughput (batches of 256) of loaded exports."""
    from widedeep.export.example_proto import encode_example
    x, _ = data
    n = len(x["age"])
    examples = [encode_example({k: [x[k][i]] for k in KEYS}) for i in range(n)]
    raw = {k: x[k] for k in KEYS}
    out = {}
    for receiver, fn in (("parsing", impl.parsing_fn), ("raw", impl.raw_fn)):
        t = time.perf_counter()
        path = est.export_saved_model(os.path.join(work, receiver), fn)
        out[f"export_{receiver}_s"] = time.perf_counter() - t
        t = time.perf_counter()
        sigs = impl.load(os.fsdecode(path)).signatures
        out[f"load_{receiver}_s"] = time.perf_counter() - t
        if receiver == "parsing":
            calls = {"predict": lambda i, j: impl.call(sigs["predict"], examples=examples[i:j]),
                     "serving_default": lambda i, j: impl.call(sigs["serving_default"],
                                                               inputs=examples[i:j])}
        else:
            calls = {"predict": lambda i, j: impl.call(
                sigs["predict"], **{k: v[i:j] for k, v in raw.items()})}
        for key, call in calls.items():
            name = f"export_{receiver}_{key}"
            out[name + "_1_ms"] = 1e3 * median_time(lambda: call(0, 1), repeat)
            out[name + "_ex_s"] = per_second(n, lambda: [call(i, i + BATCH)
                                                         for i in range(0, n, BATCH)])
    return out


# --- subprocesses: import, first step (Numba cache cold / warm), peak memory ------------
def run_child(*args, env=None):
    """Runs this script as `--child ...` and returns the dict it prints last."""
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                         capture_output=True, text=True, env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(kind, impl_name, launched, rows):
    """In the child: train to the end of step 1 ('first-step') or one epoch
    ('epoch'); print seconds since `launched` and the peak RSS."""
    impl = (TF if impl_name == "tf" else Ours)()
    x, y = load_adult("train")
    x, y = {k: v[:rows] for k, v in x.items()}, y[:rows]
    timer, work = step_timer(impl), tempfile.mkdtemp()
    try:
        impl.make(work).train(lambda: impl.Dataset.from_tensor_slices((x, y))
                              .shuffle(10000, seed=0).batch(BATCH), hooks=[timer],
                              steps=1 if kind == "first-step" else None)
    finally:
        shutil.rmtree(work)
    first = timer.times[0] - time.perf_counter() + time.time() - launched
    print(json.dumps({"first_step_s": first,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def import_time(statement, repeat):
    def once(code):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        return time.perf_counter() - t
    return statistics.median(once(statement) - once("pass") for _ in range(repeat))


def subprocess_figures(impl, repeat, rows):
    out = {"import_s": import_time(impl.imports[0], repeat),
           "import_all_s": import_time(impl.imports[1], repeat)}
    if impl.name == "tf":
        out["first_step_s"] = run_child("first-step", "tf", str(time.time()), str(rows))[
            "first_step_s"]
    else:
        cache = tempfile.mkdtemp()
        try:
            for temp in ("cold", "warm"):
                out[f"first_step_{temp}_s"] = run_child(
                    "first-step", "ours", str(time.time()), str(rows),
                    env={"NUMBA_CACHE_DIR": cache})["first_step_s"]
        finally:
            shutil.rmtree(cache)
    out["peak_rss_mb"] = run_child("epoch", impl.name, str(time.time()), str(rows))[
        "peak_rss_mb"]
    return out


# --- the run -----------------------------------------------------------------------------
ROWS = [  # (key, label, unit); for TF the first-step keys fall back to "first_step_s"
    ("train_steady_ex_s", "train, steady state (after step 50)", "ex/s"),
    ("train_total_ex_s", "train, whole call (start-up included)", "ex/s"),
    ("gemm_floor_ex_s", "bound: a step of GEMMs alone (no TF figure)", "ex/s"),
    ("evaluate_ex_s", "evaluate, test split", "ex/s"),
    ("predict_ex_s", "predict, test split", "ex/s"),
    ("estimator_predict_1_s", "Estimator.predict, one example", "s"),
    ("export_parsing_predict_1_ms", "export (parsing) predict, one example", "ms"),
    ("export_parsing_serving_default_1_ms", "export (parsing) serving_default, one", "ms"),
    ("export_raw_predict_1_ms", "export (raw) predict, one example", "ms"),
    ("export_parsing_predict_ex_s", "export (parsing) predict, batches of 256", "ex/s"),
    ("export_parsing_serving_default_ex_s", "export (parsing) serving_default, 256s", "ex/s"),
    ("export_raw_predict_ex_s", "export (raw) predict, batches of 256", "ex/s"),
    ("export_parsing_s", "export_saved_model (parsing)", "s"),
    ("load_parsing_s", "load the export (parsing)", "s"),
    ("import_s", "import widedeep | import tensorflow", "s"),
    ("import_all_s", "imports to train + export", "s"),
    ("first_step_cold_s", "launch -> first step done, Numba cache cold", "s"),
    ("first_step_warm_s", "launch -> first step done, Numba cache warm", "s"),
    ("peak_rss_mb", "peak RSS, a process training one epoch", "MB"),
]


def measure(impl, args):
    train_x, train_y = load_adult("train")
    test_x, test_y = load_adult("test")
    if args.quick:
        train_x, train_y = {k: v[:4096] for k, v in train_x.items()}, train_y[:4096]
        test_x, test_y = {k: v[:1024] for k, v in test_x.items()}, test_y[:1024]
    repeat = 3 if args.quick else 20
    work = tempfile.mkdtemp()
    try:
        est = impl.make(os.path.join(work, "model"))
        out = train(impl, est, (train_x, train_y), args.epochs)
        if impl.name == "widedeep":
            floor = gemm_floor(est)
            out["gemm_floor_ms"] = 1e3 * floor
            out["gemm_floor_ex_s"] = BATCH / floor
        out.update(evaluate_predict(impl, est, (test_x, test_y), 2 if args.quick else 5))
        out.update(exported(impl, est, (test_x, test_y), repeat, work))
    finally:
        shutil.rmtree(work)
    out.update(subprocess_figures(impl, 1 if args.quick else 3, len(train_y)))
    return out


def fmt(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3g}"


def table(results):
    ours, tf = results["widedeep"], results.get("tf")
    print(f"{'':<46} {'unit':>5} {'widedeep':>10}" + (f" {'TF 2.15':>10} {'ours/TF':>8}"
                                                     if tf else ""))
    for key, label, unit in ROWS:
        line = f"{label:<46} {unit:>5} {fmt(ours[key]):>10}"
        if tf:
            theirs = tf.get(key, tf.get("first_step_s") if key.startswith("first_step") else None)
            if key == "gemm_floor_ex_s":  # the bound against TF's training
                theirs = tf["train_steady_ex_s"]
                line += f" {'':>10} {ours[key] / theirs:>8.3g}"
            else:
                line += f" {fmt(theirs):>10} {ours[key] / theirs:>8.3g}"
        print(line)
    if tf:
        print("ours/TF: > 1 is ours faster for ex/s; < 1 is ours faster (smaller) for s, ms, MB")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="small counts (a check that it runs)")
    p.add_argument("--tf", action="store_true", help="also TF 2.15 (needs the reference venv)")
    p.add_argument("--json")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, impl, launched, rows = args.child
        return child(kind, impl, float(launched), int(rows))
    if args.quick:
        args.epochs = 1
    results = {"widedeep": measure(Ours(), args)}
    if args.tf:
        results["tf"] = measure(TF(), args)
    print(f"census wide & deep, batch {BATCH}, {args.epochs} epoch(s)"
          f"{' (quick: subsets)' if args.quick else ''}, python {sys.executable}")
    table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
