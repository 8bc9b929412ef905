"""Export (widedeep.export), load (widedeep.saved_model) and serve (export.server).

The models: a tiny census wide & deep classifier and regressor (the columns of
tests/reference/generate_export.py), trained 2 steps. Every signature of a
loaded export must give what `estimator.predict` gives on the same rows, and
its structure (keys, method names, input/output names, dtypes, shapes) must be
TF 2.15's (fixtures/export_signatures.json); with TF's trained values loaded
(fixtures/export_values.npz) its outputs must be TF's.
"""

import base64
import json
import os
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

import minitf as tf
import widedeep.feature_column as fc
from minitf.data import Dataset
from widedeep import checkpoint as ckpt
from widedeep import saved_model
from widedeep.canned import DNNLinearCombinedClassifier, DNNLinearCombinedRegressor
from widedeep.datasets import load_adult
from widedeep.estimator.estimator import Estimator
from widedeep.estimator.model_fn import ModeKeys
from widedeep.export import (
    NotExportableError,
    ServingInputReceiver,
    TensorServingInputReceiver,
    TensorSpec,
    build_parsing_serving_input_receiver_fn,
    build_raw_serving_input_receiver_fn,
    experimental_export_all_saved_models,
    export_saved_model,
)
from widedeep.export import exporter as exporter_module
from widedeep.export.example_proto import encode_example
from widedeep.export.server import make_server
from widedeep.saved_model import SavedModelError

FIXTURES = os.path.join(os.path.dirname(__file__), "reference", "fixtures")
with open(os.path.join(FIXTURES, "export_signatures.json")) as _f:
    REF = json.load(_f)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
import export_cases  # noqa: E402
from export_cases import RAW_KEYS  # noqa: E402


def columns(vocab_file):
    """The columns of generate_export.py (tests/reference/export_cases.py)."""
    return export_cases.columns(fc, vocab_file)


def make(kind, model_dir, vocab_file, **kw):
    wide, deep = columns(vocab_file)
    cls = DNNLinearCombinedClassifier if kind == "classifier" else DNNLinearCombinedRegressor
    return cls(model_dir=model_dir, linear_feature_columns=wide, dnn_feature_columns=deep,
               dnn_hidden_units=[8, 4], **kw)


def rows(n=7, split="test", start=0):
    feats, _ = load_adult(split)
    return {k: feats[k][start:start + n] for k in RAW_KEYS}


def examples_of(r):
    n = len(r["age"])
    return [encode_example({k: [r[k][i]] for k in RAW_KEYS}) for i in range(n)]


@pytest.fixture(scope="module")
def vocab_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "relationship.txt"
    path.write_text("\n".join(REF["vocabulary"]) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, vocab_file):
    feats, labels = load_adult("train")
    feats = {k: feats[k][:64] for k in RAW_KEYS}
    out = {}
    for kind in ("classifier", "regressor"):
        est = make(kind, str(tmp_path_factory.mktemp(kind)), vocab_file)
        y = labels[:64] if kind == "classifier" else labels[:64].astype(np.float32) * 3 + 1
        est.train(lambda y=y: Dataset.from_tensor_slices((feats, y)).batch(32), steps=2)
        out[kind] = est
    return out


def parsing_fn(vocab_file):
    wide, deep = columns(vocab_file)
    return build_parsing_serving_input_receiver_fn(fc.make_parse_example_spec(wide + deep))


def raw_fn():
    return build_raw_serving_input_receiver_fn(
        {k: TensorSpec([None], "string" if k in ("education", "occupation", "relationship")
                       else "float32") for k in RAW_KEYS})


def predicted(est, r):
    preds = list(est.predict(lambda: r))
    return {k: np.stack([p[k] for p in preds]) for k in preds[0]}


def expected_outputs(kind, key, preds):
    """What TF's export outputs give for a signature, from Estimator.predict's dict."""
    if kind == "classifier" and key in ("serving_default", "classification"):
        return {"classes": preds["all_classes"], "scores": preds["probabilities"]}
    if key == "regression" or (kind == "regressor" and key == "serving_default"):
        return {"outputs": preds["logistic" if kind == "classifier" else "predictions"]}
    return preds


