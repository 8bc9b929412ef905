"""Writes TensorFlow 2.15 checkpoints to tests/reference/fixtures/tf_ckpt/ and what
TF reads back from them to tests/reference/fixtures/tf_ckpt_values.npz.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_tf_checkpoint.py

Three checkpoints:

* ``tf_ckpt/model.ckpt-{10,30}``: written as tf.estimator does, by a sharded
  tf.compat.v1.train.Saver with relative paths in graph mode: estimator-like
  names (``dnn/hiddenlayer_0/kernel``, ``global_step``) and variables of dtype
  float16/32/64, int32/64, bool and string (scalars, arrays, a 0-size array,
  empty and non-UTF-8 strings, one longer than 127 bytes).
* ``tf_ckpt/dtypes/all``: every other dtype the reader maps (int8, uint8,
  int16, uint16, uint32, uint64, complex64/128, bfloat16) and 100 scalars (so
  the table's data block has many restart points), by tf.raw_ops.SaveV2.
* ``tf_ckpt/object/ckpt-1``: an object-based tf.train.Checkpoint, which adds the
  ``_CHECKPOINTABLE_OBJECT_GRAPH`` entry.

For each checkpoint (tags ``v1``, ``dtypes``, ``object``) the npz holds
``<tag>_names`` and ``<tag>_dtypes`` (TF's dtype names) in TF's order, and per
tensor i either ``<tag>_<i>`` (bfloat16 as float32) or, for strings,
``<tag>_<i>_buf`` (the bytes, concatenated, uint8), ``<tag>_<i>_len`` and
``<tag>_<i>_shape``: no pickle needed.
"""

import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(__file__)
OUT_DIR = os.path.join(HERE, "fixtures", "tf_ckpt")
OUT_NPZ = os.path.join(HERE, "fixtures", "tf_ckpt_values.npz")


def v1_variables(rng):
    return {
        "global_step": np.int64(30),
        "dnn/hiddenlayer_0/kernel": rng.normal(size=(4, 3)).astype(np.float32),
        "dnn/hiddenlayer_0/bias": rng.normal(size=3).astype(np.float32),
        "dnn/logits/kernel": rng.normal(size=(3, 1)),
        "dnn/logits/bias": np.float64(-0.25),
        "linear/linear_model/age/weights": rng.normal(size=(2, 1)).astype(np.float16),
        "counts": np.array([0, -1, 2**31 - 1, -2**31], np.int32),
        "ids": np.array([[0, -2**63], [2**63 - 1, 12345678901]], np.int64),
        "mask": np.array([[True, False, True], [False, False, True]]),
        "scalar": np.float32(3.5),
        "empty": np.zeros((0, 3), np.float32),
        "vocab": np.array([b"", b"a", b"caf\xc3\xa9", b"\x00\xff\xfe", b"x" * 300], object),
        "name": np.array(b"census", object),
        "no_strings": np.zeros((0,), object),
    }


def write_v1(rng):
    values = v1_variables(rng)
    with tf.Graph().as_default():
        variables = [tf.compat.v1.Variable(v, name=n, dtype=tf.string if
                                           np.asarray(v).dtype == object else None)
                     for n, v in values.items()]
        saver = tf.compat.v1.train.Saver(variables, sharded=True, save_relative_paths=True)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for step in (10, 30):
                saver.save(sess, os.path.join(OUT_DIR, "model.ckpt"), global_step=step,
                           write_meta_graph=False)
    return os.path.join(OUT_DIR, "model.ckpt-30")


def write_dtypes(rng):
    tensors = {
        "int8": tf.constant(rng.integers(-128, 128, (2, 2)), tf.int8),
        "uint8": tf.constant(rng.integers(0, 256, (3,)), tf.uint8),
        "int16": tf.constant([-32768, 32767, 5], tf.int16),
        "uint16": tf.constant([0, 65535], tf.uint16),
        "uint32": tf.constant([0, 2**32 - 1], tf.uint32),
        "uint64": tf.constant([0, 2**64 - 1], tf.uint64),
        "complex64": tf.constant([1 + 2j, -3.5j], tf.complex64),
        "complex128": tf.constant([[1 - 1j]], tf.complex128),
        "bfloat16": tf.constant([1.5, -0.0078125, 3e38, 0.0], tf.bfloat16),
        "half_scalar": tf.constant(0.5, tf.float16),
    }
    # Enough entries for many restart points in the table's data block.
    tensors.update({f"many/v{i:03d}": tf.constant(i, tf.int32) for i in range(100)})
    prefix = os.path.join(OUT_DIR, "dtypes", "all")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=list(tensors),
                      shape_and_slices=[""] * len(tensors), tensors=list(tensors.values()))
    return prefix


def write_object(rng):
    module = tf.Module()
    module.w = tf.Variable(rng.normal(size=(2, 2)).astype(np.float32))
    module.step = tf.Variable(7, dtype=tf.int64)
    return tf.train.Checkpoint(model=module).write(os.path.join(OUT_DIR, "object", "ckpt-1"))


def record(out, tag, prefix):
    reader = tf.train.load_checkpoint(prefix)
    names = sorted(reader.get_variable_to_shape_map())
    dtypes = reader.get_variable_to_dtype_map()
    out[f"{tag}_names"] = np.array(names)
    out[f"{tag}_dtypes"] = np.array([dtypes[n].name for n in names])
    for i, name in enumerate(names):
        value = np.asarray(reader.get_tensor(name))
        if dtypes[name] == tf.string:
            flat = value.reshape(-1)
            out[f"{tag}_{i}_buf"] = np.frombuffer(b"".join(flat), np.uint8)
            out[f"{tag}_{i}_len"] = np.array([len(s) for s in flat], np.int64)
            out[f"{tag}_{i}_shape"] = np.array(value.shape, np.int64)
        elif dtypes[name] == tf.bfloat16:
            out[f"{tag}_{i}"] = value.astype(np.float32)
        else:
            out[f"{tag}_{i}"] = value


def main():
    shutil.rmtree(OUT_DIR, ignore_errors=True)
    os.makedirs(OUT_DIR)
    rng = np.random.default_rng(2015)
    out = {}
    record(out, "v1", write_v1(rng))
    record(out, "dtypes", write_dtypes(rng))
    record(out, "object", write_object(rng))
    np.savez_compressed(OUT_NPZ, **out)
    print(f"wrote {OUT_DIR} and {OUT_NPZ}")


if __name__ == "__main__":
    main()
