"""``python -m widedeep``: the project's main job.

Until the estimator lands, this is a short minitf demo: a logistic regression
fitted by gradient descent, with the gradient taken by minitf's GradientTape.
"""

import argparse
import sys
import time

import numpy as np

import minitf as tf


def logistic_regression_demo(steps=300, learning_rate=0.5, n=4000, d=6, seed=0, out=print):
    """Fits p(y=1|x) = sigmoid(x w + b) to synthetic data with known w, b.

    Returns:
      dict with the final loss, accuracy, and the learned and true parameters.
    """
    rng = np.random.default_rng(seed)
    true_w = rng.normal(size=(d, 1)).astype(np.float32)
    true_b = np.float32(0.5)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (rng.random((n, 1)) < 1 / (1 + np.exp(-(x @ true_w + true_b)))).astype(np.float32)

    w = tf.Variable(np.zeros((d, 1), np.float32), name="weights")
    b = tf.Variable(np.zeros((1,), np.float32), name="bias")
    start = time.perf_counter()
    for step in range(1, steps + 1):
        with tf.GradientTape() as tape:
            logits = tf.nn.bias_add(tf.matmul(x, w), b)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(learning_rate * gw.numpy())
        b.assign_sub(learning_rate * gb.numpy())
        if step % 50 == 0 or step == 1:
            out(f"step {step:4d}  loss {float(loss):.4f}")
    elapsed = time.perf_counter() - start
    accuracy = float(np.mean((logits.numpy() > 0) == (y > 0.5)))
    out(f"trained {steps} steps on {n} examples in {elapsed:.2f} s "
        f"({steps * n / elapsed:,.0f} examples/s)")
    out(f"accuracy {accuracy:.3f}")
    out("weights learned vs true:")
    for i in range(d):
        out(f"  w[{i}] {w.numpy()[i, 0]:+.3f}   {true_w[i, 0]:+.3f}")
    out(f"  b    {b.numpy()[0]:+.3f}   {true_b:+.3f}")
    return {"loss": float(loss), "accuracy": accuracy, "w": w.numpy(), "b": b.numpy(),
            "true_w": true_w, "true_b": true_b}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m widedeep", description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    logistic_regression_demo(steps=args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
