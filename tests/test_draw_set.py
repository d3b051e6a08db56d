"""draw expr --set: a name the expression does not have, or a value that is not a finite number, is refused."""

from __future__ import annotations

import pytest

from microgrid.app.cli import main


@pytest.mark.parametrize(
    "values, message",
    [
        (["w=1", "x=2", "zzz=5"], "--set zzz: not a variable of the expression (w, x)"),
        (["w=nan", "x=2"], "--set w: expected a finite number, got 'nan'"),
        (["w=1", "x=-inf"], "--set x: expected a finite number, got '-inf'"),
        (["w=1e999", "x=1"], "--set w: expected a finite number, got '1e999'"),
    ],
)
def test_draw_set_refuses_unknown_names_and_non_finite_values(values, message, capsys, tmp_path):
    assert main(["draw", "expr", "w*x", "--set", *values, "-o", str(tmp_path / "e.dot")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "e.dot").exists()


def test_draw_set_of_the_expressions_names_draws(capsys, tmp_path):
    assert main(["draw", "expr", "w*x", "--set", "w=1.5", "x=2", "-o", str(tmp_path / "e.dot")]) == 0
    assert "d/dw = 2" in capsys.readouterr().out and (tmp_path / "e.dot").exists()
