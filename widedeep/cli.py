"""The command line: ``python -m widedeep [train|evaluate|predict|export|serve|
convert-tf-checkpoint] ...``.

With no arguments it trains TF's wide & deep census classifier on the packaged
UCI Adult data, shows progress, evaluates on the test split, exports the model
and prints where everything went. ``--data CSV --label COLUMN`` trains on your
own table instead, with feature columns inferred from it (printed). The model
directory keeps ``widedeep_cli.json`` (columns, head, hidden units) so that
``evaluate``, ``predict`` and ``export`` rebuild the same estimator.

User mistakes (a missing file, an unknown column, a bad option) end with one
line on stderr and exit status 2, not a traceback.
"""

import argparse
import csv
import json
import logging
import os
import sys
import tempfile
import time

import numpy as np

CONFIG = "widedeep_cli.json"


class UserError(Exception):
    """A mistake in the command line or its files: printed as one line."""


# --- data and columns -------------------------------------------------------------------
def read_table(path, label=None):
    """({column: array}, labels or None) from a CSV with a header: columns whose
    every value parses as a number become float32, the rest strings."""
    import gzip
    if not os.path.exists(path):
        raise UserError(f"--data: no such file: {path}")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader)]
            rows = [r for r in reader if r]
    except (OSError, UnicodeDecodeError, StopIteration) as e:
        raise UserError(f"--data: cannot read {path} as CSV with a header row: {e}") from None
    bad = [i + 2 for i, r in enumerate(rows) if len(r) != len(header)]
    if bad:
        raise UserError(f"--data: {path} line {bad[0]} has a different number of fields than "
                        f"the header ({len(header)})")
    data = {}
    for name, values in zip(header, zip(*rows) if rows else [()] * len(header)):
        values = np.array([v.strip() for v in values], dtype=str)
        try:
            data[name] = values.astype(np.float32)
        except ValueError:
            data[name] = values
    if label is None:
        return data, None
    if label not in data:
        raise UserError(f"--label: column {label!r} is not in {path}; columns: "
                        f"{', '.join(header)}")
    return data, data.pop(label)


def infer_columns(features, max_vocabulary=100):
    """A column spec per feature: numbers -> numeric (deep); strings with at most
    `max_vocabulary` distinct values -> vocabulary list (wide) + indicator (deep);
    more -> hash buckets (wide) + an 8-d embedding (deep)."""
    spec = []
    for name in sorted(features):
        v = features[name]
        if v.dtype.kind == "f":
            spec.append({"name": name, "kind": "numeric"})
            continue
        values = sorted(set(v.tolist()))
        if len(values) <= max_vocabulary:
            spec.append({"name": name, "kind": "vocabulary", "vocabulary": values})
        else:
            buckets = int(min(10000, 2 ** int(np.ceil(np.log2(2 * len(values))))))
            spec.append({"name": name, "kind": "hash", "buckets": buckets})
    return spec


def build_columns(spec):
    """(wide, deep) feature columns from `infer_columns`' spec."""
    import widedeep.feature_column as fc
    wide, deep = [], []
    for s in spec:
        if s["kind"] == "numeric":
            deep.append(fc.numeric_column(s["name"]))
        elif s["kind"] == "vocabulary":
            c = fc.categorical_column_with_vocabulary_list(s["name"], s["vocabulary"])
            wide.append(c)
            deep.append(fc.indicator_column(c))
        else:
            c = fc.categorical_column_with_hash_bucket(s["name"], s["buckets"])
            wide.append(c)
            deep.append(fc.embedding_column(c, 8))
    return wide, deep


def describe(spec):
    lines = []
    for s in spec:
        if s["kind"] == "numeric":
            lines.append(f"  {s['name']:<24} numbers  -> numeric_column (deep)")
        elif s["kind"] == "vocabulary":
            lines.append(f"  {s['name']:<24} strings  -> vocabulary of {len(s['vocabulary'])} "
                         f"(wide) + indicator (deep)")
        else:
            lines.append(f"  {s['name']:<24} strings  -> hash_bucket {s['buckets']} (wide) + "
                         f"8-d embedding (deep)")
    return "\n".join(lines)


