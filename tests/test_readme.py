"""The README's Python examples run as written (step counts shortened)."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), "..", "README.md")
BLOCKS = re.findall(r"```python\n(.*?)```", open(README, encoding="utf-8").read(), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_example_runs(i, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = re.sub(r"steps=\d+", "steps=5", BLOCKS[i])
    exec(compile(code, f"README.md example {i}", "exec"), {})


def test_top_level_names_load_lazily():
    import subprocess
    import sys
    code = ("import sys, widedeep; assert 'widedeep.canned' not in sys.modules; "
            "widedeep.DNNLinearCombinedClassifier; assert 'widedeep.canned' in sys.modules; "
            "widedeep.datasets.census_columns()")
    subprocess.run([sys.executable, "-c", code], check=True)
    import widedeep
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        widedeep.nope  # noqa: B018
