"""The main job (``python -m widedeep``) fits its logistic regression."""

import numpy as np

from widedeep.__main__ import logistic_regression_demo, main


def test_demo_recovers_the_true_parameters():
    lines = []
    r = logistic_regression_demo(steps=200, out=lines.append)
    # 4,000 draws from the true model: the fit lands within sampling error of it.
    np.testing.assert_allclose(r["w"], r["true_w"], atol=0.12)
    assert abs(r["b"][0] - r["true_b"]) < 0.12
    assert r["loss"] < 0.6931  # below log 2, the loss of the zero model
    assert lines[0].startswith("step    1  loss 0.6931")  # zero weights: log 2


def test_main_runs(capsys):
    assert main(["--steps", "5"]) == 0
    assert "accuracy" in capsys.readouterr().out
