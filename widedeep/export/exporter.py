"""`export_saved_model`: a trained canned estimator as a directory of JSON, HDF5
and asset files, from which `widedeep.saved_model.load` rebuilds and serves it.

    <export_dir_base>/<seconds since epoch>/
        saved_model.json      signatures (TF's keys, method names, input/output names)
        model.json            the model's configuration (runtime.model_config)
        variables/variables.h5  the model variables and global_step (no optimizer slots)
        assets/               vocabulary files of vocabulary-file columns
        assets.extra/         the caller's assets_extra

saved_model.json::

    {"format": "widedeep-saved-model", "version": 1, "default": "serving_default",
     "signature_def": {key: {"method_name": "tensorflow/serving/classify",
                             "inputs": {name: {"dtype": "string", "shape": [null]}},
                             "outputs": {name: {"dtype", "shape"}},
                             "export_output": the head's export-output key,
                             "features": {feature key: {"input": input name,
                                                        "parse": feature spec or absent}}}}}

Signatures follow TF's rules (export_lib.build_all_signature_defs): every
export output of the head gives one; a classify or regress signature needs a
receiver with exactly one string input, which it calls 'inputs' (otherwise it
is left out, as TF leaves it out); a predict signature takes the receiver's
inputs by name; alternatives give '<alternative>:<key>'. "default" is
'serving_default' when that signature exists, else 'predict' (TF has no default
then; the server needs one).

The directory is written under ``<export_dir_base>/temp-<timestamp>`` and renamed
when complete: a failure leaves nothing behind (the temp directory is removed).
"""

import json
import os
import shutil
import time

from widedeep import checkpoint as ckpt
from widedeep.estimator.model_fn import ModeKeys
from widedeep.export.receivers import (
    ParsedFeature,
    ServingInputReceiver,
    TensorServingInputReceiver,
)
from widedeep.export.runtime import Runtime, describe_outputs, map_vocabulary_files, model_config
from widedeep.export_output import ClassificationOutput, RegressionOutput

SAVED_MODEL_FORMAT, SAVED_MODEL_VERSION = "widedeep-saved-model", 1
SAVED_MODEL_FILE, MODEL_FILE = "saved_model.json", "model.json"
VARIABLES_DIR, VARIABLES_PREFIX = "variables", "variables"
ASSETS_DIR, ASSETS_EXTRA_DIR = "assets", "assets.extra"
DEFAULT_SERVING_KEY = "serving_default"
MAX_DIRECTORY_CREATION_ATTEMPTS = 10


def get_timestamped_export_dir(export_dir_base):
    """``<base>/<int(time.time())>``; if that (or its temp directory) exists, the next
    second's name (TF sleeps a second and retries; we take the next number)."""
    stamp = int(time.time())
    for _ in range(MAX_DIRECTORY_CREATION_ATTEMPTS):
        path = os.path.join(export_dir_base, str(stamp))
        if not os.path.exists(path) and not os.path.exists(temp_export_dir(path)):
            return path
        stamp += 1
    raise RuntimeError(f"Failed to obtain a unique export directory name after "
                       f"{MAX_DIRECTORY_CREATION_ATTEMPTS} attempts.")


def temp_export_dir(export_dir):
    head, tail = os.path.split(export_dir)
    return os.path.join(head, f"temp-{tail}")


def export_saved_model(estimator, export_dir_base, serving_input_receiver_fn,
                       assets_extra=None, as_text=False, checkpoint_path=None,
                       experimental_mode=ModeKeys.PREDICT):
    """`Estimator.export_saved_model`: exports the model for serving.

    Args:
      estimator: a canned estimator (a custom model_fn is Python code: refused).
      export_dir_base: the directory that receives the timestamped export.
      serving_input_receiver_fn: a zero-argument function returning a
        ServingInputReceiver (see widedeep.export.receivers).
      assets_extra: {destination path relative to assets.extra/: source path}.
      as_text: write the JSON indented (it is text either way).
      checkpoint_path: the checkpoint to export; default the latest.
      experimental_mode: only ModeKeys.PREDICT is supported.

    Returns:
      The export directory, as bytes (TF returns bytes).

    Raises:
      ValueError: no trained model; the receiver fn missing or returning the
        wrong type; a model that is not exportable; a bad assets_extra path.
    """
    if not serving_input_receiver_fn:
        raise ValueError("An input_receiver_fn must be defined.")
    return _export_all(estimator, export_dir_base, {experimental_mode: serving_input_receiver_fn},
                       assets_extra, as_text, checkpoint_path)


