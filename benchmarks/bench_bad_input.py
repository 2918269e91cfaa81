"""Hostile input: how does the command line handle a corpus of malformed configs and files?

    python benchmarks/bench_bad_input.py                        # ~750 cases, 2 processes
    python benchmarks/bench_bad_input.py --json bad_input.json  # also the per-case results
    python benchmarks/bench_bad_input.py --only alias --launcher exec

Every case (mutations of each example config, made tiny and rule-driven; the named hostile
inputs of ``bad_input_hostile.py``) runs ``socialsim ARGS`` in its own folder and process,
killed after ``--timeout`` seconds. Its outcome is one of:

- ``refused``: exit 2, one non-empty line on stderr naming the key or file at fault (at most
  300 characters), no traceback, nothing written or changed in the case folder (an empty
  ``--out`` directory is allowed), within ``--slow-after`` seconds;
- ``unclear``: exit 2 otherwise clean, but the line is too long, does not name the key or
  file, or stderr holds more than one line;
- ``accepted``: exit 0, or a sweep that ran with some cells failed (exit 1, one line; for a
  wrong input: accepted but wrong);
- ``traceback``: "Traceback" on stderr, or exit 1 with more than one line on stderr;
- ``fault``: another non-zero exit with a clean one-line stderr (a failure reported as a
  fault in socialsim rather than in the input);
- ``half-made``: a non-zero exit that left files in the case folder;
- ``lost``: a file that was there before the command was removed or changed;
- ``slow``: a non-zero exit after more than ``--slow-after`` seconds (of CPU, or of wall
  time less the time spent waiting for a CPU, so a loaded machine does not make a refusal
  slow); ``hung``: killed at the timeout;
- ``crashed``: killed by a signal (a segfault).

Cases whose wrongness depends on the field (zero, a huge number, an unknown string) are
``probe`` cases, counted apart; valid inputs (each example's baseline, an export) expect
``accepted``. The default launcher forks a process that has already imported socialsim and
calls ``socialsim.cli.main`` (as ``python -m socialsim.cli`` does), so a case costs its
own work and not two seconds of imports; ``--launcher exec`` starts a fresh interpreter.
``--self-check`` runs one synthetic case per class (a plugin that sleeps, segfaults, deletes
a file, ...) and fails unless each lands in its class.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bad_input_cases import Case, example_cases  # noqa: E402
from bad_input_hostile import BASE, MISINFORMATION, config, hostile_cases  # noqa: E402
from bad_input_runner import run_cases, warm_imports  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLASSES = (
    "refused", "unclear", "accepted", "traceback", "fault", "half-made", "lost", "slow",
    "hung", "crashed", "skipped",
)  # fmt: skip


#: plugin code that makes the command end in each class (the classifier's own test)
SELF_CHECKS = {
    "refused": "os.write(2, b'error: c.yaml: steps: bad\\n')\nos._exit(2)",
    "unclear": "os.write(2, b'error: one\\nerror: two\\n')\nos._exit(2)",
    "traceback": "os.write(2, b'Traceback (most recent call last):\\n  x\\n')\nos._exit(1)",
    "fault": "os.write(2, b'error: steps broke\\n')\nos._exit(1)",
    "half-made": "open('stray.txt', 'w').write('x')\nos.write(2, b'error: steps\\n')\nos._exit(2)",
    "lost": "os.remove('keep.txt')\nos.write(2, b'error: steps\\n')\nos._exit(2)",
    "slow": "time.sleep(6)\nos.write(2, b'error: steps\\n')\nos._exit(2)",
    "hung": "time.sleep(600)",
    "crashed": "os.kill(os.getpid(), signal.SIGSEGV)",
    "accepted": "pass",
}


def self_check(root: Path, opts: argparse.Namespace) -> bool:
    """Run one synthetic case per class; print each outcome; whether all landed right."""
    cases = [
        Case(f"self-check {name}", "self-check", mentions=("steps",), files={
            "c.yaml": config(BASE, plugins=["check_plugin.py"]), "keep.txt": "keep\n",
            "check_plugin.py": f"import os, signal, time\n{code}\n"})
        for name, code in SELF_CHECKS.items()
    ]  # fmt: skip
    timeout = 10.0 if opts.launcher == "fork" else 30.0  # a fresh interpreter imports first
    launch = {"jobs": opts.jobs, "timeout": timeout, "launcher": opts.launcher}
    records = run_cases(cases, root / "self-check", root, **launch)
    judge(cases, records, slow_after=5.0)
    right = True
    for want, record in zip(SELF_CHECKS, records, strict=True):
        right &= record["class"] == want
        mark = "ok  " if record["class"] == want else "FAIL"
        print(f"{mark} {want:>9}: {record['class']} ({record['reason']})")
    return right


def judge(cases: list[Case], records: list[dict[str, Any]], slow_after: float) -> None:
    """Give each record its class and reason (in place)."""
    for case, record in zip(cases, records, strict=True):
        busy = record["wall_s"] / record["load"]  # without a run-queue figure: scaled by load
        if record["queued_s"] is not None:  # the wall time less the wait for a CPU
            busy = record["wall_s"] - record["queued_s"]
        slow = record["cpu_s"] > slow_after or busy > slow_after
        record["class"], record["reason"] = classify(case, record, slow)


def names_it(line: str, mentions: tuple[str, ...]) -> bool:
    """Whether `line` names one of `mentions` (a bare identifier must stand as a word)."""
    if not mentions:
        return True
    low = line.lower()
    for word in mentions:
        word = word.lower()
        if re.fullmatch(r"\w+", word):
            if re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", low):
                return True
        elif word in low:
            return True
    return False


def classify(case: Case, record: dict[str, Any], slow: bool) -> tuple[str, str]:
    """The outcome class of a finished case and why (see the module docstring)."""
    rc, lines = record["rc"], record["stderr_lines"]
    if record["killed"]:
        return "hung", f"killed after {record['wall_s']:.0f} s"
    if record["changed"]:
        return "lost", f"changed or removed: {', '.join(record['changed'][:3])}"
    if rc == 0:
        return "accepted", f"exit 0, {record['n_added']} files written"
    cells = re.fullmatch(r"(\d+) of (\d+) cells failed .*", lines[0]) if len(lines) == 1 else None
    if rc == 1 and cells:  # a sweep that ran: its cells' errors in results.csv, the rest kept
        return "accepted", f"exit 1, {cells[1]} of {cells[2]} sweep cells failed"
    if any("Traceback" in line for line in lines) or (rc == 1 and len(lines) > 1):
        return "traceback", f"exit {rc}, {len(lines)} lines on stderr"
    if rc < 0:
        return "crashed", f"killed by signal {-rc}"
    if record["n_added"]:
        return "half-made", f"exit {rc}, left {', '.join(record['added'][:3])}"
    if slow:
        return "slow", f"exit {rc} after {record['wall_s']:.1f} s ({record['cpu_s']:.1f} s CPU)"
    if rc != 2:
        return "fault", f"exit {rc}"
    if len(lines) != 1:
        return "unclear", f"{len(lines)} lines on stderr"
    if len(lines[0]) > 300:
        return "unclear", f"the line has {len(lines[0])} characters"
    if not names_it(lines[0], case.mentions):
        return "unclear", f"names none of {', '.join(case.mentions)}"
    return "refused", ""


def build_fixtures(fixtures: Path, launch: dict[str, Any]) -> list[str]:
    """Make the shared directories cases copy (a finished arms directory); their names."""
    arms = Case(
        "fixture: arms",
        "fixture",
        {"c.yaml": config(MISINFORMATION)},
        args=("run", "c.yaml", "--out", "arms", "--control", "--no-report", "-q"),
    )
    [result] = run_cases([arms], fixtures / "runs", fixtures, **{**launch, "keep": True})
    made = fixtures / "runs" / "0000" / "arms"
    if result["rc"] != 0 or not made.is_dir():
        print(f"fixture arms failed: {result['stderr_lines'][:1]}", file=sys.stderr)
        return []
    shutil.move(str(made), fixtures / "arms")
    return ["arms"]


def run_corpus(cases: list[Case], root: Path, opts: argparse.Namespace) -> list[dict[str, Any]]:
    """Fixtures, then each example's baseline, then every other case (a mutation of an
    example whose baseline was not accepted, or a case whose fixture failed, is skipped)."""
    launch = {"jobs": opts.jobs, "timeout": opts.timeout, "launcher": opts.launcher,
              "keep": opts.keep, "progress": not opts.quiet and sys.stderr.isatty()}  # fmt: skip
    fixtures = root / "fixtures"
    fixtures.mkdir()
    ready = build_fixtures(fixtures, launch) if any(c.fixture for c in cases) else []
    baselines = [c for c in cases if c.name.endswith(":baseline")]
    results = run_cases(baselines, root / "baselines", fixtures, **launch)
    judge(baselines, results, opts.slow_after)
    broken = {f"example:{r['name'].split(':')[0]}" for r in results if r["class"] != "accepted"}
    skipped = {id(c): "its fixture failed" for c in cases if c.fixture and c.fixture not in ready}
    for case in cases:
        if case.group in broken:
            skipped[id(case)] = "its example's baseline was not accepted"
    rest = [c for c in cases if c not in baselines and id(c) not in skipped]
    records = run_cases(rest, root / "cases", fixtures, **launch)
    judge(rest, records, opts.slow_after)
    results += records
    for case in cases:
        if id(case) in skipped:
            reason = skipped[id(case)]
            results.append({"name": case.name, "group": case.group, "expect": case.expect,
                            "class": "skipped", "reason": reason, "stderr_lines": []})  # fmt: skip
    return results


def table(results: list[dict[str, Any]], key: str) -> list[str]:
    """Counts per class: one row for all `results`, then one per value of `key`."""
    used = [c for c in CLASSES if any(r["class"] == c for r in results)]
    rows = [("all", Counter(r["class"] for r in results))]
    for value in sorted({r[key] for r in results}):
        rows.append((value, Counter(r["class"] for r in results if r[key] == value)))
    width = max(len(name) for name, _ in rows)
    out = [f"{'':{width}}  {'cases':>5}  " + "  ".join(f"{c:>9}" for c in used)]
    for name, counts in rows:
        cells = "  ".join(f"{counts.get(c, 0):>9}" for c in used)
        out.append(f"{name:{width}}  {sum(counts.values()):>5}  {cells}")
    return out


def first_line(record: dict[str, Any]) -> str:
    """The first line of the case's stderr, clipped to 160 characters."""
    line = record["stderr_lines"][0] if record["stderr_lines"] else "(nothing on stderr)"
    return line if len(line) <= 160 else line[:157] + "..."


