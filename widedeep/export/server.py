"""A small TF-Serving-like REST server for an export (http.server, no dependencies).

    python -c "from widedeep.export.server import serve; serve('exports/census')"

Routes (TF Serving's REST API; <name> is the model name, any name unless
`model_name` is given; an optional ``/versions/<n>`` is accepted):

    GET  /v1/models/<name>           -> {"model_version_status": [{"version", "state", ...}]}
    GET  /v1/models/<name>/metadata  -> {"model_spec": ..., "metadata": {"signature_def"}}
    POST /v1/models/<name>:predict   {"signature_name"?, "instances": [...]}
                                     -> {"predictions": [...]}
                                     {"signature_name"?, "inputs": {...}} -> {"outputs": ...}
    POST /v1/models/<name>:classify  {"signature_name"?, "context"?, "examples": [{...}]}
                                     -> {"result": [[[class, score], ...], ...]}
    POST /v1/models/<name>:regress   same request -> {"result": [value, ...]}

As in TF Serving: a row ("instances") holds {input: value} (or the bare value
when the signature has one input); a binary string is {"b64": "..."}; the
columnar form ("inputs") answers with "outputs". classify/regress encode each
example (the context merged in) as a tf.train.Example; numbers are stored as the
signature's parse spec wants them (an int for a float feature becomes a float).
Bad requests get 400 and {"error": "..."} naming the problem; unknown paths 404.
"""

import base64
import json
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from widedeep.export.example_proto import encode_example

_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?(?::(predict|classify|regress)|"
                   r"(/metadata))?/?$")
_METHODS = {"classify": "tensorflow/serving/classify", "regress": "tensorflow/serving/regress"}


class BadRequest(ValueError):
    pass


def resolve_export_dir(path):
    """(export dir, version): `path` itself if it holds saved_model.json, else its
    newest numeric subdirectory that does."""
    path = os.fsdecode(path)
    if os.path.isfile(os.path.join(path, "saved_model.json")):
        base = os.path.basename(os.path.normpath(path))
        return path, int(base) if base.isdigit() else 1
    versions = sorted((int(d) for d in os.listdir(path) if d.isdigit() and os.path.isfile(
        os.path.join(path, d, "saved_model.json"))), reverse=True) if os.path.isdir(path) else []
    if not versions:
        raise ValueError(f"serve: no export (saved_model.json) in {path} or its numbered "
                         f"subdirectories")
    return os.path.join(path, str(versions[0])), versions[0]


def _decode(v):
    if isinstance(v, dict):
        if set(v) == {"b64"}:
            try:
                return base64.b64decode(v["b64"], validate=True)
            except (ValueError, TypeError) as e:
                raise BadRequest(f"bad base64 value: {e}") from None
        raise BadRequest(f"unexpected object {json.dumps(v)[:100]} (only {{\"b64\": ...}} "
                         f"is allowed as a value)")
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def _jsonable(a):
    a = np.asarray(a)
    if a.dtype.kind == "O" or a.dtype.kind == "S":
        def conv(x):
            if isinstance(x, bytes):
                try:
                    return x.decode("utf-8")
                except UnicodeDecodeError:
                    return {"b64": base64.b64encode(x).decode()}
            return x
        return np.vectorize(conv, otypes=[object])(a).tolist() if a.size else a.tolist()
    return a.tolist()