def call(sig, r):
    if "inputs" in sig.inputs:
        return sig(inputs=examples_of(r))
    if "examples" in sig.inputs:
        return sig(examples=examples_of(r))
    return sig(**{k: r[k] for k in sig.inputs})


def assert_outputs_equal(got, want, tol=1e-6):
    assert sorted(got) == sorted(want)
    for k in want:
        g, w = np.asarray(got[k]), np.asarray(want[k])
        assert g.shape == w.shape, k
        if w.dtype.kind in "OSU":
            assert g.tolist() == w.tolist(), k
        else:
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=k)


# --- round trip ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("receiver", ["parsing", "raw"])
def test_every_signature_gives_what_estimator_predict_gives(trained, vocab_file, tmp_path,
                                                            kind, receiver):
    est = trained[kind]
    fn = parsing_fn(vocab_file) if receiver == "parsing" else raw_fn()
    path = export_saved_model(est, str(tmp_path / "export"), fn)
    assert isinstance(path, bytes) and os.path.basename(path).isdigit()
    assert os.path.dirname(path) == os.fsencode(tmp_path / "export")
    model = saved_model.load(path)
    # the structure TF 2.15 gives the same model and receiver
    assert sorted(model.signatures) == sorted(REF[f"{kind}_{receiver}"]["signatures"])
    r = rows()
    preds = predicted(est, r)
    for key, sig in model.signatures.items():
        assert_outputs_equal(call(sig, r), expected_outputs(kind, key, preds))
    # one example at a time too
    one = {k: v[3:4] for k, v in r.items()}
    sig = model.signatures[model.default_signature]
    assert_outputs_equal(call(sig, one), {k: v[3:4] for k, v in call(sig, r).items()})


def test_export_directory_layout_and_variables(trained, vocab_file, tmp_path):
    est = trained["classifier"]
    path = os.fsdecode(export_saved_model(est, str(tmp_path), parsing_fn(vocab_file)))
    files = sorted(os.path.relpath(os.path.join(d, f), path)
                   for d, _, fs in os.walk(path) for f in fs)
    assert files == ["assets/relationship.txt", "model.json", "saved_model.json",
                     "variables/variables.h5"]
    with open(os.path.join(path, "model.json")) as f:
        model = json.load(f)
    rel = [c for c in model["linear_feature_columns"]
           if c["class_name"] == "VocabularyFileCategoricalColumn"][0]
    assert rel["config"]["vocabulary_file"] == "assets/relationship.txt"
    assert model["head"]["class_name"] == "BinaryClassHead"
    assert model["dnn_hidden_units"] == [8, 4] and model["dnn_activation_fn"] == "relu"
    with open(os.path.join(path, "saved_model.json")) as f:
        saved = json.load(f)
    assert (saved["format"], saved["version"], saved["default"]) == (
        "widedeep-saved-model", 1, "serving_default")
    # only model variables and the global step: no optimizer slots
    exported = dict(ckpt.list_variables(os.path.join(path, "variables", "variables")))
    in_ckpt = dict(ckpt.list_variables(est.latest_checkpoint()))
    assert set(exported) < set(in_ckpt)
    assert not [n for n in exported if "Adagrad" in n or "Ftrl" in n or "training/" in n]
    assert {n.split("/")[0] for n in exported} == {"dnn", "linear", "global_step"}
    values = ckpt.read(os.path.join(path, "variables", "variables"))
    for n in exported:
        np.testing.assert_array_equal(values[n], est.get_variable_value(n))


def test_files_are_json_hdf5_or_text_never_pickle(trained, vocab_file, tmp_path):
    path = os.fsdecode(export_saved_model(trained["classifier"], str(tmp_path),
                                          parsing_fn(vocab_file),
                                          assets_extra={"notes/a.txt": vocab_file}))
    for d, _, fs in os.walk(path):
        for f in fs:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                data = fh.read()
            assert not data.startswith(b"\x80"), p  # a pickle protocol 2+ header
            if f.endswith(".json"):
                json.loads(data)
            elif f.endswith(".h5"):
                assert data.startswith(b"\x89HDF\r\n\x1a\n"), p
            else:
                assert "assets" in p
                data.decode("utf-8")


