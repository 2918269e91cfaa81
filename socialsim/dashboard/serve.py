"""Serving the dashboard: check the extra is installed and the path, then run the page with
``solara run`` in production mode, offline (assets served locally, no telemetry)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from socialsim.dashboard.target import ENV_VAR, Target, resolve_target
from socialsim.errors import ConfigError

APP_MODULE = "socialsim.dashboard.app"
NEEDED = ("solara", "altair")  # altair: mesa.visualization imports it


def require_dashboard_extra() -> None:
    """ConfigError naming the extra when solara (or what Mesa's SolaraViz needs) is missing."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not installed; install the dashboard extra: "
            "pip install 'socialsim[dashboard]'"
        )


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line serving the page."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def server_env(target: Target, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the server: the target, no telemetry, no hook-rule warnings."""
    env = dict(os.environ if environ is None else environ)
    env[ENV_VAR] = target.to_env()
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    env.setdefault("SOLARA_CHECK_HOOKS", "off")
    return env


def serve(path: str | Path, overrides: list[str], host: str, port: int) -> int:
    """Serve the dashboard for `path` until interrupted; the server's exit code."""
    require_dashboard_extra()
    target = resolve_target(path, overrides)
    print(f"socialsim dashboard: http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    process = subprocess.Popen(server_command(host, port), env=server_env(target))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