class ModelService:
    """The request logic, apart from HTTP (so it is testable on its own)."""

    def __init__(self, export_dir, model_name=None):
        from widedeep import saved_model
        self.export_dir, self.version = resolve_export_dir(export_dir)
        self.model = saved_model.load(self.export_dir)
        self.model_name = model_name

    def _signature(self, body, method=None):
        name = body.get("signature_name") or self.model.default_signature
        if method is not None and "signature_name" not in body:
            name = "serving_default"
        sig = self.model.signatures.get(name)
        if sig is None:
            raise BadRequest(f"Serving signature name: \"{name}\" not found in signature def; "
                             f"the model has {sorted(self.model.signatures)}")
        if method is not None and sig.method_name != _METHODS[method]:
            raise BadRequest(f"Expected {method} signature method_name to be "
                             f"{_METHODS[method]}. Was: {sig.method_name}")
        return sig

    def status(self):
        return {"model_version_status": [{"version": str(self.version), "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}

    def metadata(self, name):
        return {"model_spec": {"name": name, "signature_name": "",
                               "version": str(self.version)},
                "metadata": {"signature_def": {
                    "signature_def": self.model.saved_model_config["signature_def"]}}}

    def predict(self, body):
        sig = self._signature(body)
        names = sorted(sig.inputs)
        if ("instances" in body) == ("inputs" in body):
            raise BadRequest("the request must hold exactly one of \"instances\" (row format) "
                             "or \"inputs\" (columnar format)")
        if "instances" in body:
            rows = body["instances"]
            if not isinstance(rows, list) or not rows:
                raise BadRequest("\"instances\" must be a non-empty list")
            columns = {n: [] for n in names}
            for i, row in enumerate(rows):
                if not (isinstance(row, dict) and set(row) != {"b64"}):
                    if len(names) != 1:
                        raise BadRequest(f"instance {i}: the signature takes inputs {names}; "
                                         f"each instance must be an object naming them")
                    row = {names[0]: row}
                missing = sorted(set(names) - set(row))
                extra = sorted(set(row) - set(names))
                if missing or extra:
                    raise BadRequest(f"instance {i}: inputs {sorted(row)} do not match the "
                                     f"signature's {names}")
                for n in names:
                    columns[n].append(_decode(row[n]))
            out = self._run(sig, columns)
            keys = sorted(out)
            n = len(rows)
            if len(keys) == 1:
                return {"predictions": _jsonable(out[keys[0]])}
            lists = {k: _jsonable(out[k]) for k in keys}
            return {"predictions": [{k: lists[k][i] for k in keys} for i in range(n)]}
        inputs = body["inputs"]
        if not isinstance(inputs, dict) or (len(names) == 1 and names[0] not in inputs):
            inputs = {names[0]: inputs} if len(names) == 1 else inputs
        if not isinstance(inputs, dict):
            raise BadRequest(f"\"inputs\" must be an object naming the inputs {names}")
        out = self._run(sig, {k: _decode(v) for k, v in inputs.items()})
        if len(out) == 1:
            return {"outputs": _jsonable(next(iter(out.values())))}
        return {"outputs": {k: _jsonable(v) for k, v in sorted(out.items())}}

    def _run(self, sig, inputs):
        try:
            return sig(**inputs)
        except (TypeError, ValueError) as e:
            raise BadRequest(str(e)) from None

    def classify_or_regress(self, body, method):
        sig = self._signature(body, method)
        examples = body.get("examples")
        if not isinstance(examples, list) or not examples:
            raise BadRequest("\"examples\" must be a non-empty list of {feature: value} objects")
        context = body.get("context") or {}
        if not isinstance(context, dict):
            raise BadRequest("\"context\" must be an object {feature: value}")
        kinds = {k: (s["parse"]["dtype"] if "parse" in s else None)
                 for k, s in sig.feature_sources.items()}
        serialized = []
        for i, ex in enumerate(examples):
            if not isinstance(ex, dict):
                raise BadRequest(f"example {i}: expected an object {{feature: value}}, got "
                                 f"{json.dumps(ex)[:80]}")
            feats = {}
            for k, v in {**context, **ex}.items():
                v = _decode(v)
                v = v if isinstance(v, list) else [v]
                if kinds.get(k) == "float32" and all(
                        isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                    v = np.asarray(v, np.float32)
                feats[k] = v
            try:
                serialized.append(encode_example(feats))
            except (TypeError, ValueError) as e:
                raise BadRequest(f"example {i}: {e}") from None
        out = self._run(sig, {"inputs": serialized})
        if method == "regress":
            return {"result": np.asarray(out["outputs"]).reshape(len(examples), -1)[:, 0]
                    .tolist()}
        scores = out.get("scores")
        classes = out.get("classes")
        result = []
        for i in range(len(examples)):
            s = [] if scores is None else np.asarray(scores[i]).tolist()
            c = [""] * len(s) if classes is None else _jsonable(classes[i])
            if not s:
                s = [None] * len(c)
            result.append([[ci, si] for ci, si in zip(c, s)])
        return {"result": result}


def _handler(service):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out as two writes: with Nagle's algorithm the
        # body waits for the client's delayed ACK of the headers (~40 ms a request).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # quiet; TF Serving logs elsewhere
            pass

        def _send(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self):
            m = _PATH.match(self.path.split("?")[0])
            if m is None:
                self._send(404, {"error": f"unknown path {self.path}; expected "
                                          f"/v1/models/<name>[:predict|:classify|:regress]"})
                return None
            name, version, verb, meta = m.groups()
            if service.model_name is not None and name != service.model_name:
                self._send(404, {"error": f"Servable not found for request: Latest({name})"})
                return None
            if version is not None and int(version) != service.version:
                self._send(404, {"error": f"Servable not found for request: "
                                          f"Specific({name}, {version})"})
                return None
            return name, verb, meta

        def do_GET(self):
            r = self._route()
            if r is None:
                return
            name, verb, meta = r
            if verb is not None:
                self._send(405, {"error": f"use POST for :{verb}"})
            elif meta:
                self._send(200, service.metadata(name))
            else:
                self._send(200, service.status())

        def do_POST(self):
            r = self._route()
            if r is None:
                return
            name, verb, meta = r
            if verb is None:
                self._send(405, {"error": "POST needs :predict, :classify or :regress"})
                return
            try:
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(n) or b"null")
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    raise BadRequest(f"the body is not valid JSON: {e}") from None
                if not isinstance(body, dict):
                    raise BadRequest("the body must be a JSON object")
                out = (service.predict(body) if verb == "predict"
                       else service.classify_or_regress(body, verb))
            except BadRequest as e:
                self._send(400, {"error": str(e)})
                return
            except Exception as e:  # noqa: BLE001 - a server answers, whatever failed
                self._send(500, {"error": f"{type(e).__name__}: {e}"})
                return
            self._send(200, out)
    return Handler


def make_server(export_dir, host="127.0.0.1", port=8501, model_name=None):
    """The HTTP server (not started): call `.serve_forever()`, `.shutdown()`;
    port 0 picks a free port (`.server_address`)."""
    service = ModelService(export_dir, model_name)
    server = ThreadingHTTPServer((host, port), _handler(service))
    server.service = service
    return server


def serve(export_dir, host="127.0.0.1", port=8501, model_name=None):
    """Serves `export_dir` (an export, or a base directory: its newest export) until
    interrupted."""
    server = make_server(export_dir, host, port, model_name)
    print(f"serving {server.service.export_dir} on http://{host}:{server.server_address[1]}"
          f"/v1/models/{model_name or '<any name>'}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
