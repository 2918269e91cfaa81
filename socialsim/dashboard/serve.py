"""Serving the dashboard: check the extra is installed and the path, then run the page with
``solara run`` in production mode, offline (assets served locally, no telemetry)."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from socialsim.core.errors import ConfigError, SocialsimError
from socialsim.dashboard.target import ENV_VAR, Target, resolve_target

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


def check_address(host: str, port: int) -> None:
    """Refuse, in one line, a port out of range, a host that does not resolve, and an address
    this machine cannot listen on (a port in use): found by binding it here first."""
    if not 1 <= port <= 65535:
        raise SocialsimError(f"--port: {port} is not a port; use one from 1 to 65535 (e.g. 8765)")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise SocialsimError(
            f"--host: {host!r} is not an address of this machine ({exc}); use 127.0.0.1"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise SocialsimError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port "
                "(or stop what holds it)"
            ) from None


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """In the server's process: SIGTERM when the dashboard's process dies (Linux), however."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG, kept across exec
    except (OSError, AttributeError):
        pass


def _stop(process: subprocess.Popen) -> int:
    """Stop the server: SIGTERM, then SIGKILL after 10 s; its exit code."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def serve(
    path: str | Path, overrides: list[str], host: str, port: int, plugins: bool = False
) -> int:
    """Serve the dashboard for `path` until interrupted; the server's exit code.

    The server (``solara run``) ends with this process: on Ctrl-C, on SIGTERM (stopped here,
    then this process exits) and on SIGKILL (Linux's parent-death signal reaches it).
    """
    require_dashboard_extra()
    check_address(host, port)
    target = resolve_target(path, overrides, plugins=plugins)
    if not is_loopback(host):
        print(
            f"warning: --host {host} serves the dashboard beyond this machine: anyone who can "
            "reach this address sees the run (its personas, messages and config); use "
            "--host 127.0.0.1 to keep it local",
            file=sys.stderr,
            flush=True,
        )
    print(f"socialsim dashboard: http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    linux = sys.platform.startswith("linux")
    process = subprocess.Popen(
        server_command(host, port),
        env=server_env(target),
        preexec_fn=_die_with_parent if linux else None,  # noqa: PLW1509
    )

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return _stop(process)
    except SystemExit:
        _stop(process)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
