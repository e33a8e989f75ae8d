"""A corpus of tutorial-style programs (tests/tutorials/), written against torch, run twice: with
torch (when installed) and with minicnn after only their imports are rewritten. Both runs start from the
same weights and data (drawn with numpy inside each program) and must agree numerically."""
import pathlib
import re

import numpy as np
import pytest

CORPUS = pathlib.Path(__file__).resolve().parent / "tutorials"
PROGRAMS = sorted(CORPUS.glob("*.py"))

# torch.nn.functional is minicnn.functional; torch.utils.data is minicnn.data; the rest keeps its name
_MODULES = [("torch.nn.functional", "minicnn.functional"), ("torch.utils.data", "minicnn.data"), ("torch", "minicnn")]


def rewrite_imports(source: str) -> str:
    """The only change a user makes: ``import torch`` -> ``import minicnn as torch`` and the like."""
    lines = []
    for line in source.splitlines():
        if re.match(r"\s*import torch\s*$", line):
            line = line.replace("import torch", "import minicnn as torch")
        elif re.match(r"\s*(import|from) torch\b", line):
            for theirs, ours in _MODULES:
                if re.search(rf"\b{re.escape(theirs)}\b", line):
                    line = re.sub(rf"\b{re.escape(theirs)}\b", ours, line, count=1)
                    break
        lines.append(line)
    return "\n".join(lines) + "\n"


def run(path: pathlib.Path, rewrite: bool) -> dict:
    source = path.read_text()
    if rewrite:
        source = rewrite_imports(source)
        assert "import torch\n" not in source
    namespace = {"__name__": "tutorial", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - our own corpus
    return namespace["RESULTS"]


def test_the_import_rewrite_changes_only_imports():
    source = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.utils.data import X\n" \
             "from torch.optim import lr_scheduler\nx = torch.zeros(1)  # torch stays torch here\n"
    assert rewrite_imports(source).splitlines() == [
        "import minicnn as torch", "import minicnn.nn as nn", "import minicnn.functional as F",
        "from minicnn.data import X", "from minicnn.optim import lr_scheduler",
        "x = torch.zeros(1)  # torch stays torch here"]


def _agree(ours, theirs, where: str) -> None:
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for key in theirs:
            _agree(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, (list, tuple)) and any(isinstance(item, (list, tuple, dict, str)) for item in theirs):
        assert len(ours) == len(theirs), where
        for position, (mine, other) in enumerate(zip(ours, theirs)):
            _agree(mine, other, f"{where}[{position}]")
    elif isinstance(theirs, (bool, str)) or theirs is None:
        assert ours == theirs, where
    elif isinstance(theirs, int) and not isinstance(theirs, bool):
        assert int(ours) == theirs, where
    else:
        ours_array, theirs_array = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
        assert ours_array.shape == theirs_array.shape, where
        np.testing.assert_allclose(ours_array, theirs_array, rtol=2e-4, atol=2e-5, err_msg=where)


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_tutorial_runs_under_minicnn_and_agrees_with_torch(program, capsys):
    ours = run(program, rewrite=True)
    assert ours, "the program must report RESULTS"
    try:
        import torch
    except ImportError:
        pytest.skip("torch is not installed: the minicnn run passed, there is nothing to compare with")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these programs are tiny: more threads only contend for the cores
    try:
        theirs = run(program, rewrite=False)
    finally:
        torch.set_num_threads(threads)
    _agree(ours, theirs, program.stem)
