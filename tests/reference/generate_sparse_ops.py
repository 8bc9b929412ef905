"""Writes tests/reference/fixtures/sparse_ops.npz with TensorFlow 2.15.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_sparse_ops.py

For each case: the inputs (a sparse batch of ids, optional weights, a table),
TF's output, and TF's gradient of sum(output * upstream) w.r.t. the table
(as TF's IndexedSlices: values and indices, in TF's order) and, where TF gives
one, w.r.t. the weights. Cases are listed in `cases()`; tests/test_sparse_ops.py
replays them through minitf.
"""

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "sparse_ops.npz")


def sparse_batch(rng, batch, max_ids, vocab, empty_rows=(), negative=False):
    """A canonical-order SparseTensor's parts: indices [N, 2], int64 ids."""
    indices, ids = [], []
    for r in range(batch):
        if r in empty_rows:
            continue
        n = rng.integers(1, max_ids + 1)
        for j in range(n):
            indices.append((r, j))
            lo = -1 if negative else 0
            ids.append(rng.integers(lo, vocab))
    return (np.array(indices, np.int64).reshape(-1, 2), np.array(ids, np.int64),
            np.array([batch, max_ids], np.int64))


def cases():
    rng = np.random.default_rng(1234)
    out = []
    for combiner in ("sum", "mean", "sqrtn"):
        for weighted in (False, True):
            for k, (batch, empty) in enumerate([(5, ()), (6, (0, 3)), (4, (3,))]):
                ind, ids, shape = sparse_batch(rng, batch, 4, 7, empty)
                w = rng.uniform(0.1, 2.0, len(ids)).astype(np.float32) if weighted else None
                name = f"els_{combiner}_{'w' if weighted else 'nw'}_{k}"
                out.append(("embedding_lookup_sparse", name, ind, ids, shape, w,
                            dict(combiner=combiner)))
            ind, ids, shape = sparse_batch(rng, 6, 4, 7, (1, 5), negative=True)
            w = (rng.uniform(-0.5, 2.0, len(ids)).astype(np.float32) if weighted else None)
            for default_id in (None, 2):
                name = f"safe_{combiner}_{'w' if weighted else 'nw'}_{default_id}"
                out.append(("safe_embedding_lookup_sparse", name, ind, ids, shape, w,
                            dict(combiner=combiner, default_id=default_id)))
    ind, ids, shape = sparse_batch(rng, 5, 3, 6, (2,))
    out.append(("embedding_lookup_sparse", "els_maxnorm", ind, ids, shape,
                rng.uniform(0.5, 1.5, len(ids)).astype(np.float32),
                dict(combiner="mean", max_norm=0.8)))
    return out


def run(kind, ind, ids, shape, w, attrs, table, upstream_seed):
    params = tf.Variable(table)
    sp_ids = tf.SparseTensor(ind, ids, shape)
    wv = None if w is None else tf.Variable(w)
    with tf.GradientTape() as tape:
        sp_w = None if w is None else tf.SparseTensor(ind, wv, shape)
        fn = getattr(tf.nn, kind)
        out = fn(params, sp_ids, sp_w, **attrs)
        up = np.random.default_rng(upstream_seed).uniform(0.5, 1.5, out.shape).astype(np.float32)
        loss = tf.reduce_sum(out * up)
    grads = tape.gradient(loss, [params] + ([] if wv is None else [wv]))
    gp, gw = grads[0], (grads[1] if wv is not None else None)
    return out.numpy(), up, gp, gw


def main():
    rng = np.random.default_rng(99)
    arrays = {}
    names = []
    for i, (kind, name, ind, ids, shape, w, attrs) in enumerate(cases()):
        table = rng.normal(size=(7, 3)).astype(np.float32)
        out, up, gp, gw = run(kind, ind, ids, shape, w, attrs, table, i)
        names.append(name)
        arrays[f"{name}/indices"] = ind
        arrays[f"{name}/ids"] = ids
        arrays[f"{name}/dense_shape"] = shape
        arrays[f"{name}/table"] = table
        arrays[f"{name}/upstream"] = up
        arrays[f"{name}/out"] = out
        if w is not None:
            arrays[f"{name}/weights"] = w
        arrays[f"{name}/grad_table_values"] = gp.values.numpy()
        arrays[f"{name}/grad_table_indices"] = gp.indices.numpy().astype(np.int64)
        if gw is not None:
            arrays[f"{name}/grad_weights"] = tf.convert_to_tensor(gw).numpy()
    # sparse_tensor_dense_matmul with every adjoint combination.
    for adj_a in (False, True):
        for adj_b in (False, True):
            name = f"spmm_{int(adj_a)}{int(adj_b)}"
            ind, _, _ = sparse_batch(rng, 4, 3, 5, (1,))
            ind[:, 1] = rng.integers(0, 5, len(ind))
            ind = np.unique(ind, axis=0)
            vals = rng.normal(size=len(ind)).astype(np.float32)
            a_shape = np.array([4, 5], np.int64)
            b = rng.normal(size=(3, 4 if adj_a else 5) if adj_b else (4 if adj_a else 5, 3))
            b = b.astype(np.float32)
            bv, vv = tf.Variable(b), tf.Variable(vals)
            with tf.GradientTape() as tape:
                sp = tf.SparseTensor(ind, vv, a_shape)
                out = tf.sparse.sparse_dense_matmul(sp, bv, adjoint_a=adj_a, adjoint_b=adj_b)
                loss = tf.reduce_sum(out * out)
            gb, gv = tape.gradient(loss, [bv, vv])
            arrays.update({f"{name}/indices": ind, f"{name}/values": vals, f"{name}/b": b,
                           f"{name}/out": out.numpy(), f"{name}/grad_b": gb.numpy(),
                           f"{name}/grad_values": tf.convert_to_tensor(gv).numpy()})
            names.append(name)
    # segment ops (sorted ids; trailing rows come from the last id).
    data = rng.normal(size=(6, 2)).astype(np.float32)
    seg = np.array([0, 0, 2, 2, 2, 4], np.int64)
    for op in ("segment_sum", "segment_mean"):
        dv = tf.Variable(data)
        with tf.GradientTape() as tape:
            out = getattr(tf.math, op)(dv, seg)
            loss = tf.reduce_sum(out * out)
        arrays.update({f"{op}/data": data, f"{op}/ids": seg, f"{op}/out": out.numpy(),
                       f"{op}/grad": tape.gradient(loss, dv).numpy()})
        names.append(op)
    arrays["names"] = np.array(names)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT}: {len(names)} cases")


if __name__ == "__main__":
    main()
