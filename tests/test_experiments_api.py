"""The single-device studies called from Python give what the CLI gives (STYLE.md "Thin CLI")."""

from __future__ import annotations

import json

import pytest

from spinspice.cli import main
from spinspice.errors import ModelParameterError
from spinspice.experiments import list_models, run_fieldmap, run_neuron, run_neuron_sweep
from spinspice.experiments.neuron_study import neuron_setup
from spinspice.experiments.results import displayed
from spinspice.io import Result, progress_bar, to_jsonable


def _cli(capsys, *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _plain(report: dict) -> dict:
    """The report as JSON reads it back, without wall-clock times."""
    data = json.loads(json.dumps(to_jsonable(report)))
    data.pop("wall_s", None)
    return data


@pytest.mark.ngspice
def test_run_neuron_gives_the_cli_report_summary_and_files(tmp_path, capsys) -> None:
    cli_out = tmp_path / "cli"
    cli = json.loads(
        _cli(capsys, "neuron", "--duration", "40n", "--param", "t_on=1n", "--json", "--out", str(cli_out))
    )
    text = _cli(capsys, "neuron", "--duration", "40n", "--param", "t_on=1n", "--out", str(tmp_path / "api"))

    result = run_neuron("dw-lif", params={"t_on": "1n"}, duration_s=40e-9, out=tmp_path / "api")
    assert isinstance(result, Result) and result.out == tmp_path / "api"
    report = result.report()
    assert report["n_spikes"] == cli["n_spikes"] >= 1
    assert _plain(report) == _plain(cli)
    assert result.summary() + "\n" == text

    folder = result.write(tmp_path / "again")
    assert folder == tmp_path / "again"
    assert {p.name for p in folder.iterdir()} == {p.name for p in cli_out.iterdir()}
    assert json.loads((folder / "report.json").read_text()) == json.loads(json.dumps(to_jsonable(report)))


@pytest.mark.ngspice
def test_run_neuron_without_out_writes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_neuron(duration_s="20n", reference=False)
    assert result.out is None and list(tmp_path.iterdir()) == []
    assert "report:" not in result.summary()
    assert result.report()["drive"]["duration_s"] == pytest.approx(20e-9)


def test_drive_settings_in_params_as_today() -> None:
    as_param = neuron_setup("dw-lif", params={"t_on": "2n", "t_off_s": "3n"}).drive
    as_argument = neuron_setup("dw-lif", t_on_s=2e-9, t_off_s="3n").drive
    assert as_param == as_argument and as_param.t_on_s == pytest.approx(2e-9)
    assert neuron_setup("dw-lif", params={"t_on": "2n"}, t_on_s="4n").drive.t_on_s == pytest.approx(4e-9)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: run_neuron("mtj-read"), "not a neuron model"),
        (lambda: run_neuron(params={"m_th": "1.5"}), "(-1, 1)"),
        (lambda: run_neuron(duration_s="-5n"), "duration"),
        (lambda: run_neuron_sweep(sweep="i_write_a", values=[1e-3]), "use --j-write"),
        (lambda: run_neuron_sweep(sweep="t_on_s", values=[1e-9]), "cannot sweep"),
    ],
)
def test_bad_settings_raise_before_simulating(call, needle) -> None:
    with pytest.raises(ModelParameterError) as err:
        call()
    assert needle in str(err.value)


def test_list_models_gives_the_cli_listing(tmp_path, capsys) -> None:
    text = _cli(capsys, "models", "dw-lif")
    cli = json.loads(_cli(capsys, "models", "dw-lif", "--json"))
    result = list_models("dw-lif")
    assert result.summary() + "\n" == text
    assert _plain(result.report()) == cli
    assert json.loads((result.write(tmp_path) / "models.json").read_text()) == cli


def test_run_fieldmap_gives_the_cli_report_summary_and_files(tmp_path, capsys) -> None:
    grid = ["--currents", "10m", "--fields", "-300:300:100", "--pulses", "3", "--circuit-fields", ""]
    cli = json.loads(_cli(capsys, "fieldmap", *grid, "--json", "--out", str(tmp_path / "cli")))
    text = _cli(capsys, "fieldmap", *grid, "--out", str(tmp_path / "api"))

    fields = [-300.0, -200.0, -100.0, 0.0, 100.0, 200.0, 300.0]
    result = run_fieldmap(
        currents_a=[10e-3], fields_oe=fields, n_pulses=3, circuit_fields_oe=[], out=tmp_path / "api"
    )
    assert _plain(result.report()) == _plain(cli)
    assert result.summary() + "\n" == text
    folder = result.write(tmp_path / "again")
    assert {p.name for p in folder.iterdir()} == {"fieldmap.json", "fieldmap.md", "fieldmap.png"}
    written = json.loads((folder / "fieldmap.json").read_text())
    assert _plain(written) == _plain(result.report())


def test_progress_is_shown_only_while_the_work_runs(monkeypatch) -> None:
    with displayed(None) as quiet:
        quiet.advance(quiet.add_task("nothing", total=1))
    assert progress_bar().disable  # stderr is no terminal here: a log or a pipe gets no bar
    monkeypatch.setenv("FORCE_COLOR", "1")  # as on a terminal
    bar = progress_bar()
    assert not bar.disable
    with displayed(bar) as shown:
        assert shown is bar and bar.live.is_started
    assert not bar.live.is_started
    with bar:
        with displayed(bar):
            pass
        assert bar.live.is_started  # a display the caller started stays the caller's