def encode_labels(labels, head):
    """Labels as the head wants them, plus the label vocabulary (or None)."""
    if head == "regression":
        if labels.dtype.kind != "f":
            raise UserError("--head regression needs a numeric --label column")
        return labels.astype(np.float32), None
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)) or labels.min() < 0:
            raise UserError("--label: a classification label must be non-negative integers "
                            "or strings (use --head regression for numbers)")
        return labels.astype(np.int64), None
    # Strings: TF's label_vocabulary, sorted; census-style '>50K.' loses its '.'.
    labels = np.char.rstrip(labels, ".")
    return labels, sorted(set(labels.tolist()))


# --- the estimator ----------------------------------------------------------------------
def make_estimator(cfg, model_dir):
    from widedeep.canned import DNNLinearCombinedClassifier, DNNLinearCombinedRegressor
    from widedeep.datasets import census_columns
    from widedeep.estimator import RunConfig
    wide, deep = census_columns() if cfg["columns"] == "census" else build_columns(
        cfg["columns"])
    common = dict(model_dir=model_dir, linear_feature_columns=wide, dnn_feature_columns=deep,
                  dnn_hidden_units=cfg["hidden_units"],
                  # (the CLI prints its own progress lines: no bar, no log lines)
                  config=RunConfig(tf_random_seed=cfg.get("seed"), log_step_count_steps=None))
    if cfg["head"] == "regression":
        return DNNLinearCombinedRegressor(**common)
    return DNNLinearCombinedClassifier(n_classes=cfg["n_classes"],
                                       label_vocabulary=cfg.get("label_vocabulary"), **common)


def load_config(model_dir):
    path = os.path.join(model_dir, CONFIG)
    if not os.path.exists(path):
        raise UserError(f"--model-dir: {model_dir} has no {CONFIG}; train it with "
                        f"'python -m widedeep train --model-dir {model_dir}' first")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_data(args, cfg, split):
    """(features, labels) of --data, or of the packaged census split."""
    if args.data:
        features, labels = read_table(args.data, cfg.get("label") if split != "predict"
                                      else None)
        if cfg.get("label") in features:
            features.pop(cfg["label"])
        return features, labels
    if cfg["columns"] != "census":
        raise UserError("--data is required: this model was not trained on the census data")
    from widedeep.datasets import load_adult
    return load_adult("test" if split != "train" else "train")


def _input(features, labels, batch_size, epochs=1, shuffle=False, seed=None):
    from minitf.data import Dataset
    if labels is None:
        return lambda: Dataset.from_tensor_slices(features).batch(batch_size)

    def input_fn():
        ds = Dataset.from_tensor_slices((features, labels))
        if shuffle:
            ds = ds.shuffle(10000, seed=seed)
        return ds.repeat(epochs).batch(batch_size)
    return input_fn


def _metrics_table(metrics):
    keys = sorted(k for k in metrics if np.size(metrics[k]) == 1)
    width = max(len(k) for k in keys)
    return "\n".join(f"  {k:<{width}}  {float(np.asarray(metrics[k])):.4f}" if k != "global_step"
                     else f"  {k:<{width}}  {int(metrics[k])}" for k in keys)