def experimental_export_all_saved_models(estimator, export_dir_base, input_receiver_fn_map,
                                         assets_extra=None, as_text=False,
                                         checkpoint_path=None):
    """`Estimator.experimental_export_all_saved_models`: {mode: receiver fn}.
    Only the PREDICT mode can be exported here (TRAIN and EVAL graphs raise
    NotImplementedError)."""
    return _export_all(estimator, export_dir_base, input_receiver_fn_map, assets_extra,
                       as_text, checkpoint_path)


def _checkpoint(estimator, checkpoint_path):
    if checkpoint_path:
        return os.fspath(checkpoint_path)
    path = ckpt.latest_checkpoint(estimator.model_dir)
    if path is None:
        warm = getattr(estimator, "_warm_start", None)
        source = getattr(warm, "ckpt_to_initialize_from", None)
        if source:  # TF exports the warm-start checkpoint when there is no other
            path = ckpt.latest_checkpoint(source) if os.path.isdir(source) else source
        if path is None:
            raise ValueError(f"Couldn't find trained model at {estimator.model_dir}.")
    return path


def _check_assets_extra(assets_extra):
    out = []
    for dest, source in (assets_extra or {}).items():
        dest = os.fspath(dest)
        norm = os.path.normpath(dest)
        if not dest or os.path.isabs(dest) or norm == ".." or norm.startswith(
                ".." + os.sep) or norm == ".":
            raise ValueError(f"assets_extra: destination {dest!r} must be a relative path "
                             f"inside assets.extra/")
        if not os.path.isfile(source):
            raise ValueError(f"assets_extra: source {source!r} (for {dest!r}) is not a file")
        out.append((norm, os.fspath(source)))
    return out


