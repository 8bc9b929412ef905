"""Loading an export (widedeep.export's directory) and running its signatures,
as `tf.saved_model.load(path).signatures[key](**inputs)` does, without the Estimator:

    model = widedeep.saved_model.load(export_dir)
    model.signatures["serving_default"](inputs=[serialized tf.train.Example, ...])
    # -> {"classes": object array of bytes [n, 2], "scores": float32 [n, 2]}
    model.signatures["predict"](examples=[...])          # parsing receiver
    model.signatures["predict"](age=[39.0], education=["Bachelors"], ...)  # raw receiver

`load` reads saved_model.json, model.json and variables/variables.h5 once,
rebuilds the canned model (columns from their JSON, the head, the DNN and
linear parts) with the variables, and runs it once on a dummy example so that
each call only computes. Nothing in the directory is executed: it is JSON,
HDF5 and vocabulary text.
"""

import json
import os

import numpy as np

from widedeep import checkpoint as ckpt
from widedeep.export.example_proto import (
    FLOAT,
    _spec_kind,
    one_value_fields,
    one_value_row,
    one_value_rows,
    parse_examples,
)
from widedeep.export.exporter import (
    MODEL_FILE,
    SAVED_MODEL_FILE,
    SAVED_MODEL_FORMAT,
    SAVED_MODEL_VERSION,
    VARIABLES_DIR,
    VARIABLES_PREFIX,
)
from widedeep.export.receivers import TensorSpec, feature_spec_from_json
from widedeep.export.runtime import MODEL_FORMAT, MODEL_VERSION, Runtime, map_vocabulary_files
from widedeep.feature_column import VarLenFeature


class SavedModelError(ValueError):
    """An export directory that is missing a file, or holds one that is not ours,
    of another version, or inconsistent. The message names the file."""


def _read_json(path, fmt, version):
    if not os.path.isfile(path):
        raise SavedModelError(f"{path} does not exist: not a widedeep export directory (or "
                              f"an incomplete one)")
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SavedModelError(f"{path} is not readable JSON: {e}") from None
    if not isinstance(d, dict) or d.get("format") != fmt:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise SavedModelError(f"{path}: format {got!r} is not {fmt!r}")
    if d.get("version") != version:
        raise SavedModelError(f"{path}: version {d.get('version')!r} is not supported "
                              f"(this widedeep reads version {version})")
    return d


def _asset_path(export_dir, rel, where):
    root = os.path.realpath(export_dir)
    if not isinstance(rel, str) or not rel or os.path.isabs(rel):
        raise SavedModelError(f"{where}: asset path {rel!r} must be relative to the export "
                              f"directory")
    full = os.path.realpath(os.path.join(root, rel))
    if os.path.commonpath([full, root]) != root:
        raise SavedModelError(f"{where}: asset path {rel!r} escapes the export directory "
                              f"{export_dir}")
    if not os.path.isfile(full):
        raise SavedModelError(f"{where}: asset {rel!r} does not exist in {export_dir}")
    return full


