import importlib.util

from typer.testing import CliRunner

from socialsim.cli import app
from socialsim.core.errors import ConfigError
from socialsim.dashboard import serve


def test_dashboard_rejects_a_path_that_is_neither_config_nor_run_dir(tmp_path):
    result = CliRunner().invoke(app, ["dashboard", str(tmp_path)])
    assert isinstance(result.exception, ConfigError)
    assert "not a run or arms directory" in str(result.exception)


def test_dashboard_without_solara_names_the_extra(monkeypatch, config_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        serve.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "solara" else real(name, *a),
    )
    result = CliRunner().invoke(app, ["dashboard", str(config_path)])
    assert isinstance(result.exception, ConfigError)
    assert "pip install 'socialsim[dashboard]'" in str(result.exception)


def test_server_command_binds_the_given_host_and_runs_offline(config_path):
    from socialsim.dashboard.target import ENV_VAR, Target, resolve_target

    command = serve.server_command("127.0.0.1", 9000)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "9000"
    env = serve.server_env(resolve_target(config_path), environ={})
    assert Target.from_env(env).path == str(config_path.resolve())
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert ENV_VAR in env