def report(results: list[dict[str, Any]]) -> None:
    """Print the tables and every case that did not do what a good command line does."""
    wrong = [r for r in results if r["expect"] == "refuse"]
    probes = [r for r in results if r["expect"] == "probe"]
    valid = [r for r in results if r["expect"] == "accept"]
    for title, part, key, good in (
        ("wrong inputs (should be refused)", wrong, "group", "refused"),
        ("probes (wrongness depends on the field)", probes, "group", "refused"),
        ("valid inputs (should be accepted)", valid, "group", "accepted"),
    ):
        if not part:
            continue
        print(f"\n{title}: {len(part)}")
        print("\n".join(table(part, key)))
        listed = [r for r in part if r["class"] != good]
        if listed:
            print(f"\nnot {good}:")
        for r in listed:
            print(
                f"  [{r['class']}] {r['name']}: {first_line(r)}"
                + (
                    f"  ({r['reason']})"
                    if r["class"] != "accepted" or "failed" in r["reason"]
                    else ""
                )
            )


def main() -> None:
    """Build the corpus, run it, print the tables, optionally write the per-case JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--json", type=Path, help="write the per-case results here")
    add("--seed", type=int, default=0, help="draws the mutations and the binary files")
    add("--per-leaf", type=int, default=4, help="mutations per config leaf")
    add("--jobs", type=int, default=2, choices=(1, 2), help="cases at once")
    add("--timeout", type=float, default=20.0, help="seconds before a case is killed")
    add("--slow-after", type=float, default=5.0, help="seconds a refusal may take")
    add("--launcher", choices=("fork", "exec"), default="fork")
    add("--only", action="append", help="only cases whose group or name holds this (repeatable)")
    add("--keep", action="store_true", help="keep the case folders")
    add("--quiet", action="store_true", help="no progress count")
    add("--self-check", action="store_true", help="check the classifier on synthetic cases")
    opts = parser.parse_args()
    cases = example_cases(ROOT / "examples", opts.seed, opts.per_leaf) + hostile_cases(opts.seed)
    if opts.only:
        wanted = [o.lower() for o in opts.only]
        cases = [c for c in cases if any(o in f"{c.group} {c.name}".lower() for o in wanted)]
    if opts.launcher == "fork":
        warm_imports()
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="bench-bad-input-"))
    if opts.self_check:
        try:
            sys.exit(0 if self_check(root, opts) else 1)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    try:
        results = run_corpus(cases, root, opts)
    finally:
        if opts.keep:
            print(f"case folders kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"{len(results)} cases, launcher {opts.launcher}, seed {opts.seed}, per-leaf "
          f"{opts.per_leaf}: {elapsed:.0f} s on {opts.jobs} processes")  # fmt: skip
    report(results)
    if opts.json:
        keys = ("launcher", "seed", "per_leaf", "timeout", "slow_after")
        document = {**{k: getattr(opts, k) for k in keys}, "seconds": round(elapsed, 1)}
        document["cases"] = results
        opts.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