class Signature:
    """One signature: call it with its inputs by name; returns {output: ndarray}.

    Attributes:
      method_name: 'tensorflow/serving/classify' | '.../regress' | '.../predict'.
      inputs: {name: TensorSpec}; outputs: {name: {"dtype", "shape"}}.
      feature_sources: {feature key: {"input": name, "parse": spec (if parsed)}}.
    """

    def __init__(self, key, entry, runtime, where):
        self.key, self.method_name = key, entry["method_name"]
        self.inputs = {n: TensorSpec.from_json(s, n) for n, s in entry["inputs"].items()}
        self.outputs = dict(entry["outputs"])
        self._export_key = entry["export_output"]
        if self._export_key not in runtime.example_outputs:
            raise SavedModelError(f"{where}: signature {key!r} reads export output "
                                  f"{self._export_key!r}, which the model does not give")
        self._runtime = runtime
        self.feature_sources = dict(entry["features"])  # {feature: {"input", "parse"?}}
        parse, raw = {}, {}
        for fkey, src in entry["features"].items():
            if src["input"] not in self.inputs:
                raise SavedModelError(f"{where}: signature {key!r}: feature {fkey!r} comes "
                                      f"from unknown input {src['input']!r}")
            if "parse" in src:
                parse.setdefault(src["input"], {})[fkey] = feature_spec_from_json(src["parse"])
            else:
                raw[fkey] = src["input"]
        self._parse, self._raw = parse, raw
        self._rows = self._row_plan(runtime)

    def __repr__(self):
        return (f"Signature({self.key!r}, method_name={self.method_name!r}, "
                f"inputs={sorted(self.inputs)}, outputs={sorted(self.outputs)})")

    def features(self, inputs):
        """The model's features for {input name: value} (checked against the specs)."""
        missing = sorted(set(self.inputs) - set(inputs))
        extra = sorted(set(inputs) - set(self.inputs))
        if missing or extra:
            raise TypeError(f"signature {self.key!r} takes inputs {sorted(self.inputs)}; "
                            f"{'missing ' + str(missing) if missing else ''}"
                            f"{'; ' if missing and extra else ''}"
                            f"{'unexpected ' + str(extra) if extra else ''}")
        values = {n: self.inputs[n].check(v, f"signature {self.key!r} input {n!r}")
                  for n, v in inputs.items()}
        sizes = {n: v.shape[0] for n, v in values.items() if v.ndim}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"signature {self.key!r}: inputs have different batch sizes "
                             f"{sizes}")
        features = {}
        for name, spec in self._parse.items():
            features.update(parse_examples(list(values[name]), spec))
        for fkey, name in self._raw.items():
            features[fkey] = values[name]
        return features

    def _row_plan(self, runtime):
        """How to feed the runtime's single-valued row path (see widedeep.export.rows)
        from this signature's inputs: ('parse', input name, {key: (kind, default)},
        sparse keys) or ('raw', {feature key: input name}); None when it cannot
        (several parsed inputs, a feature of more than one value per example)."""
        rows = runtime._rows
        if rows is None:
            return None
        if self._parse and not self._raw and len(self._parse) == 1:
            (name, spec), = self._parse.items()
            specs, sparse = {}, set()
            for key, s in spec.items():
                kind = _spec_kind(s.dtype, key)
                if isinstance(s, VarLenFeature):
                    specs[key] = (kind, None)
                    sparse.add(key)
                elif tuple(s.shape) == (1,) or tuple(s.shape) == ():
                    default = None if s.default_value is None else \
                        np.asarray(s.default_value).reshape(-1)[0].item()
                    if isinstance(default, str):
                        default = default.encode("utf-8")
                    elif kind == FLOAT and default is not None:
                        # as parse_examples gives it (and an exact float32, which the
                        # one-row path requires of numbers)
                        default = float(np.float32(default))
                    specs[key] = (kind, default)
                else:
                    return None
            if not rows.keys <= set(specs) or any(
                    specs[k][0] == "bytes" for k in rows.numeric_keys):
                return None  # strings where the model wants numbers: the slow path says so
            return "parse", name, specs, frozenset(sparse), one_value_fields(specs)
        if not self._parse and rows.keys <= set(self._raw):
            if any(self.inputs[self._raw[k]].dtype == "string" for k in rows.numeric_keys):
                return None
            one = []  # for one example: (key, input, is a string, shape of one value)
            for k in sorted(rows.keys):
                spec = self.inputs[self._raw[k]]
                if spec.dtype not in ("string", "float32") or len(spec.shape) not in (1, 2) \
                        or any(d not in (None, 1) for d in spec.shape):
                    one = None  # (the batch path, which knows the rest)
                    break
                one.append((k, self._raw[k], spec.dtype == "string", (1,) * len(spec.shape)))
            return "raw", {k: self._raw[k] for k in rows.keys}, one
        return None

    def _one_raw_row(self, inputs, one):
        """{feature key: value} from raw inputs holding one example each (an ndarray,
        or a list of one value), as `TensorSpec.check` and the batch path read them:
        a str or bytes, or a Python float that is a float32; else None."""
        row = {}
        for key, name, string, shape in one:
            a = inputs[name]
            if type(a) is np.ndarray:
                if a.shape != shape or a.dtype.kind not in ("OSU" if string else "f"):
                    return None
                v = a.item(0)
                exact = a.dtype == np.float32
            elif type(a) in (list, tuple) and len(a) == 1 and len(shape) == 1:
                v, exact = a[0], False
            else:
                return None
            if string:
                if not isinstance(v, (str, bytes)):
                    return None
            elif type(v) is not float:  # ints and the rest: the batch path
                return None
            elif not exact:
                v = float(np.float32(v))  # as check's astype(float32)
            row[key] = v
        return row

    def _fast_outputs(self, inputs):
        """The export output for single-valued rows, or None (then the general path)."""
        plan = self._rows
        if plan is None or len(inputs) != len(self.inputs) or any(
                n not in self.inputs for n in inputs):
            return None
        if plan[0] == "parse":
            _, name, specs, sparse, fields = plan
            items = inputs[name]
            if isinstance(items, np.ndarray):
                if items.dtype != object or items.ndim != 1:
                    return None
                items = items.tolist()
            elif not isinstance(items, (list, tuple)):
                return None
            if len(items) == 1:
                row = one_value_row(items[0], fields)
                return None if row is None else self._outputs_of_row(row, sparse)
            rows = one_value_rows(items, specs)
            n = len(items)
        else:
            if plan[2] is not None:
                row = self._one_raw_row(inputs, plan[2])
                if row is not None:
                    return self._outputs_of_row(row, frozenset())
            rows, n = {}, None
            sparse = frozenset()
            for fkey, name in plan[1].items():
                a = self.inputs[name].check(inputs[name], f"signature {self.key!r} input "
                                                          f"{name!r}")
                if a.ndim == 2 and a.shape[1] == 1:
                    a = a[:, 0]
                if a.ndim != 1 or (n is not None and len(a) != n):
                    return None
                rows[fkey], n = a, len(a)
        if rows is None:
            return None
        try:
            return self._runtime.export_outputs_of_rows(rows, n, sparse)
        except (ValueError, TypeError, KeyError, IndexError, UnicodeError):
            return None  # the general path raises the error, worded

    def _outputs_of_row(self, row, form):
        try:
            return self._runtime.export_outputs_of_row(row, form)
        except (ValueError, TypeError, KeyError, IndexError, UnicodeError):
            return None  # the general path raises the error, worded

    def __call__(self, **inputs):
        outputs = self._fast_outputs(inputs)
        if outputs is None:
            outputs = self._runtime.export_outputs(self.features(inputs))
        outs = outputs[self._export_key].as_signature_outputs()
        return {k: np.asarray(outs[k]) for k in self.outputs}


