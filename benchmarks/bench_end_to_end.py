"""End to end: `socialsim run` (simulation, analysis, tables, report) at 100,000 and 1,000,000 agents.

    python benchmarks/bench_end_to_end.py                    # 100,000 and 1,000,000 agents
    python benchmarks/bench_end_to_end.py --sizes 100000     # one size
    python benchmarks/bench_end_to_end.py --sizes 3000000,10000000   # the largest runs
    python benchmarks/bench_end_to_end.py --quick            # 10,000 agents (a minute)
    python benchmarks/bench_end_to_end.py --cached examples/quickstart.yaml
    python benchmarks/bench_end_to_end.py --cached stub      # self-test against the stub

Each size runs the real command line in a subprocess: independent cascade on a
barabasi_albert graph (m=3), 10 steps, default output (events, tables, graph, summary,
report). Wall time and the peak resident memory of the process tree (summed over its
processes, read from /proc every 0.1 s; the largest single process's exact peak from
wait4 beside it) are printed as ratios to the targets: 100,000 agents within 60 s;
1,000,000 within 300 s and 8 GB; 10,000,000 within 600 s and 16 GB. Beside each, the
memory the run's refusal check estimates for it, as a share of the measured peak (target:
within 25%, so the refusal threshold is honest). `--profile DIR` runs the command under cProfile and
prints where the time went.

`--cached CONFIG` runs an LLM config twice against a fresh response cache and prints the
second, fully cached run's wall time as a share of the first (`stub`: 30 LLM agents x 3
steps against `stub_server.py`, 50 ms a call). Figures are from one run each on a shared
machine: compare ratios measured together.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = {
    100_000: {"seconds": 60.0},
    1_000_000: {"seconds": 300.0, "rss_gb": 8.0},
    10_000_000: {"seconds": 600.0, "rss_gb": 16.0},
}
GB = 1024**3


def cascade_config(n: int) -> str:
    """The benchmark experiment as YAML: independent cascade on barabasi_albert (m=3)."""
    return (
        f"name: bench-e2e-{n}\nseed: 1\nsteps: 10\npopulation: {{size: {n}}}\n"
        "network: {kind: barabasi_albert, params: {m: 3}}\n"
        "claims: [{id: c1, text: 'The bridge downtown will close next month.'}]\n"
        "agents: {policy: independent_cascade}\n"
    )


def stub_config(api_base: str) -> str:
    """30 LLM agents x 3 steps against the stub (the cached-rerun self-test)."""
    llm = (
        f"{{model: openai/stub, api_base: '{api_base}', concurrency: 64, retries: 0, cache: true}}"
    )
    return (
        "name: bench-cached\nseed: 1\nsteps: 3\npopulation: {size: 30}\n"
        "network: {kind: watts_strogatz, params: {k: 4, p: 0.1}}\n"
        "claims: [{id: c1, text: 'The bridge downtown will close next month.'}]\n"
        f"agents: {{policy: llm, llm: {llm}}}\n"
    )


STUB_ANSWER = json.dumps(
    {
        "message": "I read that c1 is true; what do you think?",
        "to": "all",
        "beliefs": {"c1": {"reason": "a friend said so", "credence": 0.7}},
    }
)


class TreeMemory:
    """Polls the summed resident memory of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.every)

    def sample(self) -> int:
        """Bytes resident now, summed over the tree."""
        total = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/statm") as fh:
                    total += int(fh.read().split()[1]) * self._page
            except (OSError, ValueError, IndexError):
                continue
        return total

    def _tree(self) -> list[int]:
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as fh:
                        todo.extend(int(c) for c in fh.read().split())
            except (OSError, ValueError):
                continue
        return out


def run_cli(args: list[str], timeout: float, profile: Path | None = None) -> dict:
    """Run `socialsim <args>` in a subprocess; wall time, peak tree RSS, exit code."""
    cli = [sys.executable, "-m", "socialsim.cli"]
    if profile is not None:
        cli = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "socialsim.cli"]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*cli, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    with TreeMemory(proc.pid) as memory:
        _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=5)
    return {
        "seconds": wall,
        "rss_tree": memory.peak,
        "rss_process": usage.ru_maxrss * 1024,
        "returncode": proc.returncode,
        "output": "".join(output),
        "timed_out": wall >= timeout,
    }


def memory_estimate(n: int) -> int:
    """Bytes the run's memory check expects the benchmark run of `n` agents to need."""
    import yaml

    import socialsim as ss
    from socialsim.experiments.memory import memory_needed

    return memory_needed(ss.ExperimentConfig.from_dict(yaml.safe_load(cascade_config(n))))


def verdict(value: float, target: float) -> str:
    """'0.69x of <target>  PASS' style ratio."""
    return f"{value / target:.2f}x of target  {'PASS' if value <= target else 'FAIL'}"