def test_the_vocabulary_file_is_read_from_the_export(trained, vocab_file, tmp_path):
    path = export_saved_model(trained["classifier"], str(tmp_path / "e"), parsing_fn(vocab_file))
    moved = str(tmp_path / "moved")
    os.rename(path, moved)
    model = saved_model.load(moved)
    r = rows(3)
    assert_outputs_equal(model.signatures["predict"](examples=examples_of(r)),
                         predicted(trained["classifier"], r))


# --- TF's structure and numbers ------------------------------------------------------------
@pytest.mark.parametrize("name", ["classifier_parsing", "classifier_raw", "regressor_parsing",
                                  "regressor_raw"])
def test_signatures_and_outputs_match_tensorflow(name, vocab_file, tmp_path):
    kind, receiver = name.split("_")
    values = np.load(os.path.join(FIXTURES, "export_values.npz"))
    tf_values = {k.split("/", 1)[1]: values[k] for k in values.files
                 if k.startswith(kind + "/")}
    model_dir = str(tmp_path / "model")
    ckpt.Saver(model_dir).save(tf_values, int(tf_values["global_step"]))
    est = make(kind, model_dir, vocab_file)
    fn = parsing_fn(vocab_file) if receiver == "parsing" else raw_fn()
    path = export_saved_model(est, str(tmp_path / "export"), fn)
    with open(os.path.join(path, b"saved_model.json")) as f:
        ours = json.load(f)["signature_def"]
    ref = REF[name]
    assert sorted(ours) == sorted(ref["signatures"])
    for key, sig in ref["signatures"].items():
        assert ours[key]["method_name"] == sig["method_name"], key
        assert ours[key]["inputs"] == sig["inputs"], key
        assert ours[key]["outputs"] == sig["outputs"], key
    model = saved_model.load(path)
    r = {k: np.array(v, np.float32 if k in ("age", "hours_per_week") else str)
         for k, v in REF["rows"].items()}
    examples = [base64.b64decode(e) for e in REF["examples_b64"]]
    for key, want in ref["predictions"].items():
        sig = model.signatures[key]
        got = (sig(**{sorted(sig.inputs)[0]: examples}) if receiver == "parsing"  # TF's bytes
               else call(sig, r))
        assert_outputs_equal(got, {k: _from_json(v) for k, v in want.items()}, tol=1e-5)


def _from_json(v):
    a = np.array(v)
    return np.char.encode(a, "utf-8").astype(object) if a.dtype.kind == "U" else a


# --- errors ----------------------------------------------------------------------------------
def test_no_trained_model(vocab_file, tmp_path):
    est = make("classifier", str(tmp_path / "empty"), vocab_file)
    with pytest.raises(ValueError, match="Couldn't find trained model at .*empty"):
        export_saved_model(est, str(tmp_path / "export"), parsing_fn(vocab_file))
    assert not os.path.exists(tmp_path / "export") or not os.listdir(tmp_path / "export")


def test_receiver_fn_of_the_wrong_type(trained, tmp_path):
    with pytest.raises(ValueError, match="must return a ServingInputReceiver"):
        export_saved_model(trained["classifier"], str(tmp_path), lambda: {"age": 1})
    with pytest.raises(ValueError, match="input_receiver_fn must be defined"):
        export_saved_model(trained["classifier"], str(tmp_path), None)
    spec = TensorSpec([None], "float32", "age")
    with pytest.raises(ValueError, match="dictionary"):
        export_saved_model(trained["classifier"], str(tmp_path),
                           lambda: TensorServingInputReceiver(spec, {"age": spec}))
    with pytest.raises(ValueError, match=r"reads feature\(s\) \['education'"):
        export_saved_model(trained["classifier"], str(tmp_path),
                           lambda: ServingInputReceiver({"age": spec}, {"age": spec}))
    with pytest.raises(ValueError, match="receiver_tensor 'x' must be a TensorSpec"):
        ServingInputReceiver({"age": spec}, {"x": np.zeros(3)})
    assert os.listdir(tmp_path) == []


