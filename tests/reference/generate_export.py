"""Writes tests/reference/fixtures/export_signatures.json (and export_values.npz)
with TensorFlow 2.15's `Estimator.export_saved_model`.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_export.py

For a small census DNNLinearCombinedClassifier and DNNLinearCombinedRegressor
(columns: `export_cases.columns`; hidden [8, 4]; trained 2 steps of 32 rows, seed 1),
each exported twice, with a parsing receiver (make_parse_example_spec of the
columns) and with a raw receiver (one placeholder per raw feature):

* export_signatures.json ``{"<model>_<receiver>": {"signatures": {key:
  {"method_name", "inputs": {name: {"dtype", "shape"}}, "outputs": {...}}},
  "predictions": {key: {output: nested list}}}}``, the predictions taken
  through ``tf.saved_model.load(dir).signatures[key]`` on ``"rows"``, the first
  5 census test rows (also given there as base64 serialized tf.train.Examples
  under ``"examples_b64"``); dtypes are TF's names (``"string"``, ``"float32"``),
  shapes lists with None for an unknown dimension; ``"vocabulary"`` the lines of
  the relationship column's vocabulary file;
* export_values.npz: every variable of the two trained models,
  ``"<model>/<variable name>"`` (so widedeep can load the same values).
"""

import base64
import json
import os
import shutil
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import export_cases  # noqa: E402  (beside this file; shared with tests/test_export.py)
from export_cases import RELATIONSHIP  # noqa: E402

from widedeep.datasets import load_adult  # noqa: E402

HERE = os.path.dirname(__file__)
OUT_JSON = os.path.join(HERE, "fixtures", "export_signatures.json")
OUT_NPZ = os.path.join(HERE, "fixtures", "export_values.npz")
fc = tf.feature_column
RAW = {"age": tf.float32, "hours_per_week": tf.float32, "education": tf.string,
       "occupation": tf.string, "relationship": tf.string}
N_ROWS = 5


def columns(vocab_file):
    return export_cases.columns(fc, vocab_file)


def train_input(regression):
    feats, labels = load_adult("train")
    feats = {k: feats[k][:64] for k in RAW}
    y = labels[:64].astype(np.float32) * 3.0 + 1.0 if regression else labels[:64]
    return lambda: tf.data.Dataset.from_tensor_slices((feats, y)).batch(32)


def rows():
    feats, _ = load_adult("test")
    return {k: feats[k][:N_ROWS] for k in RAW}


def serialized(r):
    out = []
    for i in range(N_ROWS):
        f = {}
        for k, dt in RAW.items():
            if dt == tf.string:
                f[k] = tf.train.Feature(bytes_list=tf.train.BytesList(
                    value=[str(r[k][i]).encode()]))
            else:
                f[k] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(r[k][i])]))
        out.append(tf.train.Example(features=tf.train.Features(feature=f))
                   .SerializeToString())
    return out


def raw_receiver_fn():
    ph = {k: tf.compat.v1.placeholder(dt, [None], name=k) for k, dt in RAW.items()}
    return tf.estimator.export.ServingInputReceiver(ph, ph)


def signature_defs(export_dir):
    from tensorflow.python.tools import saved_model_utils
    meta = saved_model_utils.get_meta_graph_def(export_dir, "serve")

    def info(t):
        shape = None if t.tensor_shape.unknown_rank else [
            None if d.size < 0 else d.size for d in t.tensor_shape.dim]
        return {"dtype": tf.dtypes.as_dtype(t.dtype).name, "shape": shape}
    return {key: {"method_name": s.method_name,
                  "inputs": {n: info(t) for n, t in sorted(s.inputs.items())},
                  "outputs": {n: info(t) for n, t in sorted(s.outputs.items())}}
            for key, s in sorted(meta.signature_def.items())}


def tolist(v):
    v = v.numpy()
    if v.dtype.kind in "OS":
        return np.vectorize(lambda b: b.decode())(v).tolist() if v.size else v.tolist()
    return v.astype(np.float64).tolist() if v.dtype.kind == "f" else v.tolist()


def predictions(export_dir, sigs, r, examples):
    loaded = tf.saved_model.load(export_dir)
    out = {}
    for key, sig in sigs.items():
        fn = loaded.signatures[key]
        kwargs = {}
        for name in sig["inputs"]:
            if name in RAW:
                kwargs[name] = tf.constant(r[name], dtype=RAW[name])
            else:  # 'inputs' / 'examples': serialized tf.Examples
                kwargs[name] = tf.constant(examples)
        out[key] = {k: tolist(v) for k, v in fn(**kwargs).items()}
    return out


def main():
    tmp = tempfile.mkdtemp()
    try:
        vocab_file = os.path.join(tmp, "relationship.txt")
        with open(vocab_file, "w") as f:
            f.write("\n".join(RELATIONSHIP) + "\n")
        wide, deep = columns(vocab_file)
        config = tf.estimator.RunConfig(tf_random_seed=1)
        r, result, values = rows(), {}, {}
        examples = serialized(r)
        result["rows"] = {k: v.tolist() for k, v in r.items()}
        result["examples_b64"] = [base64.b64encode(e).decode() for e in examples]
        result["vocabulary"] = RELATIONSHIP
        for model in ("classifier", "regressor"):
            cls = (tf.estimator.DNNLinearCombinedClassifier if model == "classifier"
                   else tf.estimator.DNNLinearCombinedRegressor)
            model_dir = os.path.join(tmp, model)
            est = cls(model_dir=model_dir, linear_feature_columns=wide,
                      dnn_feature_columns=deep, dnn_hidden_units=[8, 4], config=config)
            est.train(train_input(model == "regressor"), steps=2)
            reader = tf.train.load_checkpoint(model_dir)
            for name in reader.get_variable_to_shape_map():
                values[f"{model}/{name}"] = reader.get_tensor(name)
            spec = fc.make_parse_example_spec(wide + deep)
            receivers = {
                "parsing": tf.estimator.export.build_parsing_serving_input_receiver_fn(spec),
                "raw": raw_receiver_fn}
            for rname, fn in receivers.items():
                d = est.export_saved_model(os.path.join(tmp, f"export_{model}_{rname}"), fn)
                d = d.decode() if isinstance(d, bytes) else d
                sigs = signature_defs(d)
                assets = sorted(os.listdir(os.path.join(d, "assets"))) if os.path.isdir(
                    os.path.join(d, "assets")) else []
                result[f"{model}_{rname}"] = {
                    "signatures": sigs, "assets": assets,
                    "predictions": predictions(d, sigs, r, examples)}
        os.makedirs(os.path.dirname(OUT_JSON), exist_ok=True)
        with open(OUT_JSON, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
            f.write("\n")
        np.savez_compressed(OUT_NPZ, **values)
        print(f"wrote {OUT_JSON} and {len(values)} arrays to {OUT_NPZ}")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