def _export_all(estimator, export_dir_base, fn_map, assets_extra, as_text, checkpoint_path):
    if not isinstance(fn_map, dict) or not fn_map:
        raise ValueError(f"input_receiver_fn_map must be a non-empty dict of mode -> "
                         f"receiver fn, got {fn_map!r}")
    for mode in fn_map:
        if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            raise NotImplementedError(f"exporting the {mode!r} mode is not supported: widedeep "
                                      f"exports the PREDICT (serving) model only")
    if fn_map.get(ModeKeys.PREDICT) is None:
        raise ValueError(f"No valid modes for exporting found. Got {list(fn_map)}.")
    receiver_fn = fn_map[ModeKeys.PREDICT]
    if not callable(receiver_fn):
        raise ValueError(f"serving_input_receiver_fn must be callable, got {receiver_fn!r}")
    config = model_config(estimator)  # refuses what is not exportable, before any work
    path = _checkpoint(estimator, checkpoint_path)
    extras = _check_assets_extra(assets_extra)
    receiver = receiver_fn()
    if not isinstance(receiver, (ServingInputReceiver, TensorServingInputReceiver)):
        raise ValueError(f"serving_input_receiver_fn must return a ServingInputReceiver or "
                         f"TensorServingInputReceiver, got {type(receiver).__name__}")
    if not isinstance(receiver.features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: "
                         f"{type(receiver.features)} (a TensorServingInputReceiver cannot feed "
                         f"a canned model)")
    values = ckpt.read(path)
    runtime = Runtime(config, values, path)
    _check_features(runtime, receiver)
    signatures = build_signatures(receiver, runtime.example_outputs)

    os.makedirs(export_dir_base, exist_ok=True)
    export_dir = get_timestamped_export_dir(os.fspath(export_dir_base))
    tmp = temp_export_dir(export_dir)
    os.makedirs(tmp)
    try:
        config = _copy_assets(config, tmp)
        variables = runtime.variable_values()
        if "global_step" in values:
            variables["global_step"] = values["global_step"]
        os.makedirs(os.path.join(tmp, VARIABLES_DIR))
        ckpt.write(os.path.join(tmp, VARIABLES_DIR, VARIABLES_PREFIX), variables,
                   ckpt.step_of(path))
        default = DEFAULT_SERVING_KEY if DEFAULT_SERVING_KEY in signatures else (
            "predict" if "predict" in signatures else sorted(signatures)[0])
        _write_json(os.path.join(tmp, MODEL_FILE), config, as_text)
        _write_json(os.path.join(tmp, SAVED_MODEL_FILE), {
            "format": SAVED_MODEL_FORMAT, "version": SAVED_MODEL_VERSION,
            "default": default, "signature_def": signatures,
            "checkpoint": os.path.basename(path)}, as_text)
        for dest, source in extras:
            target = os.path.join(tmp, ASSETS_EXTRA_DIR, dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
        os.rename(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return os.fsencode(export_dir)


def _write_json(path, obj, as_text):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1 if as_text else None, sort_keys=True)
        f.write("\n")


def _copy_assets(config, tmp):
    """Copies vocabulary files into assets/ and points the config at them."""
    copied = {}

    def copy(source):
        if source in copied:
            return copied[source]
        base = os.path.basename(source) or "vocabulary.txt"
        name, n = base, 1
        taken = set(copied.values())
        while f"{ASSETS_DIR}/{name}" in taken:
            stem, ext = os.path.splitext(base)
            name, n = f"{stem}_{n}{ext}", n + 1
        os.makedirs(os.path.join(tmp, ASSETS_DIR), exist_ok=True)
        shutil.copyfile(source, os.path.join(tmp, ASSETS_DIR, name))
        copied[source] = f"{ASSETS_DIR}/{name}"
        return copied[source]
    return map_vocabulary_files(config, copy)


def _check_features(runtime, receiver):
    needed = set()
    from widedeep.feature_column import make_parse_example_spec
    needed = set(make_parse_example_spec(runtime.columns))
    missing = sorted(needed - set(receiver.features))
    if missing:
        raise ValueError(f"serving_input_receiver_fn: the model reads feature(s) {missing} "
                         f"that the receiver does not provide (it gives "
                         f"{sorted(receiver.features)})")


def _feature_sources(features, tensors, where):
    """{feature key: {"input": name[, "parse": spec]}} against one set of receiver
    tensors (by identity)."""
    names = {id(t): n for n, t in tensors.items()}
    out = {}
    for key, f in sorted(features.items()):
        source = f.source if isinstance(f, ParsedFeature) else f
        if id(source) not in names:
            raise ValueError(f"{where}: feature {key!r} comes from {source!r}, which is not "
                             f"one of the receiver tensors {sorted(tensors)}")
        out[key] = {"input": names[id(source)]}
        if isinstance(f, ParsedFeature):
            out[key]["parse"] = f.spec
    return out


def build_signatures(receiver, export_outputs):
    groups = [(None, receiver.receiver_tensors)] + sorted(
        receiver.receiver_tensors_alternatives.items())
    signatures = {}
    for alt, tensors in groups:
        where = "receiver_tensors" if alt is None else f"receiver_tensors_alternatives[{alt!r}]"
        features = _feature_sources(receiver.features, tensors, where)
        for key, out in sorted(export_outputs.items()):
            inputs, feats = {n: t.to_json() for n, t in sorted(tensors.items())}, features
            if isinstance(out, (ClassificationOutput, RegressionOutput)):
                # TF: 'Classification/Regression input must be a single string Tensor'
                (only,) = tensors.values() if len(tensors) == 1 else (None,)
                if only is None or only.dtype != "string":
                    continue
                (name,) = tensors
                inputs = {"inputs": only.to_json()}
                feats = {k: {**v, "input": "inputs"} for k, v in features.items()
                         if v["input"] == name}
            signatures[key if alt is None else f"{alt}:{key}"] = {
                "method_name": out.method_name, "inputs": inputs,
                "outputs": describe_outputs(out), "export_output": key, "features": feats}
    if not signatures:
        raise ValueError("the export has no valid signature")
    return signatures