def test_only_predict_mode(trained, vocab_file, tmp_path):
    with pytest.raises(NotImplementedError, match="'train'"):
        experimental_export_all_saved_models(trained["classifier"], str(tmp_path),
                                             {ModeKeys.TRAIN: parsing_fn(vocab_file)})
    path = experimental_export_all_saved_models(trained["classifier"], str(tmp_path),
                                                {ModeKeys.PREDICT: parsing_fn(vocab_file)})
    assert "serving_default" in saved_model.load(path).signatures


def test_python_code_is_refused(trained, vocab_file, tmp_path):
    wide, deep = columns(vocab_file)
    est = DNNLinearCombinedClassifier(model_dir=trained["classifier"].model_dir,
                                      linear_feature_columns=wide, dnn_feature_columns=deep,
                                      dnn_hidden_units=[8, 4],
                                      dnn_activation_fn=lambda x: tf.nn.relu(x))
    with pytest.raises(NotExportableError, match="dnn_activation_fn .* is Python code"):
        export_saved_model(est, str(tmp_path), parsing_fn(vocab_file))

    def model_fn(features, labels, mode):
        raise AssertionError("not called")
    custom = Estimator(model_fn, model_dir=trained["classifier"].model_dir)
    with pytest.raises(NotExportableError, match="only canned estimators"):
        export_saved_model(custom, str(tmp_path), parsing_fn(vocab_file))
    norm = [fc.numeric_column("age", normalizer_fn=lambda x: x / 100)]
    est = DNNLinearCombinedClassifier(model_dir=trained["classifier"].model_dir,
                                      linear_feature_columns=norm)
    with pytest.raises(NotExportableError, match="normalizer_fn"):
        export_saved_model(est, str(tmp_path), parsing_fn(vocab_file))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("dest", ["/etc/x", "../x", "a/../../x", ""])
def test_assets_extra_must_stay_inside(trained, vocab_file, tmp_path, dest):
    with pytest.raises(ValueError, match="assets_extra: destination"):
        export_saved_model(trained["classifier"], str(tmp_path / "e"), parsing_fn(vocab_file),
                           assets_extra={dest: vocab_file})
    assert not os.path.exists(tmp_path / "x")


def test_assets_extra_are_copied(trained, vocab_file, tmp_path):
    path = os.fsdecode(export_saved_model(
        trained["classifier"], str(tmp_path), parsing_fn(vocab_file),
        assets_extra={"a.txt": vocab_file, "sub/dir/b.txt": vocab_file}))
    for rel in ("a.txt", "sub/dir/b.txt"):
        with open(os.path.join(path, "assets.extra", rel)) as f:
            assert f.read().split() == REF["vocabulary"]


