"""The tutorials in tutorials/ run top to bottom without errors.

Each notebook is executed by nbclient in a kernel running this interpreter,
in a temporary working directory, with a timeout of 300 s per notebook. The
notebooks check their own results with `assert` (the hand-written tape agrees
with minitf, TF's known hash values, FTRL's sparsity, ...); these tests also
look for key lines in the outputs.

The cells tagged ``needs-export`` use `widedeep.export.export_saved_model` and
`widedeep.saved_model.load`; where those do not exist the cells are left out
and `test_05_export_cells` is skipped with the reason.
"""

import json
import os
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = os.path.join(ROOT, "tutorials")
TF_MODEL_DIR = os.path.join(ROOT, "tests", "reference", "fixtures", "tf_model_dir")
TIMEOUT = 300
NOTEBOOKS = sorted(f for f in os.listdir(TUTORIALS) if f.endswith(".ipynb"))
EXPORT_TAG = "needs-export"


def export_available():
    try:
        from widedeep.export import export_saved_model  # noqa: F401
        from widedeep.saved_model import load  # noqa: F401
    except ImportError:
        return False
    return True


def kernel_manager(tmp_path):
    """A kernel running this interpreter (not whatever 'python3' is on the PATH)."""
    spec_dir = tmp_path / "_kernels" / "widedeep-tests"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "widedeep tests", "language": "python"}))
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    return KernelManager(kernel_name="widedeep-tests", kernel_spec_manager=ksm)


def execute(name, tmp_path, drop_tags=(), env=None):
    """Runs tutorials/<name> in tmp_path; returns the executed notebook."""
    nb = nbformat.read(os.path.join(TUTORIALS, name), as_version=4)
    for cell in nb.cells:
        assert cell.cell_type != "code" or not cell.outputs, (
            f"{name}: commit notebooks with their outputs cleared")
    nb.cells = [c for c in nb.cells if not set(c.metadata.get("tags", ())) & set(drop_tags)]
    work = tmp_path / "work"
    work.mkdir()
    km = kernel_manager(tmp_path)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(nb, km=km, timeout=TIMEOUT,
                                         resources={"metadata": {"path": str(work)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def text_of(nb):
    """Everything the code cells printed, joined."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", ()):
            if o.get("output_type") == "stream":
                out.append(o["text"])
            elif "data" in o and "text/plain" in o["data"]:
                out.append(o["data"]["text/plain"])
    return "\n".join(out)


def test_all_tutorials_are_tested_and_listed():
    assert NOTEBOOKS == [
        "01_autodiff_from_scratch.ipynb", "02_sparse_features.ipynb",
        "03_wide_and_deep_census.ipynb", "04_ftrl_vs_adagrad.ipynb",
        "05_export_and_serving.ipynb", "06_migrating_from_tf_estimator.ipynb"]
    with open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for name in NOTEBOOKS:
        assert name in readme


def test_01_autodiff_from_scratch(tmp_path):
    out = text_of(execute("01_autodiff_from_scratch.ipynb", tmp_path))
    assert "the hand-written tape and minitf's GradientTape agree" in out
    assert "IndexedSlices" in out
    assert "rows changed: [1 4]" in out


def test_02_sparse_features(tmp_path):
    out = text_of(execute("02_sparse_features.ipynb", tmp_path))
    assert "[296 598 263]" in out
    assert "input shape: (3, 12)" in out


def test_03_wide_and_deep_census(tmp_path):
    out = text_of(execute("03_wide_and_deep_census.ipynb", tmp_path))
    assert "step  300" in out
    assert "P(>50K)" in out


def test_04_ftrl_vs_adagrad(tmp_path):
    out = text_of(execute("04_ftrl_vs_adagrad.ipynb", tmp_path))
    assert "FTRL + L1" in out and "zero of touched" in out


def test_05_export_and_serving(tmp_path):
    drop = () if export_available() else (EXPORT_TAG,)
    nb = execute("05_export_and_serving.ipynb", tmp_path, drop_tags=drop)
    out = text_of(nb)
    assert "fresh estimator:" in out and "global_step 200" in out
    if export_available():
        assert "exported to" in out and "from the export:" in out


def test_05_export_cells():
    if not export_available():
        pytest.skip("widedeep.export.export_saved_model / widedeep.saved_model.load do not "
                    "exist yet: the cells tagged "
                    f"{EXPORT_TAG!r} of 05_export_and_serving.ipynb were left out")
    # with export available, test_05_export_and_serving runs those cells too
    nb = nbformat.read(os.path.join(TUTORIALS, "05_export_and_serving.ipynb"), as_version=4)
    assert any(EXPORT_TAG in c.metadata.get("tags", ()) for c in nb.cells)


def test_06_migrating_from_tf_estimator(tmp_path):
    assert os.path.isdir(TF_MODEL_DIR), TF_MODEL_DIR
    nb = execute("06_migrating_from_tf_estimator.ipynb", tmp_path,
                 env={"WIDEDEEP_TF_MODEL_DIR": TF_MODEL_DIR})
    out = text_of(nb)
    assert "TF checkpoint:" in out and "converted 51 tensors" in out
    assert "warm-started model is at step 1" in out


def test_06_without_a_tf_model_dir(tmp_path):
    missing = str(tmp_path / "no_such_model_dir")
    out = text_of(execute("06_migrating_from_tf_estimator.ipynb", tmp_path,
                          env={"WIDEDEEP_TF_MODEL_DIR": missing}))
    assert "No TensorFlow checkpoint in" in out