# --- commands ---------------------------------------------------------------------------
def cmd_train(args, out):
    model_dir = args.model_dir or tempfile.mkdtemp(prefix="widedeep-")
    hidden = _hidden_units(args.hidden_units)
    if args.data:
        if not args.label:
            raise UserError("--label is required with --data")
        features, labels = read_table(args.data, args.label)
        if not features:
            raise UserError(f"--data: {args.data} has no feature columns besides the label")
        spec = infer_columns(features)
        out(f"columns inferred from {args.data}:\n{describe(spec)}")
        head = args.head or "classification"
        labels, vocab = encode_labels(labels, head)
        n_classes = (len(vocab) if vocab else int(labels.max()) + 1) if head != "regression" \
            else None
        cfg = {"columns": spec, "label": args.label, "head": head, "hidden_units": hidden,
               "n_classes": max(n_classes or 2, 2), "label_vocabulary": vocab,
               "seed": args.seed}
        test = None
    else:
        from widedeep.datasets import load_adult
        features, labels = load_adult("train")
        test = load_adult("test")
        cfg = {"columns": "census", "label": "income_bracket", "head": "classification",
               "hidden_units": hidden, "n_classes": 2, "label_vocabulary": None,
               "seed": args.seed}
        out(f"census (UCI Adult): {len(labels):,} training rows, {len(test[1]):,} test rows; "
            f"TF's wide & deep tutorial columns")
    est = make_estimator(cfg, model_dir)
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, CONFIG), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=1)
    n = len(labels)
    steps_per_epoch = -(-n // args.batch_size)
    total = args.steps or steps_per_epoch * args.epochs
    out(f"training DNNLinearCombined{'Regressor' if cfg['head'] == 'regression' else 'Classifier'}"
        f" (hidden units {hidden}) for {total} steps of {args.batch_size} "
        f"({args.epochs if not args.steps else total / steps_per_epoch:.3g} epochs)")
    from widedeep.estimator import ProgressBarHook
    start = time.perf_counter()
    est.train(_input(features, labels, args.batch_size, epochs=None, shuffle=True,
                     seed=args.seed),
              steps=total,
              hooks=[ProgressBarHook(total, every_steps=max(1, min(100, total // 10)),
                                     batch_size=args.batch_size, out=out)])
    took = time.perf_counter() - start
    out(f"trained in {took:.1f} s ({total * args.batch_size / took:,.0f} examples/s)")
    eval_features, eval_labels = test if test is not None else (features, labels)
    if test is None:
        eval_labels = labels
    metrics = est.evaluate(_input(eval_features, eval_labels, 1024),
                           name=None if test is not None else "train")
    out(f"evaluation on the {'test split' if test is not None else 'training data'}:\n"
        f"{_metrics_table(metrics)}")
    exported = _export(est, cfg, args.export_dir or os.path.join(model_dir, "export"), out)
    out(f"model directory: {model_dir}  (checkpoints, {CONFIG}, event files for TensorBoard)")
    if exported:
        out(f"exported model:  {exported}")
    return 0


def _hidden_units(text):
    try:
        units = [int(u) for u in str(text).split(",") if u.strip()]
    except ValueError:
        raise UserError(f"--hidden-units: expected comma-separated integers such as "
                        f"100,75,50,25, got {text!r}") from None
    if not units or min(units) < 1:
        raise UserError(f"--hidden-units: expected positive integers, got {text!r}")
    return units


def _export(est, cfg, export_dir_base, out):
    """Exports with a tf.Example parsing receiver (signatures serving_default,
    classification or regression, predict); returns the directory."""
    from widedeep.datasets import census_columns
    from widedeep.export import NotExportableError, build_parsing_serving_input_receiver_fn
    from widedeep.feature_column import make_parse_example_spec
    wide, deep = census_columns() if cfg["columns"] == "census" else build_columns(
        cfg["columns"])
    receiver = build_parsing_serving_input_receiver_fn(make_parse_example_spec(wide + deep))
    try:
        path = est.export_saved_model(export_dir_base, receiver)
    except NotExportableError as e:
        out(f"not exported: {e}")
        return None
    return path.decode() if isinstance(path, bytes) else path


def _trained(args):
    """(config, estimator) of --model-dir, which must hold a checkpoint."""
    cfg = load_config(args.model_dir)
    est = make_estimator(cfg, args.model_dir)
    if est.latest_checkpoint() is None:
        raise UserError(f"--model-dir: {args.model_dir} has no checkpoint")
    return cfg, est


def cmd_evaluate(args, out):
    cfg, est = _trained(args)
    features, labels = load_data(args, cfg, "evaluate")
    if labels is None:
        raise UserError(f"--data: the label column {cfg['label']!r} is missing")
    if cfg["head"] == "regression":
        labels = labels.astype(np.float32)
    elif labels.dtype.kind != "f" and cfg.get("label_vocabulary"):
        labels = np.char.rstrip(labels, ".")
    elif labels.dtype.kind == "f":
        labels = labels.astype(np.int64)
    out(_metrics_table(est.evaluate(_input(features, labels, args.batch_size))))
    return 0


def cmd_predict(args, out):
    cfg, est = _trained(args)
    features, _ = load_data(args, cfg, "predict")
    rows = []
    for p in est.predict(_input(features, None, args.batch_size)):
        row = {}
        for k, v in p.items():
            v = np.asarray(v)
            if v.dtype.kind in "SO":
                v = np.array([x.decode() if isinstance(x, bytes) else x for x in v.ravel()])
            row[k] = v.tolist() if v.size > 1 else v.reshape(()).item()
        rows.append(row)
    text = _format_predictions(rows, args.output)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        out(f"wrote {len(rows):,} predictions to {args.output}")
    else:
        out(text.rstrip("\n"))
    return 0


def _format_predictions(rows, path):
    if path and path.endswith(".json"):
        return json.dumps(rows) + "\n"
    import io
    buf = io.StringIO()
    if rows:
        keys = list(rows[0])
        w = csv.writer(buf)
        w.writerow(keys)
        for r in rows:
            w.writerow([" ".join(map(str, r[k])) if isinstance(r[k], list) else r[k]
                        for k in keys])
    return buf.getvalue()


def cmd_export(args, out):
    cfg = load_config(args.model_dir)
    est = make_estimator(cfg, args.model_dir)
    path = _export(est, cfg, args.export_dir or os.path.join(args.model_dir, "export"), out)
    if path is None:
        raise UserError("export is not available for this model")
    out(f"exported model: {path}")
    return 0


def cmd_serve(args, out):
    try:
        from widedeep.export.server import serve
    except ImportError:
        raise UserError("serving is not available in this version") from None
    if not os.path.isdir(args.export_dir):
        raise UserError(f"no such export directory: {args.export_dir}")
    serve(args.export_dir, host=args.host, port=args.port, model_name=args.name)
    return 0


def cmd_convert(args, out):
    from widedeep import tf_checkpoint
    try:
        converted, skipped = tf_checkpoint.convert(args.tf_model_dir, args.out_model_dir)
    except (tf_checkpoint.TFCheckpointError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    out(f"converted {len(converted)} variables into {args.out_model_dir}")
    for name, why in (skipped.items() if isinstance(skipped, dict) else
                      ((s, "") for s in skipped)):
        out(f"  skipped {name}{': ' + why if why else ''}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="python -m widedeep", description=(
        "TensorFlow's wide & deep estimator on NumPy and Numba. With no command: train "
        "the census wide & deep classifier."))
    sub = p.add_subparsers(dest="command")

    def data_args(q, label=True):
        q.add_argument("--data", help="a CSV with a header row (default: the census data)")
        if label:
            q.add_argument("--label", help="the label column of --data")
        q.add_argument("--batch-size", type=int, default=256)

    t = sub.add_parser("train", help="train (default: census wide & deep)")
    data_args(t)
    t.add_argument("--model-dir", help="where checkpoints go (default: a new temp dir)")
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--steps", type=int, help="train this many steps instead of --epochs")
    t.add_argument("--hidden-units", default="100,75,50,25")
    t.add_argument("--head", choices=["classification", "regression"])
    t.add_argument("--seed", type=int, default=0, help="initial values and shuffling")
    t.add_argument("--export-dir", help="export base directory (default: MODEL_DIR/export)")
    e = sub.add_parser("evaluate", help="evaluate a trained model directory")
    data_args(e, label=False)
    e.add_argument("--model-dir", required=True)
    r = sub.add_parser("predict", help="predict a CSV (CSV or JSON out)")
    data_args(r, label=False)
    r.add_argument("--model-dir", required=True)
    r.add_argument("--output", help="file to write (.csv or .json); default: stdout as CSV")
    x = sub.add_parser("export", help="export a trained model directory")
    x.add_argument("--model-dir", required=True)
    x.add_argument("--export-dir")
    s = sub.add_parser("serve", help="serve an exported model over HTTP")
    s.add_argument("export_dir")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8501, help="0 picks a free port")
    s.add_argument("--name", default="model")
    c = sub.add_parser("convert-tf-checkpoint", help="a TF estimator model_dir to ours")
    c.add_argument("tf_model_dir")
    c.add_argument("out_model_dir")
    return p


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "export": cmd_export, "serve": cmd_serve, "convert-tf-checkpoint": cmd_convert}


def main(argv=None, out=print):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["train"] + argv  # no command: train
    args = parser().parse_args(argv)
    logging.getLogger("widedeep").setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](args, out)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
