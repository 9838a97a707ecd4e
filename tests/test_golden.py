"""Golden output: build tests/golden/site and compare with tests/golden/expected.

After an intended change to the output, regenerate with `make golden`
(`pytest tests/test_golden.py --update-golden`) and review the diff in git.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from conftest import read_tree
from generator.engine.build import build

GOLDEN = Path(__file__).parent / "golden"


def test_golden_site(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    site = tmp_path / "site"
    shutil.copytree(GOLDEN / "site", site)
    result = build(site, output=tmp_path / "out")
    assert result.ok, list(result.diagnostics)
    actual = read_tree(tmp_path / "out")  # (the build's manifest is kept outside the output)
    expected_dir = GOLDEN / "expected"
    if request.config.getoption("--update-golden"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel, data in actual.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(data)
    expected = read_tree(expected_dir)
    assert sorted(actual) == sorted(expected), "the set of output files changed; run `make golden` if intended"
    for rel in sorted(expected):
        if actual[rel] != expected[rel]:
            diff = difflib.unified_diff(
                expected[rel].decode().splitlines(), actual[rel].decode().splitlines(),
                f"expected/{rel}", f"actual/{rel}", lineterm="",
            )
            pytest.fail("\n".join(diff) + "\n(run `make golden` if this change is intended)")
