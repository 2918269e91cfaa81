"""Running the bad-input corpus: each case in its own folder and process, measured.

A case's folder gets its files, links, FIFOs and fixture; the command runs with that folder
as its working directory, stdin empty, stdout and stderr to files, a memory limit, and its
own process group (so a sweep's workers die with it). :func:`run_cases` returns what
happened (exit status, stderr, CPU and wall seconds, the seconds it waited for a CPU on a
loaded machine, files added or changed); judging it is the benchmark's job.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import resource
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bad_input_cases import Case

#: what the commands import on first use (a forked case then pays only for its own work)
WARM = (
    "socialsim.experiments.runner",
    "socialsim.experiments.sweep",
    "socialsim.experiments.arms",
    "socialsim.experiments.resume",
    "socialsim.experiments.export",
    "socialsim.analysis.summarize",
    "socialsim.analysis.stats",
    "socialsim.analysis.report",
)
MEMORY_LIMIT = 4 << 30  # bytes of address space a case may add to the launcher's own


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder`: a regular file's SHA-1, else its kind (no FIFO is read)."""
    seen: dict[str, str] = {}
    for here, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                seen[rel] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    seen[rel] = hashlib.sha1(handle.read()).hexdigest()
            else:
                seen[rel] = "special"
    return seen


def materialize(case: Case, folder: Path, fixtures: Path) -> None:
    """Write the case's files, links, FIFOs and fixture into its (new) folder."""
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        path = folder / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
    for name, target in case.links.items():
        os.symlink(target, folder / name)
    for name in case.fifos:
        os.mkfifo(folder / name)
    if case.fixture:
        shutil.copytree(fixtures / case.fixture, folder / case.fixture, symlinks=True)


def _exit_code(exc: SystemExit) -> int:
    """The status an interpreter exits with for `exc` (a message goes to stderr, status 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _child(args: list[str], folder: Path, launcher: str, memory: int) -> None:
    """In the forked child: run `socialsim ARGS` in `folder`, output to files; never returns."""
    code = 1
    try:
        os.setsid()
        os.chdir(folder)
        for fd, name, flags in (
            (0, os.devnull, os.O_RDONLY),
            (1, ".stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, ".stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            os.dup2(os.open(name, flags, 0o644), fd)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if launcher == "exec":
            os.execv(sys.executable, [sys.executable, "-m", "socialsim.cli", *args])
        sys.argv = ["socialsim", *args]
        from socialsim.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
        except BaseException:  # noqa: BLE001 - what an interpreter prints for an uncaught error
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def _address_space() -> int:
    """This process's virtual memory size in bytes (0 where /proc is missing)."""
    try:
        fields = Path("/proc/self/status").read_text().split("VmSize:")[1].split()
        return int(fields[0]) * 1024
    except (OSError, IndexError, ValueError):
        return 0


def run_cases(
    cases: list[Case],
    root: Path,
    fixtures: Path,
    *,
    jobs: int = 2,
    timeout: float = 20.0,
    launcher: str = "fork",
    keep: bool = False,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run every case, at most `jobs` at a time, killing one after `timeout` seconds.

    `launcher` "fork" forks this process (call :func:`warm_imports` first), "exec" starts
    ``python -m socialsim.cli``. One record per case, in order; each case's folder under
    `root` is removed afterwards unless `keep`.
    """
    fork_limit = _address_space() + MEMORY_LIMIT
    memory = fork_limit if launcher == "fork" else 2 * MEMORY_LIMIT
    results: list[dict[str, Any]] = [{} for _ in cases]
    pending = list(range(len(cases)))
    running: dict[int, tuple[int, float, float, dict[str, str]]] = {}
    killed: set[int] = set()
    queued: dict[int, float | None] = {}  # pid -> seconds it waited for a CPU so far
    while pending or running:
        while pending and len(running) < jobs:
            index = pending.pop(0)
            folder = root / f"{index:04d}"
            materialize(cases[index], folder, fixtures)
            before = snapshot(folder)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(list(cases[index].args), folder, launcher, memory)
            load = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
            running[pid] = (index, time.monotonic(), load, before)
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid == 0:
            for pid, (index, start, _, _) in list(running.items()):
                queued[pid] = _queued(pid)
                if time.monotonic() - start > timeout and index not in killed:
                    os.killpg(pid, signal.SIGKILL)
                    killed.add(index)
            time.sleep(0.02)
            continue
        index, start, load, before = running.pop(pid)
        try:  # grandchildren (sweep workers) go with their group
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        folder = root / f"{index:04d}"
        results[index] = _record(cases[index], folder, status, usage, before)
        wait = queued.pop(pid, None)
        results[index].update(
            wall_s=round(time.monotonic() - start, 3),
            queued_s=None if wait is None else round(wait, 3),
            load=round(load, 2),
            killed=index in killed,
        )
        if progress:
            done = sum(1 for r in results if r)
            print(f"\r{done}/{len(cases)} cases", end="", file=sys.stderr, flush=True)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    if progress:
        print(file=sys.stderr)
    return results


def _queued(pid: int) -> float | None:
    """Seconds process `pid` has spent runnable but waiting for a CPU (None: not known)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def _record(
    case: Case, folder: Path, status: int, usage: Any, before: dict[str, str]
) -> dict[str, Any]:
    """What a finished case did: exit, stderr lines, CPU seconds, files added or changed."""
    stderr = (folder / ".stderr").read_bytes().decode("utf-8", "replace")
    stdout = (folder / ".stdout").read_bytes()[-20_000:].decode("utf-8", "replace")
    after = snapshot(folder)
    for name in (".stdout", ".stderr"):
        before.pop(name, None)
        after.pop(name, None)
    changed = sorted(k for k, v in before.items() if after.get(k) != v)
    added = sorted(k for k in after if k not in before)
    return {
        "name": case.name,
        "group": case.group,
        "expect": case.expect,
        "args": list(case.args),
        "rc": os.waitstatus_to_exitcode(status),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "stderr_lines": [line for line in stderr.splitlines() if line.strip()][:20],
        "stdout_tail": [line[:300] for line in stdout.splitlines() if line.strip()][-5:],
        "added": added[:20],
        "n_added": len(added),
        "changed": changed[:20],
        "note": case.note,
    }


def warm_imports() -> None:
    """Import the command line (as a process without a terminal would) before forking."""
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        import importlib

        import socialsim.cli  # noqa: F401 - rich decides on colours and width at import
        from socialsim.core.registry import NETWORKS, POLICIES, SCENARIOS

        for registry in (NETWORKS, POLICIES, SCENARIOS):
            registry.names()
        for module in WARM:
            importlib.import_module(module)
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
