"""Writes tests/reference/fixtures/ops.npz with TensorFlow 2.15.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_ops.py

For each case in ops_cases.CASES, each dtype (float32, float64) and each of
`VARIANTS` seeded draws: the inputs, TF's output, a fixed random upstream, and
TF's gradient of ``reduce_sum(output * upstream)`` w.r.t. every float input
(IndexedSlices densified; a None gradient is stored as no key), packed by
ops_cases.pack into one buffer per dtype.
tests/test_ops_tf.py replays them through minitf.
"""

import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from ops_cases import CASES, DTYPES, VARIANTS, is_float, make_inputs, pack  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "ops.npz")


def run_tf(case, arrays, upstream_seed):
    """TF's output, the upstream used, and the gradients (None where TF gives none)."""
    tensors = [tf.constant(a) for a in arrays]
    watched = [t for t, (_, kind) in zip(tensors, case.inputs) if is_float(kind)]
    with tf.GradientTape() as tape:
        tape.watch(watched)
        out = case.fn(tf, *tensors)
        up = np.random.default_rng(upstream_seed).uniform(0.5, 1.5, out.shape)
        up = up.astype(out.dtype.as_numpy_dtype)
        loss = tf.reduce_sum(out * up)
    grads = tape.gradient(loss, watched)
    dense = [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]
    return out.numpy(), up, dense


def main():
    arrays = {}
    names = []
    for ci, case in enumerate(CASES):
        for dtype in DTYPES:
            for v in range(VARIANTS):
                key = f"{case.name}/{dtype}/{v}"
                inputs = make_inputs(case, dtype, v)
                out, up, grads = run_tf(case, inputs, [ci, DTYPES.index(dtype), v])
                for i, a in enumerate(inputs):
                    arrays[f"{key}/in{i}"] = a
                arrays[f"{key}/out"] = out
                arrays[f"{key}/up"] = up
                fi = [i for i, (_, kind) in enumerate(case.inputs) if is_float(kind)]
                for i, g in zip(fi, grads):
                    if g is not None:
                        arrays[f"{key}/grad{i}"] = g
                names.append(key)
    arrays["names"] = np.array(names)
    arrays["tf_version"] = np.array(tf.__version__)
    np.savez_compressed(OUT, **pack(arrays))
    print(f"wrote {OUT}: {len(CASES)} cases, {len(names)} records, "
          f"{os.path.getsize(OUT) // 1024} KB")


if __name__ == "__main__":
    main()
