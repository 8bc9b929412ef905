"""Head cases shared by the TF fixture generator and the tests.

    build(module) -> the head, from `module` (tf.estimator or widedeep.heads)
    batches(seed) -> [(features, labels, logits)] for several batch sizes
"""

import numpy as np

BATCH_SIZES = (1, 7, 64, 300)


def _w(rng, n):
    return rng.uniform(0.1, 2.0, (n, 1)).astype(np.float32)


def cases():
    """name -> (build(module), labels(rng, n), logits dimension)."""
    vocab = ["no", "yes"]
    return {
        "binary": (lambda m: m.BinaryClassHead(), lambda r, n: r.integers(0, 2, (n, 1)), 1),
        "binary_w_thr": (lambda m: m.BinaryClassHead(weight_column="w", thresholds=[0.3, 0.7]),
                         lambda r, n: r.integers(0, 2, n), 1),
        "binary_vocab_sum": (lambda m: m.BinaryClassHead(
            label_vocabulary=vocab, loss_reduction="sum", weight_column="w"),
            lambda r, n: np.array(vocab)[r.integers(0, 2, (n, 1))], 1),
        "multiclass": (lambda m: m.MultiClassHead(n_classes=4, weight_column="w"),
                       lambda r, n: r.integers(0, 4, (n, 1)), 4),
        "multiclass_vocab": (lambda m: m.MultiClassHead(
            n_classes=3, label_vocabulary=["a", "b", "c"], name="mc"),
            lambda r, n: np.array(["a", "b", "c"])[r.integers(0, 3, n)], 3),
        "multilabel": (lambda m: m.MultiLabelHead(
            n_classes=3, weight_column="w", classes_for_class_based_metrics=[0, 2],
            thresholds=[0.4]), lambda r, n: r.integers(0, 2, (n, 3)), 3),
        "regression": (lambda m: m.RegressionHead(label_dimension=2, weight_column="w"),
                       lambda r, n: r.normal(size=(n, 2)).astype(np.float32), 2),
        "regression_sum": (lambda m: m.RegressionHead(loss_reduction="sum"),
                           lambda r, n: r.normal(size=(n, 1)).astype(np.float32), 1),
        "poisson": (lambda m: m.PoissonRegressionHead(weight_column="w"),
                    lambda r, n: r.poisson(2.0, (n, 1)).astype(np.float32), 1),
        "logistic": (lambda m: m.LogisticRegressionHead(),
                     lambda r, n: r.uniform(0, 1, (n, 1)).astype(np.float32), 1),
    }


def batches(name, seed=0):
    _, labels, dim = cases()[name]
    rng = np.random.default_rng(seed)
    out = []
    for n in BATCH_SIZES:
        logits = (rng.normal(size=(n, dim)) * 2).astype(np.float32)
        out.append(({"w": _w(rng, n)}, labels(rng, n), logits))
    return out