class Signatures(dict):
    """{signature key: Signature}, as a loaded SavedModel's `.signatures`."""


class LoadedModel:
    """What `load` returns: `.signatures`, `.default_signature`, `.export_dir`,
    `.global_step`, `.model_config`."""

    def __init__(self, export_dir, saved, config, runtime, signatures, global_step):
        self.export_dir, self.saved_model_config, self.model_config = export_dir, saved, config
        self._runtime, self.signatures, self.global_step = runtime, signatures, global_step
        self.default_signature = saved.get("default")


def load(path):
    """Loads an export directory (str or bytes, as export_saved_model returns).

    Raises:
      SavedModelError: a missing or unreadable file, an unknown format or
        version, an asset path outside the directory, a variable missing.
    """
    export_dir = os.fsdecode(path)
    if not os.path.isdir(export_dir):
        raise SavedModelError(f"{export_dir} is not a directory")
    saved_path = os.path.join(export_dir, SAVED_MODEL_FILE)
    model_path = os.path.join(export_dir, MODEL_FILE)
    saved = _read_json(saved_path, SAVED_MODEL_FORMAT, SAVED_MODEL_VERSION)
    config = _read_json(model_path, MODEL_FORMAT, MODEL_VERSION)
    config = map_vocabulary_files(config, lambda rel: _asset_path(export_dir, rel, model_path))
    var_prefix = os.path.join(export_dir, VARIABLES_DIR, VARIABLES_PREFIX)
    try:
        values = ckpt.read(var_prefix)
    except ckpt.CheckpointError as e:
        raise SavedModelError(str(e)) from None
    try:
        runtime = Runtime(config, values, var_prefix + ckpt.SUFFIX)
    except SavedModelError:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise SavedModelError(f"{model_path}: the model cannot be rebuilt: {e}") from None
    sigs = saved.get("signature_def")
    if not isinstance(sigs, dict) or not sigs:
        raise SavedModelError(f"{saved_path}: no signature_def")
    signatures = Signatures()
    for key, entry in sorted(sigs.items()):
        try:
            signatures[key] = Signature(key, entry, runtime, saved_path)
        except (KeyError, TypeError) as e:
            raise SavedModelError(f"{saved_path}: signature {key!r} is malformed: "
                                  f"{e!r}") from None
    step = values.get("global_step")
    return LoadedModel(export_dir, saved, config, runtime, signatures,
                       None if step is None else int(step))
