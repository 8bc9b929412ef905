"""Writes tests/reference/fixtures/heads.npz with TensorFlow 2.15's heads.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_heads.py

For every case of `head_cases.py`: each batch's training loss and
predictions, and every metric's value after all batches (streamed, as
evaluate does). Keys: "<case>/loss<i>", "<case>/pred<i>/<key>",
"<case>/metric/<key>".
"""

import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import head_cases  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "heads.npz")


class Module:
    """tf.estimator's heads, with loss_reduction given by name."""

    def __getattr__(self, name):
        cls = getattr(tf.estimator, name)

        def make(**kw):
            if kw.get("loss_reduction") == "sum":
                kw["loss_reduction"] = tf.losses.Reduction.SUM
            return cls(**kw)
        return make


def main():
    out = {}
    for name, (build, _, _) in head_cases.cases().items():
        head = build(Module())
        metrics = head.metrics()
        for i, (features, labels, logits) in enumerate(head_cases.batches(name)):
            t_logits = tf.constant(logits)
            out[f"{name}/loss{i}"] = head.loss(labels, t_logits, features).numpy()
            for k, v in head.predictions(t_logits).items():
                v = v.numpy()
                out[f"{name}/pred{i}/{k}"] = v.astype(str) if v.dtype == object else v
            head.update_metrics(metrics, features, t_logits, labels)
        for k, m in metrics.items():
            out[f"{name}/metric/{k}"] = np.asarray(m.result().numpy())
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