def test_a_failed_export_leaves_nothing(trained, vocab_file, tmp_path, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(exporter_module.ckpt, "write", boom)
    with pytest.raises(OSError, match="disk full"):
        export_saved_model(trained["classifier"], str(tmp_path), parsing_fn(vocab_file),
                           assets_extra={"a.txt": vocab_file})
    assert os.listdir(tmp_path) == []


def test_exports_in_the_same_second_get_distinct_directories(trained, vocab_file, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr(exporter_module.time, "time", lambda: 1700000000.5)
    a = export_saved_model(trained["regressor"], str(tmp_path), parsing_fn(vocab_file))
    b = export_saved_model(trained["regressor"], str(tmp_path), parsing_fn(vocab_file),
                           as_text=True)
    assert (os.path.basename(a), os.path.basename(b)) == (b"1700000000", b"1700000001")
    assert sorted(os.listdir(tmp_path)) == ["1700000000", "1700000001"]


def test_checkpoint_path_picks_the_checkpoint(trained, vocab_file, tmp_path):
    est = trained["classifier"]
    first = os.path.join(est.model_dir, "model.ckpt-0")
    path = export_saved_model(est, str(tmp_path), parsing_fn(vocab_file), checkpoint_path=first)
    model = saved_model.load(path)
    assert model.global_step == 0


# --- loader errors ---------------------------------------------------------------------------
@pytest.fixture
def export_dir(trained, vocab_file, tmp_path):
    return os.fsdecode(export_saved_model(trained["classifier"], str(tmp_path),
                                          parsing_fn(vocab_file)))


def _edit(path, fn):
    with open(path) as f:
        d = json.load(f)
    fn(d)
    with open(path, "w") as f:
        json.dump(d, f)


def test_load_rejects_an_unknown_version(export_dir):
    _edit(os.path.join(export_dir, "saved_model.json"), lambda d: d.update(version=2))
    with pytest.raises(SavedModelError, match=r"saved_model.json: version 2 is not supported"):
        saved_model.load(export_dir)


def test_load_rejects_an_unknown_format(export_dir):
    _edit(os.path.join(export_dir, "model.json"), lambda d: d.update(format="keras"))
    with pytest.raises(SavedModelError, match=r"model.json: format 'keras'"):
        saved_model.load(export_dir)


@pytest.mark.parametrize("missing", ["saved_model.json", "model.json",
                                     "variables/variables.h5", "assets/relationship.txt"])
def test_load_rejects_missing_files(export_dir, missing):
    os.remove(os.path.join(export_dir, missing))
    with pytest.raises(SavedModelError, match=os.path.basename(missing).replace(".", r"\.")):
        saved_model.load(export_dir)


@pytest.mark.parametrize("bad", ["../relationship.txt", "/etc/passwd", "assets/../../x.txt"])
def test_load_rejects_assets_outside_the_export(export_dir, bad):
    def edit(d):
        for c in d["linear_feature_columns"]:
            if c["class_name"] == "VocabularyFileCategoricalColumn":
                c["config"]["vocabulary_file"] = bad
    _edit(os.path.join(export_dir, "model.json"), edit)
    with pytest.raises(SavedModelError, match="model.json: asset path .*(escapes|relative)"):
        saved_model.load(export_dir)


def test_signature_input_errors(export_dir):
    sig = saved_model.load(export_dir).signatures["predict"]
    with pytest.raises(TypeError, match=r"missing \['examples'\]"):
        sig(inputs=[b""])
    with pytest.raises(ValueError, match="expected shape"):
        sig(examples=b"abc")
    with pytest.raises(ValueError, match="Could not parse example"):
        sig(examples=[b"\xff\xff"])


# --- server ----------------------------------------------------------------------------------
def _http(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def server(trained, vocab_file, tmp_path):
    base = str(tmp_path / "exports")
    export_saved_model(trained["classifier"], base, parsing_fn(vocab_file))
    srv = make_server(base, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1/models/census"
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def test_server_round_trip(server, trained):
    status, body = _http(server)
    assert status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"
    r = rows(3)
    preds = predicted(trained["classifier"], r)
    instances = [{k: (float(r[k][i]) if k in ("age", "hours_per_week") else str(r[k][i]))
                  for k in RAW_KEYS} for i in range(3)]
    status, body = _http(server + ":classify", {"examples": instances})
    assert status == 200
    for i, res in enumerate(body["result"]):
        assert [c for c, _ in res] == ["0", "1"]
        np.testing.assert_allclose([s for _, s in res], preds["probabilities"][i], rtol=1e-6)
    ints = [{**x, "age": int(x["age"])} for x in instances]  # ints for a float feature
    status, body = _http(server + ":regress", {"examples": ints, "signature_name": "regression"})
    assert status == 200
    np.testing.assert_allclose(body["result"], preds["logistic"][:, 0], rtol=1e-6)
    b64 = [{"b64": base64.b64encode(e).decode()} for e in examples_of(r)]
    status, body = _http(server + ":predict", {"signature_name": "predict",
                                               "instances": b64})
    assert status == 200 and len(body["predictions"]) == 3
    np.testing.assert_allclose([p["logits"] for p in body["predictions"]], preds["logits"],
                               rtol=1e-6)
    assert body["predictions"][0]["all_classes"] == ["0", "1"]
    status, body = _http(server + ":predict", {"signature_name": "predict",
                                               "inputs": {"examples": b64}})
    assert status == 200
    np.testing.assert_allclose(body["outputs"]["probabilities"], preds["probabilities"],
                               rtol=1e-6)
    status, body = _http(server + "/metadata")
    assert status == 200 and "serving_default" in body["metadata"]["signature_def"][
        "signature_def"]


@pytest.mark.parametrize("request_body, message", [
    ({"examples": []}, "non-empty list"),
    ({"examples": [{"age": 30.0}]}, "is required but could not be found"),
    ({"examples": [{"age": "old", "education": "x", "occupation": "x", "relationship": "x",
                    "hours_per_week": 4.0}]}, "Data types don't match"),
    ({"examples": [{"age": 1.0}], "signature_name": "nope"}, "nope"),
    ({"examples": [{"age": 1.0}], "signature_name": "predict"}, "method_name"),
])
def test_server_bad_requests(server, request_body, message):
    status, body = _http(server + ":classify", request_body)
    assert status == 400 and message in body["error"]


def test_server_bad_predict_and_paths(server):
    status, body = _http(server + ":predict", {"instances": [{"x": 1}],
                                               "signature_name": "predict"})
    assert status == 400 and "examples" in body["error"]
    status, body = _http(server + ":predict", {"signature_name": "predict"})
    assert status == 400 and "instances" in body["error"]
    status, body = _http(server.rsplit("/v1", 1)[0] + "/v2/nothing")
    assert status == 404 and "error" in body
    req = urllib.request.Request(server + ":predict", data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400 and "not valid JSON" in json.loads(e.value.read())["error"]


# --- live TensorFlow -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tf_pair(tmp_path_factory, vocab_file):
    """(TF's loaded export, ours) of one classifier trained 2 steps in TF, our export
    made from TF's checkpoint values."""
    import tensorflow as ttf
    d = tmp_path_factory.mktemp("tf_live")
    tfc = ttf.feature_column
    wide, deep = export_cases.columns(tfc, vocab_file)
    est = ttf.estimator.DNNLinearCombinedClassifier(
        model_dir=str(d / "tf_model"), linear_feature_columns=wide, dnn_feature_columns=deep,
        dnn_hidden_units=[8, 4], config=ttf.estimator.RunConfig(tf_random_seed=7))
    feats, labels = load_adult("train")
    feats = {k: feats[k][64:128] for k in RAW_KEYS}
    est.train(lambda: ttf.data.Dataset.from_tensor_slices((feats, labels[64:128])).batch(32),
              steps=2)
    spec = tfc.make_parse_example_spec(wide + deep)
    tf_dir = est.export_saved_model(
        str(d / "tf_export"), ttf.estimator.export.build_parsing_serving_input_receiver_fn(spec))
    reader = ttf.train.load_checkpoint(str(d / "tf_model"))
    values = {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()}
    ckpt.Saver(str(d / "ours")).save(values, int(values["global_step"]))
    ours = export_saved_model(make("classifier", str(d / "ours"), vocab_file),
                              str(d / "our_export"), parsing_fn(vocab_file))
    return ttf, ttf.saved_model.load(tf_dir), saved_model.load(ours)


@pytest.mark.tf
def test_our_export_of_tf_values_agrees_with_tf_export(tf_pair):
    from hypothesis import Phase, given, settings
    from hypothesis import strategies as st

    ttf, theirs, ours = tf_pair
    assert sorted(ours.signatures) == sorted(theirs.signatures.keys())
    test = load_adult("test")[0]

    @settings(max_examples=3, deadline=None, phases=[Phase.generate])
    @given(st.lists(st.integers(0, len(test["age"]) - 1), min_size=1, max_size=6),
           st.booleans())
    def check(idx, unknown_occupation):
        r = {k: test[k][idx] for k in RAW_KEYS}
        if unknown_occupation:
            r["occupation"] = np.array(["Astronaut"] * len(idx))
        ex = examples_of(r)
        for key, sig in ours.signatures.items():
            name = "inputs" if "inputs" in sig.inputs else "examples"
            want = {k: v.numpy() for k, v in theirs.signatures[key](
                **{name: ttf.constant(ex)}).items()}
            assert_outputs_equal(sig(**{name: ex}), want, tol=1e-5)
    check()


def test_served_batches_take_the_canned_fast_forward(export_dir, monkeypatch):
    """A batch of single-valued rows is served by the canned model's tape-free
    forward (widedeep.canned.fast_step), the same bits as the generic layers."""
    from widedeep.canned import fast_step
    model = saved_model.load(export_dir)
    runtime = model._runtime
    r = rows(20, start=100)
    feats = model.signatures["predict"].features({"examples": examples_of(r)})
    calls = []
    real = fast_step.forward
    monkeypatch.setattr(fast_step, "forward", lambda *a: calls.append(real(*a)) or calls[-1])
    fast = runtime.export_outputs(feats)["predict"].as_signature_outputs()
    assert len(calls) == 1 and calls[0] is not None
    monkeypatch.setattr(fast_step, "supported", lambda model: False)
    runtime.store.cache.pop(("canned_fast", id(runtime.canned)))  # asks `supported` again
    slow = runtime.export_outputs(feats)["predict"].as_signature_outputs()
    assert len(calls) == 1
    assert_outputs_equal(fast, slow, tol=0)


# --- exactness of the fast paths, every head kind ----------------------------------------------
def _head_estimator(head_kind, model_dir, vocab_file):
    from widedeep.canned import DNNLinearCombinedEstimator
    from widedeep.heads import (
        LogisticRegressionHead,
        MultiClassHead,
        MultiLabelHead,
        PoissonRegressionHead,
        RegressionHead,
    )
    heads = {"multi_class": MultiClassHead(3), "multi_label": MultiLabelHead(3),
             "regression": RegressionHead(label_dimension=2),
             "poisson": PoissonRegressionHead(), "logistic": LogisticRegressionHead()}
    wide, deep = columns(vocab_file)
    if head_kind == "binary":
        return make("classifier", model_dir, vocab_file)
    return DNNLinearCombinedEstimator(heads[head_kind], model_dir=model_dir,
                                      linear_feature_columns=wide, dnn_feature_columns=deep,
                                      dnn_hidden_units=[8, 4])


def _labels(head_kind, n, rng):
    return {"binary": rng.integers(0, 2, n), "multi_class": rng.integers(0, 3, n),
            "multi_label": rng.integers(0, 2, (n, 3)),
            "regression": rng.normal(size=(n, 2)).astype(np.float32),
            "poisson": rng.poisson(2, n).astype(np.float32),
            "logistic": rng.uniform(size=n).astype(np.float32)}[head_kind]


@pytest.mark.parametrize("head_kind", ["binary", "multi_class", "multi_label", "regression",
                                       "poisson", "logistic"])
def test_every_head_serves_bit_for_bit_what_estimator_predict_gives(vocab_file, tmp_path,
                                                                     head_kind):
    rng = np.random.default_rng(3)
    feats, _ = load_adult("train")
    feats = {k: feats[k][:64] for k in RAW_KEYS}
    est = _head_estimator(head_kind, str(tmp_path / "m"), vocab_file)
    y = _labels(head_kind, 64, rng)
    est.train(lambda: Dataset.from_tensor_slices((feats, y)).batch(32), steps=3)
    r = rows(40, start=200)
    r["occupation"] = r["occupation"].copy()
    r["occupation"][::7] = "Astronaut"  # unseen: hashed, and a cache miss later
    one = {k: v[5:6] for k, v in r.items()}
    # Estimator.predict on the same batch: one example alone is another GEMM shape, whose
    # BLAS kernel may round differently from a batch's
    cases = [(r, predicted(est, r)), (one, predicted(est, one))]
    for fn in (parsing_fn(vocab_file), raw_fn()):
        model = saved_model.load(export_saved_model(est, str(tmp_path / "e"), fn))
        assert model._runtime._rows is not None  # the single-valued row path is used
        for key, sig in model.signatures.items():
            for batch, preds in cases:
                want = _head_outputs(head_kind, key, preds)
                hits = model._runtime._rows.row_hits
                got = call(sig, batch)
                if batch is one:  # its ids are cached (by the batch): the one-row path
                    assert model._runtime._rows.row_hits == hits + 1, key
                assert sorted(got) == sorted(want), key
                for k in want:
                    np.testing.assert_array_equal(got[k], want[k], err_msg=f"{key}/{k}")
                    assert np.asarray(got[k]).dtype == np.asarray(want[k]).dtype, k


def _head_outputs(head_kind, key, preds):
    if key == "predict":
        return preds
    if head_kind == "binary":
        return expected_outputs("classifier", key, preds)
    if head_kind in ("multi_class", "multi_label"):
        return {"classes": preds["all_classes" if head_kind == "multi_class" else "classes"],
                "scores": preds["probabilities"]}
    return {"outputs": preds["predictions"]}


def test_rows_that_are_not_single_valued_take_the_exact_general_path(export_dir, trained):
    model = saved_model.load(export_dir)
    r = rows(4)
    ex = [encode_example({**{k: [r[k][i]] for k in RAW_KEYS},
                          "occupation": ["Sales", "Tech-support"][:i % 3]})  # 0, 1, 2 values
          for i in range(4)]
    got = model.signatures["predict"](examples=ex)
    feats = model.signatures["predict"].features({"examples": ex})
    slow = model._runtime.slow_run(feats).export_outputs["predict"].as_signature_outputs()
    for k in slow:
        np.testing.assert_array_equal(got[k], slow[k], err_msg=k)


def test_the_fast_path_gives_the_same_errors(export_dir):
    sig = saved_model.load(export_dir).signatures["serving_default"]
    r = rows(1)
    bad = encode_example({**{k: [r[k][0]] for k in RAW_KEYS}, "age": ["old"]})
    with pytest.raises(ValueError, match="Data types don't match"):
        sig(inputs=[bad])


@pytest.mark.parametrize("receiver", ["parsing", "raw"])
def test_one_example_takes_the_one_row_path_bit_for_bit(trained, vocab_file, tmp_path,
                                                        receiver):
    """A single census row is served by RowPlan.row_logits (not the batch code, not
    the general path), and gives Estimator.predict's bits on that one-row batch; a
    value not seen yet goes through the batch code once, exactly, then is cached."""
    est = trained["classifier"]
    fn = parsing_fn(vocab_file) if receiver == "parsing" else raw_fn()
    model = saved_model.load(export_saved_model(est, str(tmp_path / "e"), fn))
    plan = model._runtime._rows
    r = rows(3, start=300)
    r["occupation"] = r["occupation"].astype(object)
    r["occupation"][2] = "Cosmonaut"  # a cache miss on its first call
    seen = set()
    for key, sig in model.signatures.items():
        for i in (0, 1, 2):
            one = {k: v[i:i + 1] for k, v in r.items()}
            want = expected_outputs("classifier", key, predicted(est, one))
            for again in (False, True):
                hits = plan.row_hits
                got = call(sig, one)
                assert sorted(got) == sorted(want), key
                for k in want:
                    np.testing.assert_array_equal(got[k], want[k], err_msg=f"{key}/{k}")
                    assert got[k].dtype == np.asarray(want[k]).dtype, k
                if again or i in seen:  # its ids are cached: the one-row path
                    assert plan.row_hits == hits + 1, (key, i)
                elif i == 2:  # the first sight of "Cosmonaut": the batch code, caching it
                    assert plan.row_hits == hits, key
            seen.add(i)
            if receiver == "raw":  # inputs as lists of one value
                hits = plan.row_hits
                got = sig(**{k: one[k].tolist() for k in sig.inputs})
                assert plan.row_hits == hits + 1
                for k in want:
                    np.testing.assert_array_equal(got[k], want[k], err_msg=f"{key}/{k}")
