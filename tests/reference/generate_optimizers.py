"""Writes tests/reference/fixtures/optimizers.npz with TensorFlow 2.15.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_optimizers.py

For every case of `opt_cases.py`, twice (dense gradients, and IndexedSlices
gradients with duplicate indices): the initial variable, the 20 gradients and
the variable after each of the 20 steps. Also the v2 schedules' values over
steps 0-10,000: keys "schedule/<name>".
"""

import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from opt_cases import CASES, SHAPE, STEPS  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "optimizers.npz")
SCHEDULE_STEPS = np.array(sorted({*range(0, 50), *range(0, 10001, 97), 10000}))


def tf_class(path):
    kind, name = path.split(".")
    return getattr(tf.keras.optimizers.legacy if kind == "legacy" else tf.compat.v1.train, name)


def run(case, sparse, rng, out):
    name, path, kwargs = case
    init = rng.normal(size=SHAPE).astype(np.float32)
    var = tf.Variable(init)
    opt = tf_class(path)(**kwargs)
    traj, grads_v, grads_i = [], [], []
    for _ in range(STEPS):
        if sparse:
            idx = rng.integers(0, SHAPE[0], 5).astype(np.int64)  # duplicates likely
            vals = rng.normal(size=(5, SHAPE[1])).astype(np.float32)
            grad = tf.IndexedSlices(tf.constant(vals), tf.constant(idx), tf.constant(SHAPE))
            grads_i.append(idx)
        else:
            vals = rng.normal(size=SHAPE).astype(np.float32)
            grad = tf.constant(vals)
        grads_v.append(vals)
        if path.startswith("v1."):
            opt.apply_gradients([(grad, var)])
        else:
            opt.apply_gradients([(grad, var)])
        traj.append(var.numpy())
    key = f"{name}/{'sparse' if sparse else 'dense'}"
    out[key + "/init"] = init
    out[key + "/grad_values"] = np.stack(grads_v)
    if sparse:
        out[key + "/grad_indices"] = np.stack(grads_i)
    out[key + "/trajectory"] = np.stack(traj)


def schedules(out):
    s = tf.keras.optimizers.schedules
    cases = {
        "exp": s.ExponentialDecay(0.1, 1000, 0.96),
        "exp_stair": s.ExponentialDecay(0.5, 333, 0.5, staircase=True),
        "inv": s.InverseTimeDecay(0.1, 100, 0.5),
        "inv_stair": s.InverseTimeDecay(1.0, 250, 2.0, staircase=True),
        "piecewise": s.PiecewiseConstantDecay([10, 2000, 5000], [1.0, 0.5, 0.1, 0.01]),
        "poly": s.PolynomialDecay(0.1, 5000, 0.001, power=2.0),
        "poly_cycle": s.PolynomialDecay(0.1, 700, 0.01, power=0.5, cycle=True),
        "cosine": s.CosineDecay(0.2, 8000, alpha=0.1),
        "cosine_warm": s.CosineDecay(0.0, 5000, warmup_target=0.3, warmup_steps=500),
    }
    out["schedule/steps"] = SCHEDULE_STEPS
    for k, sch in cases.items():
        out[f"schedule/{k}"] = np.array([float(sch(int(t))) for t in SCHEDULE_STEPS],
                                        np.float32)


def main():
    rng = np.random.default_rng(2024)
    out = {"names": np.array([c[0] for c in CASES])}
    for case in CASES:
        for sparse in (False, True):
            run(case, sparse, rng, out)
    schedules(out)
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
