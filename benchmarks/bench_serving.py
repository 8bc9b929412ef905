"""Serving speed of an exported census wide & deep classifier.

Trains `DNNLinearCombinedClassifier` on the census columns (hidden [100, 75, 50, 25],
50 steps of 256), exports it twice (a parsing receiver: serialized tf.Examples; a
raw receiver: the features themselves), loads both with `widedeep.saved_model.load`
and measures, in one run:

* single-example latency (median, p99 over 2000 calls) of `serving_default` on one
  serialized tf.Example and of `predict` on raw inputs;
* throughput (examples/s) of both at batch 1, 32, 256, 4096;
* `Estimator.predict` latency for one example (what serving replaces);
* the HTTP server (`make_server`, keep-alive `http.client`): one example through
  :classify, and batches of 256 through :classify.

With --tf (run in the reference venv) the same for TF 2.15: an estimator with the
same columns trained the same way, exported with TF's receivers and loaded with
`tf.saved_model.load(...).signatures[...]`; the table then shows TF / widedeep.

    .venv/bin/python benchmarks/bench_serving.py [--tf] [--json out.json]
"""

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from widedeep import saved_model  # noqa: E402
from widedeep.canned import DNNLinearCombinedClassifier  # noqa: E402
from widedeep.datasets import census_columns, load_adult  # noqa: E402
from widedeep.export import (  # noqa: E402
    TensorSpec,
    build_parsing_serving_input_receiver_fn,
    build_raw_serving_input_receiver_fn,
    export_saved_model,
)
from widedeep.export.example_proto import encode_example  # noqa: E402
from widedeep.export.server import make_server  # noqa: E402
from widedeep.feature_column import make_parse_example_spec  # noqa: E402

HIDDEN, STEPS, TRAIN_BATCH = [100, 75, 50, 25], 50, 256
BATCHES = (1, 32, 256, 4096)
LATENCY_CALLS = 2000


