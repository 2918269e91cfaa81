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


def test_an_address_it_cannot_listen_on_is_one_line_before_any_server(config_path):
    import socket

    from socialsim.core.errors import SocialsimError

    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    busy = held.getsockname()[1]
    try:
        cases = [
            (["--port", "-1"], "--port: -1 is not a port; use one from 1 to 65535"),
            (["--port", "99999999"], "--port: 99999999 is not a port"),
            (["--host", "no such host!"], "--host: 'no such host!' is not an address"),
            (["--port", str(busy)], f"cannot listen on 127.0.0.1:{busy}: "),
        ]
        for args, message in cases:
            result = CliRunner().invoke(app, ["dashboard", str(config_path), *args])
            assert isinstance(result.exception, SocialsimError), args
            assert message in str(result.exception), (args, str(result.exception))
            assert "http://" not in result.output  # refused before announcing a server
    finally:
        held.close()
