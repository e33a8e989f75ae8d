"""``minicnn experiment NAME --quick``: every experiment runs headless and writes its table, figure and report."""
import json

import pytest

from minicnn.cli import main
from minicnn.experiments import EXPERIMENTS

pytest.importorskip("matplotlib")


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_quick_experiment_writes_report_figure_and_results(name, tmp_path, capsys):
    out = tmp_path / name
    assert main(["experiment", name, "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    report = (out / "report.md").read_text()
    assert (out / "figure.png").read_bytes()[:4] == b"\x89PNG"
    assert results["quick"] is True and results["rows"] and all(len(row) == len(results["columns"])
                                                                 for row in results["rows"])
    # The report and the printed table carry this run's numbers.
    for row in results["rows"]:
        assert "| " + " | ".join(str(cell) for cell in row) + " |" in report
        assert str(row[0]) in printed
    assert "What this run shows" in report and "figure.png" in report


def test_unknown_experiment_and_bad_data_dir_end_with_exit_code_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["experiment", "nope"])
    assert stop.value.code == 2
    assert main(["experiment", "gap-vs-fc", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "--data-dir" in capsys.readouterr().err