def label(n: int) -> str:
    """100000 -> '100k', 1000000 -> '1M'."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def bench_size(n: int, work: Path, extra: list[str], profile: Path | None) -> dict:
    """One end-to-end run of the cascade experiment with `n` agents."""
    config = work / f"cascade-{n}.yaml"
    config.write_text(cascade_config(n), encoding="utf-8")
    out = work / f"run-{n}"
    target = TARGETS.get(n, {})
    stats = run_profile = None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        run_profile = profile / f"e2e-{label(n)}.prof"
    args = ["run", str(config), "--out", str(out), "--quiet", *extra]
    limit = 3 * target.get("seconds", 60.0 * max(1, n // 100_000))
    stats = run_cli(args, timeout=max(limit, 120), profile=run_profile)
    report = out / "report.html"
    stats["report_bytes"] = report.stat().st_size if report.is_file() else None
    stats["dir_bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    stats["target"] = target
    stats["profile"] = run_profile
    return stats


def print_size(n: int, s: dict) -> None:
    """The figures of one size as ratios to its targets."""
    name = label(n)
    if s["returncode"] != 0:
        tail = "\n    ".join(s["output"].strip().splitlines()[-8:])
        why = "timed out" if s["timed_out"] else f"exit code {s['returncode']}"
        print(f"{name}: FAILED ({why}) after {s['seconds']:.1f} s\n    {tail}")
        return
    seconds = s["target"].get("seconds")
    if seconds is None:
        print(f"{name}: {s['seconds']:.1f} s (no target at this size)")
    else:
        print(f"{name}: {s['seconds']:.1f} s = {verdict(s['seconds'], seconds)} ({seconds:.0f} s)")
    rss = s["rss_tree"] / GB
    line = f"{name}: peak RSS {rss:.2f} GB (process tree; largest process {s['rss_process'] / GB:.2f} GB)"
    if "rss_gb" in s["target"]:
        line += f" = {verdict(rss, s['target']['rss_gb'])} ({s['target']['rss_gb']:.0f} GB)"
    print(line)
    estimate = memory_estimate(n)
    off = estimate / s["rss_tree"] - 1 if s["rss_tree"] else float("nan")
    print(f"{name}: the refusal's memory estimate {estimate / GB:.2f} GB = measured "
          f"{off:+.0%} (target within 25%) {'PASS' if abs(off) <= 0.25 else 'FAIL'}")  # fmt: skip
    size = s["report_bytes"]
    report = f"{size / 1e6:.2f} MB" if size is not None else "missing"
    print(f"{name}: report.html {report}; run directory {s['dir_bytes'] / 1e6:.1f} MB")
    if s["profile"] is not None:
        print_profile(s["profile"])


def print_profile(path: Path, top: int = 40) -> None:
    """The socialsim functions with the most cumulative time in a cProfile file."""
    import io
    import pstats

    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer).sort_stats("cumulative")
    stats.print_stats("socialsim/", top)
    print(f"  profile {path} (cumulative seconds, profiler overhead included):")
    for line in buffer.getvalue().splitlines():
        if "socialsim/" in line or "ncalls" in line:
            print("   ", line.replace(str(Path.cwd()) + "/", ""))


def cached_rerun(config: str, work: Path, extra: list[str]) -> None:
    """Run an LLM config twice on a fresh cache: the second run's time as a share of the first."""
    stub = None
    if config == "stub":
        sys.path.insert(0, str(HERE))
        import stub_server

        stub, api_base = stub_server.start(latency=0.05, slots=64, answer=STUB_ANSWER)
        path = work / "cached.yaml"
        path.write_text(stub_config(api_base), encoding="utf-8")
        config = str(path)
    cache = work / "cache" / "responses.sqlite"
    sets = ["--set", f"agents.llm.cache_path={cache}", "--set", "agents.llm.cache=true"]
    try:
        runs = []
        for k in (1, 2):
            out = work / f"cached-{k}"
            args = ["run", config, "--out", str(out), "--quiet", *sets, *extra]
            stats = run_cli(args, timeout=3600)
            stats["calls"], stats["hits"] = llm_calls(out)
            runs.append(stats)
            if stats["returncode"] != 0:
                print(f"cached rerun: run {k} failed:\n{stats['output'][-2000:]}")
                return
    finally:
        if stub is not None:
            stub_server.stop(stub)
    first, second = runs
    floor = run_cli(["version"], timeout=600)["seconds"]
    share = second["seconds"] / first["seconds"]
    print(
        f"uncached: {first['seconds']:.2f} s ({first['calls']} calls, {first['hits']} cached); "
        f"cached rerun: {second['seconds']:.2f} s ({second['calls']} calls, "
        f"{second['hits']} cached)"
    )
    complete = second["calls"] == second["hits"] and second["calls"] > 0
    print(
        f"cached rerun: {100 * share:.1f}% of the uncached run"
        f"{'' if complete else '  (NOT fully cached: check the config)'}"
    )
    print(
        f"start-up alone (`socialsim version`): {floor:.2f} s; without it the cached rerun "
        f"is {100 * max(second['seconds'] - floor, 0) / max(first['seconds'] - floor, 1e-9):.1f}%"
    )


def llm_calls(run_dir: Path) -> tuple[int, int]:
    """(model calls, of which cached) in every events.jsonl under a run directory."""
    calls = hits = 0
    for events in run_dir.rglob("events.jsonl"):
        with open(events, encoding="utf-8") as fh:
            for line in fh:
                if '"kind": "llm_call"' in line:
                    calls += 1
                    hits += bool(json.loads(line)["payload"].get("cached"))
    return calls, hits


def main() -> None:
    """Parse arguments, run the benchmarks, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated agents")
    parser.add_argument("--quick", action="store_true", help="10,000 agents only")
    parser.add_argument("--cached", metavar="CONFIG", help="cached-rerun mode ('stub': self-test)")
    parser.add_argument("--set", action="append", default=[], help="passed to socialsim run")
    parser.add_argument("--profile", type=Path, help="write cProfile files here and summarise")
    parser.add_argument("--keep", type=Path, help="keep run directories here")
    args = parser.parse_args()
    extra = [x for s in args.set for x in ("--set", s)]
    work = Path(tempfile.mkdtemp(prefix="bench-e2e-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    try:
        if args.cached:
            cached_rerun(args.cached, work, extra)
            return
        sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
        for n in sizes:
            print_size(n, bench_size(n, work, extra, args.profile))
            sys.stdout.flush()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
