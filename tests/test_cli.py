"""The command line: the main job, training on a user's CSV with inferred
columns, evaluate / predict / convert-tf-checkpoint, and one-line errors."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from widedeep.cli import infer_columns, main, read_table


def run(argv):
    lines = []
    code = main(argv, out=lines.append)
    return code, "\n".join(lines)


def test_main_job_trains_evaluates_and_reports(tmp_path):
    code, text = run(["--steps", "150", "--model-dir", str(tmp_path / "m"),
                      "--hidden-units", "8,4"])
    assert code == 0
    assert "census (UCI Adult): 32,561 training rows, 16,281 test rows" in text
    assert "step    150/150" in text and "examples/s" in text
    for key in ("accuracy", "auc", "average_loss", "global_step"):
        assert f"  {key} " in text
    assert f"model directory: {tmp_path / 'm'}" in text
    assert os.path.exists(tmp_path / "m" / "model.ckpt-150.h5")
    # The table shows what evaluate gives for the model directory's checkpoint.
    code, again = run(["evaluate", "--model-dir", str(tmp_path / "m")])
    assert code == 0
    for key in ("accuracy", "auc", "average_loss"):
        assert text.split(f"  {key} ")[1].split()[0] == again.split(f"  {key} ")[1].split()[0]
    assert "global_step           150" in again
    # ... and the exported model serves what the estimator predicts.
    exported = text.split("exported model:  ")[1].split()[0]
    from widedeep import saved_model
    from widedeep.cli import load_config, make_estimator
    from widedeep.datasets import load_adult
    from widedeep.export.example_proto import encode_example
    x, _ = load_adult("test")
    rows = [{k: [v[i]] for k, v in x.items()} for i in range(5)]
    served = saved_model.load(exported).signatures["predict"](
        examples=[encode_example(r) for r in rows])
    est = make_estimator(load_config(str(tmp_path / "m")), str(tmp_path / "m"))
    from minitf.data import Dataset
    want = list(est.predict(lambda: Dataset.from_tensor_slices(
        {k: v[:5] for k, v in x.items()}).batch(5), yield_single_examples=False))[0]
    np.testing.assert_allclose(served["logistic"], want["logistic"], rtol=1e-5, atol=1e-6)
    code, text = run(["export", "--model-dir", str(tmp_path / "m"),
                      "--export-dir", str(tmp_path / "e")])
    assert code == 0 and text.startswith(f"exported model: {tmp_path / 'e'}")


def test_python_dash_m_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "widedeep", "train", "--steps", "3",
                        "--hidden-units", "4", "--model-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "evaluation on the test split" in r.stdout


def _write_csv(path, n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], n)
    city = [f"city{i}" for i in rng.integers(0, 150, n)]
    y = np.where((x > 0) ^ (color == "red"), "yes", "no")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x", "color", "city", "target"])
        w.writerows(zip(x.round(4), color, city, y))
    return y


def test_train_on_a_csv_with_inferred_columns_then_evaluate_and_predict(tmp_path):
    data = tmp_path / "d.csv"
    y = _write_csv(data)
    features, labels = read_table(str(data), "target")
    spec = {s["name"]: s for s in infer_columns(features)}
    assert spec["x"]["kind"] == "numeric"
    assert spec["color"] == {"name": "color", "kind": "vocabulary",
                             "vocabulary": ["blue", "green", "red"]}
    n_cities = len(set(features["city"].tolist()))  # > 100: hashed into >= 2x buckets
    assert spec["city"]["kind"] == "hash" and spec["city"]["buckets"] >= 2 * n_cities
    model = str(tmp_path / "m")
    code, text = run(["train", "--data", str(data), "--label", "target", "--model-dir", model,
                      "--steps", "60", "--batch-size", "32", "--hidden-units", "8"])
    assert code == 0, text
    assert "color" in text and "vocabulary of 3 (wide) + indicator (deep)" in text
    assert "hash_bucket" in text
    assert "evaluation on the training data" in text
    code, text = run(["evaluate", "--model-dir", model, "--data", str(data)])
    assert code == 0 and "  accuracy " in text
    accuracy = float(text.split("  accuracy ")[1].split()[0])
    out = tmp_path / "p.json"
    code, text = run(["predict", "--model-dir", model, "--data", str(data),
                      "--output", str(out)])
    assert code == 0 and "wrote 300 predictions" in text
    preds = json.loads(out.read_text())
    assert len(preds) == 300 and set(preds[0]) >= {"classes", "probabilities", "logits"}
    assert {p["classes"] for p in preds} <= {"no", "yes"}
    agree = np.mean([p["classes"] == t for p, t in zip(preds, y)])
    assert abs(agree - accuracy) < 1e-4  # predict and evaluate see the same model
    code, text = run(["predict", "--model-dir", model, "--data", str(data)])
    assert code == 0 and text.splitlines()[0].startswith("all_class_ids") or "classes" in text


@pytest.mark.parametrize("argv,message", [
    (["train", "--data", "/no/such.csv", "--label", "y"], "--data: no such file: /no/such.csv"),
    (["train", "--data", "{csv}", "--label", "nope"], "--label: column 'nope' is not in"),
    (["train", "--data", "{csv}"], "--label is required with --data"),
    (["train", "--hidden-units", "10,x"], "--hidden-units: expected comma-separated integers"),
    (["evaluate", "--model-dir", "{tmp}"], "has no widedeep_cli.json"),
    (["convert-tf-checkpoint", "{tmp}/none", "{tmp}/out"], ""),
])
def test_user_mistakes_are_one_line(tmp_path, capsys, argv, message):
    data = tmp_path / "d.csv"
    _write_csv(data, n=20)
    argv = [a.format(csv=data, tmp=tmp_path) for a in argv]
    code, _ = run(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_convert_tf_checkpoint(tmp_path):
    src = os.path.join(os.path.dirname(__file__), "reference", "fixtures", "tf_ckpt")
    code, text = run(["convert-tf-checkpoint", src, str(tmp_path / "out")])
    assert code == 0, text
    assert text.startswith("converted ")
    from widedeep import checkpoint as ckpt
    assert ckpt.latest_checkpoint(str(tmp_path / "out")) is not None


def test_serve_command_answers_http(tmp_path):
    """`python -m widedeep serve EXPORT --port 0` serves the trained census model:
    a :classify request gets one score pair per example."""
    import json as _json
    import urllib.request
    code, text = run(["train", "--steps", "3", "--hidden-units", "4", "--model-dir",
                      str(tmp_path / "m")])
    assert code == 0
    exported = text.split("exported model:  ")[1].split()[0]
    proc = subprocess.Popen([sys.executable, "-m", "widedeep", "serve", exported, "--port", "0",
                             "--name", "census"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"serving {exported} on http://127.0.0.1:")
        url = line.split(" on ")[1].split("/v1/")[0]
        example = {"age": 40.0, "education": "Bachelors", "education_num": 13.0,
                   "capital_gain": 0.0, "capital_loss": 0.0, "hours_per_week": 40.0,
                   "marital_status": "Never-married", "relationship": "Not-in-family",
                   "workclass": "Private", "occupation": "Sales"}
        req = urllib.request.Request(f"{url}/v1/models/census:classify",
                                     data=_json.dumps({"examples": [example]}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = _json.loads(resp.read())
        (scores,) = body["result"]  # TF Serving's key
        assert len(scores) == 2 and abs(sum(s for _, s in scores) - 1) < 1e-5
    finally:
        proc.terminate()
        proc.wait(timeout=30)