# --- measuring -------------------------------------------------------------------------------
def latency(fn, calls=LATENCY_CALLS):
    """(median, p99) seconds of fn() over `calls` calls, after a warm-up."""
    for _ in range(min(50, calls // 10)):
        fn()
    times = np.empty(calls)
    clock = time.perf_counter
    for i in range(calls):
        t = clock()
        fn()
        times[i] = clock() - t
    return float(np.median(times)), float(np.percentile(times, 99))


def throughput(fn, batch, min_time=0.5):
    """examples/s of fn() on batches of `batch`, repeated until min_time has passed."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += batch
        took = time.perf_counter() - start
        if took >= min_time and n >= 3 * batch:
            return n / took


# --- data ------------------------------------------------------------------------------------
def census_data(keys):
    train, labels = load_adult("train")
    test, _ = load_adult("test")
    return ({k: train[k] for k in keys}, labels, {k: test[k][:4096] for k in keys})


def examples(rows, keys, n):
    return [encode_example({k: [rows[k][i]] for k in keys}) for i in range(n)]


def raw_slice(rows, n):
    return {k: (v[:n] if v.dtype.kind == "f" else v[:n].astype(object)) for k, v in rows.items()}


# --- widedeep --------------------------------------------------------------------------------
def train_ours(workdir, train, labels):
    wide, deep = census_columns()
    est = DNNLinearCombinedClassifier(model_dir=os.path.join(workdir, "model"),
                                      linear_feature_columns=wide, dnn_feature_columns=deep,
                                      dnn_hidden_units=HIDDEN)
    from minitf.data import Dataset
    est.train(lambda: Dataset.from_tensor_slices((train, labels)).shuffle(
        10000, seed=1).batch(TRAIN_BATCH).repeat(), steps=STEPS)
    spec = make_parse_example_spec(wide + deep)
    parsing = export_saved_model(est, os.path.join(workdir, "export_parsing"),
                                 build_parsing_serving_input_receiver_fn(spec))
    raw = export_saved_model(est, os.path.join(workdir, "export_raw"),
                             build_raw_serving_input_receiver_fn(
                                 {k: TensorSpec([None], "float32" if s.dtype == "float32"
                                                else "string") for k, s in spec.items()}))
    return est, sorted(spec), parsing, raw


def bench_ours(workdir, data):
    train, labels, test = data
    est, keys, parsing_dir, raw_dir = train_ours(workdir, train, labels)
    test = {k: test[k] for k in keys}
    parsing, raw = saved_model.load(parsing_dir), saved_model.load(raw_dir)
    serialized = examples(test, keys, 4096)
    cls, pred = parsing.signatures["serving_default"], raw.signatures["predict"]
    one_raw = raw_slice(test, 1)
    r = {"single: serving_default (tf.Example)": latency(lambda: cls(inputs=serialized[:1])),
         "single: predict (raw)": latency(lambda: pred(**one_raw))}
    for b in BATCHES:
        ex, rb = serialized[:b], raw_slice(test, b)
        r[f"batch {b}: serving_default (tf.Example)"] = throughput(lambda: cls(inputs=ex), b)
        r[f"batch {b}: predict (raw)"] = throughput(lambda: pred(**rb), b)
    one = {k: v[:1] for k, v in test.items()}
    r["single: Estimator.predict"] = latency(lambda: next(est.predict(lambda: one)), 50)
    r.update(bench_http(parsing_dir, test, keys))
    return r


def bench_http(export_dir, test, keys):
    server = make_server(export_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)

    def rows(n):
        return [{k: (float(test[k][i]) if test[k].dtype.kind == "f" else str(test[k][i]))
                 for k in keys} for i in range(n)]

    def post(body):
        conn.request("POST", "/v1/models/census:classify", body,
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(data)
    # bytes, so that http.client sends headers and body in one write (no Nagle stall)
    one = json.dumps({"examples": rows(1)}).encode()
    many = json.dumps({"examples": rows(256)}).encode()
    try:
        return {"http: single :classify": latency(lambda: post(one), 1000),
                "http: batch 256 :classify": throughput(lambda: post(many), 256)}
    finally:
        conn.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- TensorFlow ------------------------------------------------------------------------------
def tf_columns(tf):
    fc = tf.feature_column
    vocab = fc.categorical_column_with_vocabulary_list
    wide, deep = census_columns()  # the same vocabularies, read from widedeep's columns
    lists = {c.key: list(c.vocabulary_list) for c in wide if hasattr(c, "vocabulary_list")}
    cols = {k: vocab(k, v) for k, v in lists.items()}
    occupation = fc.categorical_column_with_hash_bucket("occupation", hash_bucket_size=1000)
    age = fc.numeric_column("age")
    age_buckets = fc.bucketized_column(age, [18, 25, 30, 35, 40, 45, 50, 55, 60, 65])
    tf_wide = [cols["education"], cols["marital_status"], cols["relationship"],
               cols["workclass"], occupation, age_buckets,
               fc.crossed_column(["education", "occupation"], hash_bucket_size=1000),
               fc.crossed_column([age_buckets, "education", "occupation"],
                                 hash_bucket_size=1000)]
    tf_deep = [age] + [fc.numeric_column(k) for k in ("education_num", "capital_gain",
                                                      "capital_loss", "hours_per_week")] + [
        fc.indicator_column(cols[k]) for k in ("workclass", "education", "marital_status",
                                               "relationship")] + [
        fc.embedding_column(occupation, dimension=8)]
    return tf_wide, tf_deep


def bench_tf(workdir, data):
    import tensorflow as tf
    train, labels, test = data
    wide, deep = tf_columns(tf)
    est = tf.estimator.DNNLinearCombinedClassifier(
        model_dir=os.path.join(workdir, "tf_model"), linear_feature_columns=wide,
        dnn_feature_columns=deep, dnn_hidden_units=HIDDEN)
    est.train(lambda: tf.data.Dataset.from_tensor_slices((train, labels)).shuffle(
        10000, seed=1).batch(TRAIN_BATCH).repeat(), steps=STEPS)
    spec = tf.feature_column.make_parse_example_spec(wide + deep)
    keys = sorted(spec)
    test = {k: test[k] for k in keys}
    parsing_dir = est.export_saved_model(
        os.path.join(workdir, "tf_parsing"),
        tf.estimator.export.build_parsing_serving_input_receiver_fn(spec))
    raw_dir = est.export_saved_model(
        os.path.join(workdir, "tf_raw"), tf.estimator.export.build_raw_serving_input_receiver_fn(
            {k: tf.constant(test[k][:1]) for k in keys}))
    cls = tf.saved_model.load(parsing_dir).signatures["serving_default"]
    pred = tf.saved_model.load(raw_dir).signatures["predict"]
    serialized = examples(test, keys, 4096)

    def tensors(b):
        return {k: tf.constant(v[:b]) for k, v in test.items()}
    one_ex, one_raw = tf.constant(serialized[:1]), tensors(1)
    r = {"single: serving_default (tf.Example)": latency(lambda: cls(inputs=one_ex)),
         "single: predict (raw)": latency(lambda: pred(**one_raw))}
    for b in BATCHES:
        ex, rb = tf.constant(serialized[:b]), tensors(b)
        r[f"batch {b}: serving_default (tf.Example)"] = throughput(lambda: cls(inputs=ex), b)
        r[f"batch {b}: predict (raw)"] = throughput(lambda: pred(**rb), b)
    one = {k: v[:1] for k, v in test.items()}
    r["single: Estimator.predict"] = latency(
        lambda: next(est.predict(lambda: tf.data.Dataset.from_tensors(one))), 20)
    return r


# --- report ----------------------------------------------------------------------------------
def fmt(v):
    if isinstance(v, (tuple, list)):
        return f"{v[0] * 1e6:9.1f} / {v[1] * 1e6:9.1f} us"
    return f"{v:14,.0f} ex/s"


def report(ours, theirs):
    head = f"{'measure':<42} {'widedeep':>24}"
    if theirs:
        head += f" {'TF 2.15':>24} {'TF / widedeep':>14}"
    print(head)
    print("-" * len(head))
    ratios = {}
    for k, v in ours.items():
        line = f"{k:<42} {fmt(v):>24}"
        t = theirs.get(k) if theirs else None
        if theirs:
            if t is None:
                line += f" {'n/a':>24}"
            else:
                # a latency ratio > 1 means TF is slower; a throughput ratio < 1 too
                ratio = t[0] / v[0] if isinstance(v, tuple) else t / v
                ratios[k] = ratio
                line += f" {fmt(t):>24} {ratio:13.2f}x"
        print(line)
    print("(latency: median / p99; ratios TF / widedeep: > 1 for a latency means TF is "
          "slower, < 1 for a throughput means TF is slower)" if theirs else
          "(latency: median / p99)")
    return ratios


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tf", action="store_true", help="also measure TF 2.15 (reference venv)")
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        wide, deep = census_columns()
        data = census_data(sorted(make_parse_example_spec(wide + deep)))
        ours = bench_ours(workdir, data)
        theirs = bench_tf(workdir, data) if args.tf else None
    ratios = report(ours, theirs)
    if args.json:
        def js(d):
            return {k: ({"median_s": v[0], "p99_s": v[1]} if isinstance(v, tuple)
                        else {"examples_per_s": v}) for k, v in d.items()}
        out = {"widedeep": js(ours), "numpy": np.__version__}
        if theirs:
            out["tensorflow"], out["tf_over_widedeep"] = js(theirs), ratios
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
