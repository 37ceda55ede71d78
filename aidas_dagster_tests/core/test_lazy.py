"""Heavy libraries load on first use: a process that loads the code location without a paid call
never executes them, and a missing one is still named at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aidas_dagster.core.lazy import lazy_import


def test_a_lazy_module_runs_on_first_attribute_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "heavy_probe.py").write_text("import pathlib\npathlib.Path(__file__).with_name('ran').touch()\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = lazy_import("heavy_probe")
    try:
        assert not (tmp_path / "ran").exists()
        assert module.VALUE == 42
        assert (tmp_path / "ran").exists()
        assert lazy_import("heavy_probe") is module
    finally:
        sys.modules.pop("heavy_probe", None)


def test_a_missing_package_is_named_at_import():
    with pytest.raises(ModuleNotFoundError, match="no_such_sdk_here"):
        lazy_import("no_such_sdk_here")


def test_loading_the_code_location_leaves_the_sdks_and_pandas_unloaded():
    # A package that ran has imported its submodules; a lazy one that did not run has none.
    inner = ("openai._client", "elevenlabs.client", "pandas.core.frame")
    code = f"import sys; from aidas_dagster.definitions import defs; print([n for n in {inner!r} if n in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
