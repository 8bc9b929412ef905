"""Feature-column transform throughput on the census columns (rows/s).

For each column of TF's census wide & deep model: its ids (categorical kinds,
through `id_weight_pair`) or its dense block (numeric, indicator), each in a
fresh TransformCache per batch; then the whole wide part (LinearModel forward)
and the whole deep input layer (DenseFeatures forward, embeddings included), at
batch 256 and 4096, on the packaged census rows.

    .venv/bin/python benchmarks/bench_feature_columns.py [--json out.json]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from widedeep.datasets import census_columns, load_adult  # noqa: E402
from widedeep.feature_column import DenseFeatures, LinearModel  # noqa: E402
from widedeep.feature_column.columns import CategoricalColumn, TransformCache  # noqa: E402


def rate(fn, batches, rows, min_time=0.3):
    """rows/s of fn over the batches, repeated until min_time has passed."""
    for b in batches[:2]:
        fn(b)  # warm (Numba compile, caches)
    n, start = 0, time.perf_counter()
    while True:
        for b in batches:
            fn(b)
            n += rows
        took = time.perf_counter() - start
        if took >= min_time:
            return n / took


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    args = p.parse_args()
    x, _ = load_adult("train")
    wide, deep = census_columns()
    linear, dense = LinearModel(wide), DenseFeatures(deep)
    out = {}
    print(f"{'column':<48} {'rows/s @256':>14} {'rows/s @4096':>14}")
    cols = [("wide: " + c.name, c) for c in wide] + [("deep: " + c.name, c) for c in deep]
    for batch in (256, 4096):
        batches = [{k: v[i:i + batch] for k, v in x.items()}
                   for i in range(0, min(len(x["age"]), 8 * batch), batch)]
        for label, c in cols:
            if isinstance(c, CategoricalColumn):
                fn = (lambda c: lambda b: c.id_weight_pair(TransformCache(b)))(c)
            else:
                fn = (lambda c: lambda b: c.dense(TransformCache(b), dense))(c)
            out.setdefault(label, {})[batch] = rate(fn, batches, batch)
        out.setdefault("wide part: LinearModel forward (8 columns)", {})[batch] = rate(
            linear, batches, batch)
        out.setdefault("deep part: DenseFeatures forward (10 columns)", {})[batch] = rate(
            dense, batches, batch)
    for label, r in out.items():
        print(f"{label:<48} {r[256]:>14,.0f} {r[4096]:>14,.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
