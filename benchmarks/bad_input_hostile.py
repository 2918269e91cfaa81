"""The bad-input corpus, part two: named hostile inputs, each built to break one thing.

YAML that says far more than it weighs (alias bombs, deep nesting, a 20 MB string), files
that are not what they claim (binary, a directory, /dev/zero, a FIFO, Latin-1, UTF-16),
XML entities in a GraphML network, plugins that raise or exit, values that defeat a range
check (NaN, infinity, a bool where a number is meant), options out of range, and commands
run on the wrong kind of directory. Every case runs through the real command line.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import yaml
from bad_input_cases import RUN, SWEEP, Case, dump

#: a valid tiny config every hostile case starts from
BASE: dict[str, Any] = {
    "name": "hostile",
    "seed": 1,
    "steps": 2,
    "population": {"size": 10},
    "network": {"kind": "ring"},
    "agents": {"policy": "degroot"},
    "claims": [{"id": "c1", "text": "The river is poisoned."}],  # a run without a scenario
    "output": {"report": False},
}
#: a valid tiny misinformation config (the claims and memory-poisoning cases change it)
MISINFORMATION: dict[str, Any] = {
    **BASE,
    "agents": {"policy": "independent_cascade"},
    "scenario": {
        "kind": "misinformation",
        "params": {"claim": "australia_capital", "attackers": {"count": 2}},
    },
}
#: a valid tiny accumulation config (the propositions-file cases change it)
ACCUMULATION: dict[str, Any] = {
    **BASE,
    "scenario": {"kind": "accumulation", "params": {"proposition": "four_day_week"}},
}
CLAIM = {
    "topic": "geography",
    "true_statement": "Paris is in France.",
    "manipulated_statement": "Paris is in Spain.",
    "probes": [
        {
            "distance": "direct",
            "question": "Where is Paris?",
            "options": ["France", "Spain"],
            "correct": "A",
            "manipulated": "B",
        }
    ],
}
GRAPHML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
GRAPHML_BODY = (
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><key id="d0" for="node" '
    'attr.name="label" attr.type="string"/><graph edgedefault="undirected">{nodes}'
    "</graph></graphml>\n"
)


def config(base: dict[str, Any], **dotted: Any) -> str:
    """`base` with keys set (``network__params__k=3`` sets network.params.k), as YAML."""
    out = yaml.safe_load(dump(base))  # a deep copy
    for key, value in dotted.items():
        keys = key.split("__")
        node = out
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        node[keys[-1]] = value
    return dump(out)


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """A flow sequence of `width` ** `levels` ones, written in about a kilobyte of aliases."""
    text = "&a0 [" + ", ".join(["1"] * width) + "]"
    for level in range(1, levels):
        text = f"&a{level} [{text}" + f", *a{level - 1}" * (width - 1) + "]"
    return text


def graph_file(nodes: int = 10) -> str:
    """A valid GraphML ring of `nodes` nodes."""
    body = "".join(f'<node id="n{i}"/>' for i in range(nodes))
    body += "".join(f'<edge source="n{i}" target="n{(i + 1) % nodes}"/>' for i in range(nodes))
    return GRAPHML_HEAD + GRAPHML_BODY.format(nodes=body)


def entity_graph(doctype: str, label: str) -> str:
    """A GraphML ring whose first node's label is `label`, after the DTD `doctype`."""
    ring = graph_file().removeprefix(GRAPHML_HEAD)
    first = f'<node id="n0"><data key="d0">{label}</data></node>'
    return GRAPHML_HEAD + doctype + ring.replace('<node id="n0"/>', first)


def file_network(path: str) -> str:
    """The base config on a network read from `path`."""
    return config(BASE, network={"kind": "file", "params": {"path": path}})


def maker(group: str) -> Callable[..., Case]:
    """A Case builder for `group`: name, config text (or files), the words the error names."""

    def make(name: str, files: str | bytes | dict, *mentions: str, **options: Any) -> Case:
        files = files if isinstance(files, dict) else {"c.yaml": files}
        return Case(name, group, files, mentions=mentions, **options)

    return make


def _yaml_cases() -> list[Case]:
    """Hostile YAML: bombs, nesting, size, duplicate keys, encodings, syntax."""
    y = maker("yaml")
    base, rest = dump(BASE), dump({k: v for k, v in BASE.items() if k != "population"})
    latin1 = ("# caf\u00e9 au lait\n" + base).encode("latin-1")
    latin1_value = base.replace("degroot", "degroot  # na\u00efve").encode("latin-1")
    deep = "[" * 5000 + "1" + "]" * 5000
    unnamed = dump({k: v for k, v in BASE.items() if k != "name"})
    huge_name = "name: " + "a" * 20_000_000 + "\n" + unnamed
    grid = {"seed": list(range(1000)), "network.params.k": list(range(2, 2002, 2))}
    names_bomb = f"population:\n  size: 10\n  personas:\n    names: {alias_bomb()}\n"
    return [
        y(
            "alias bomb in sweep.seed",
            f"{base}sweep:\n  seed: {alias_bomb()}\n",
            "c.yaml",
            "alias",
            args=SWEEP,
        ),
        y("alias bomb in population.personas.names", rest + names_bomb, "c.yaml", "alias"),
        y("sweep grid of 10^6 cells", config(BASE, sweep=grid), "sweep", "cells", args=SWEEP),
        y("duplicate YAML key", base + "steps: 3\n", "steps"),
        y("Latin-1 config (comment)", latin1, "c.yaml", "utf-8"),
        y("Latin-1 config (value)", latin1_value, "c.yaml", "utf-8"),
        y("UTF-16 config", base.encode("utf-16"), "c.yaml", "utf-8", "utf-16"),
        y("5,000-deep nested list", base.replace("seed: 1", f"seed: {deep}"), "c.yaml", "seed"),
        y("20 MB string as name", huge_name, "name", "c.yaml"),
        y("100,000-character unknown key", base + "k" * 100_000 + ": 1\n", "c.yaml", "kkkk"),
        y("YAML syntax error", base + "scenario: {kind: [\n", "c.yaml"),
        y("tab indentation", "population:\n\tsize: 10\n", "c.yaml"),
        y("NUL byte in the config", base + "\x00\n", "c.yaml"),
        y("empty config", "", "c.yaml"),
        y("a list at the top level", "[1, 2]\n", "c.yaml"),
        y("a string at the top level", "hello\n", "c.yaml"),
        y("unknown top-level key", base + "stpes: 3\n", "stpes"),
        y("self-referencing alias", base + "sweep: &s {seed: *s}\n", "c.yaml", "alias", args=SWEEP),
    ]


def _value_cases() -> list[Case]:
    """Values that defeat a range or type check."""
    v = maker("values")
    inf, nan = float("inf"), float("nan")
    people = {"size": 10, "personas": {"activity_rate": inf}}
    ages = {"size": 10, "personas": {"age": {"normal": [40, nan]}}}
    blocks = {"kind": "stochastic_block", "params": {"sizes": [40, -10]}}
    mix = [{"fraction": 0.9, "policy": "voter"}, {"fraction": 0.6, "policy": "degroot"}]
    llm = {"model": "openai/none", "api_base": "http://127.0.0.1:9/v1", "retries": 0}
    dead = {"policy": "llm", "llm": {**llm, "cache_path": "/dev/null", "breaker_failures": 1}}
    return [
        v("seed: -5", config(BASE, seed=-5), "seed"),
        v("seed: 2**64", config(BASE, seed=2**64), "seed"),
        v("steps: 1e309", dump(BASE).replace("steps: 2", "steps: 1e309"), "steps"),
        v("population.size: 1e9", config(BASE, population__size=10**9), "size"),
        v("activity_rate: .inf", config(BASE, population=people), "activity_rate"),
        v("age: {normal: [40, .nan]}", config(BASE, population=ages), "age"),
        v("stochastic_block sizes: [40, -10]", config(BASE, network=blocks), "sizes"),
        v("watts_strogatz k: 3", config(BASE, network=ws(3)), "k"),
        v("watts_strogatz k: 40 (above the population)", config(BASE, network=ws(40)), "k"),
        v("erdos_renyi mean_degree: 1e6", config(BASE, network=er(1e6)), "mean_degree"),
        v(
            "deffuant epsilon: true",
            config(BASE, agents=policy("deffuant", epsilon=True)),
            "epsilon",
        ),
        v("llm.max_tokens: true", config(BASE, agents__llm={"max_tokens": True}), "max_tokens"),
        v("llm.timeout: .inf", config(BASE, agents__llm={"timeout": inf}), "timeout"),
        v("memory_poison targets: 2.5", poison(2.5), "targets"),
        v("agents.mix fractions add up to 1.5", config(BASE, agents__mix=mix), "mix"),
        v("unknown policy", config(BASE, agents__policy="degroott"), "policy"),
        v("unknown network kind", config(BASE, network__kind="smallworld"), "kind"),
        v("unknown scenario kind", config(BASE, scenario={"kind": "misinfo"}), "kind"),
        v("name with a path", config(BASE, name="../../escaped"), "name"),
        v("control without a scenario", config(BASE, control=True), "control"),
        v(
            "sweep over an unknown key",
            config(BASE, sweep={"bogus.key": [1, 2]}),
            "bogus.key",
            args=SWEEP,
        ),
        v("sweep with an empty list", config(BASE, sweep={"seed": []}), "seed", args=SWEEP),
        v(
            "cache_path: /dev/null (rule policy: the cache is unused)",
            config(BASE, agents__llm={"cache_path": "/dev/null"}),
            "cache_path",
            expect="probe",
        ),
        v(
            "cache_path: /dev/null (LLM policy, endpoint down)",
            config(BASE, agents=dead),
            "cache_path",
        ),
    ]


def ws(k: int) -> dict[str, Any]:
    """A Watts-Strogatz network section with `k` neighbours."""
    return {"kind": "watts_strogatz", "params": {"k": k}}


def er(mean_degree: float) -> dict[str, Any]:
    """An Erdős-Rényi network section with `mean_degree`."""
    return {"kind": "erdos_renyi", "params": {"mean_degree": mean_degree}}


def policy(name: str, **params: Any) -> dict[str, Any]:
    """An agents section: the policy `name` with `params`."""
    return {"policy": name, "params": params}


def poison(targets: Any) -> str:
    """The misinformation config with memory poisoning of `targets` agents."""
    return config(MISINFORMATION, scenario__params__memory_poison={"targets": targets})


def misinformation_with(**params: Any) -> str:
    """The misinformation config with scenario `params` added."""
    given = MISINFORMATION["scenario"]["params"]
    return config(MISINFORMATION, scenario__params={**given, **params})


def _file_cases(rng: random.Random) -> list[Case]:
    """Files that are not what the config says: graphs, claims, propositions, plugins."""
    f, p = maker("files"), maker("plugins")
    binary = bytes(rng.randrange(256) for _ in range(4096))
    entities = [f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8)]
    bomb = '<!DOCTYPE graphml [<!ENTITY a "aaaaaaaaaa">' + "".join(entities) + "]>\n"
    one = '<!DOCTYPE graphml [<!ENTITY x "ring">]>\n'
    outside = '<!DOCTYPE graphml [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
    graph = file_network("g.graphml")
    dot = {"custom_claims": [{**CLAIM, "id": ".."}], "claim": ".."}
    twins = {"custom_claims": [{**CLAIM, "id": "paris"}] * 2, "claim": "paris"}
    claims = config(MISINFORMATION, scenario__params__claims_file="k.yaml")
    zero_claims = config(MISINFORMATION, scenario__params__claims_file="/dev/zero")
    same_ids = config(BASE, claims=[{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    props = config(ACCUMULATION, scenario__params__propositions_file="p.yaml")
    props_dir = config(ACCUMULATION, scenario__params__propositions_file="adir")
    return [
        f("malformed graphml", {"c.yaml": graph, "g.graphml": graph_file()[:300]}, "g.graphml"),
        f(
            "graphml with an entity bomb",
            {"c.yaml": graph, "g.graphml": entity_graph(bomb, "&i;")},
            "g.graphml",
        ),
        f(
            "graphml with one internal entity",
            {"c.yaml": graph, "g.graphml": entity_graph(one, "&x;")},
            "g.graphml",
            expect="probe",
        ),
        f(
            "graphml with an external entity (/etc/hostname)",
            {"c.yaml": graph, "g.graphml": entity_graph(outside, "&x;")},
            "g.graphml",
            expect="probe",
        ),
        f("binary graph file", {"c.yaml": graph, "g.graphml": binary}, "g.graphml"),
        f(
            "a directory as the network file",
            {"c.yaml": file_network("adir"), "adir/x": "1 2\n"},
            "adir",
        ),
        f("/dev/zero as the network file", file_network("/dev/zero"), "/dev/zero"),
        f("a FIFO as the network file", file_network("pipe.txt"), "pipe.txt", fifos=("pipe.txt",)),
        f("missing network file", file_network("none.graphml"), "none.graphml"),
        f("custom claim id '..'", misinformation_with(**dot), "id", "custom_claims"),
        f("duplicate custom claim ids", misinformation_with(**twins), "paris", "custom_claims"),
        f("duplicate top-level claim ids", same_ids, "claims"),
        f("binary claims file", {"c.yaml": claims, "k.yaml": binary}, "k.yaml", "claims_file"),
        f("binary propositions file", {"c.yaml": props, "p.yaml": binary}, "p.yaml"),
        f("a directory as the propositions file", {"c.yaml": props_dir, "adir/x": "1"}, "adir"),
        f("/dev/zero as the claims file", zero_claims, "/dev/zero", "claims_file"),
        p(
            "plugin that raises",
            plugin("boom.py", "raise RuntimeError('boom at import')\n"),
            "boom",
        ),
        p("plugin with a syntax error", plugin("broken.py", "def f(:\n    pass\n"), "broken"),
        p(
            "plugin that calls sys.exit(0)",
            plugin("quits.py", "import sys\nsys.exit(0)\n"),
            "quits",
        ),
        p("plugins: [../../etc/passwd]", config(BASE, plugins=["../../etc/passwd"]), "passwd"),
        p(
            "plugin module that does not exist",
            config(BASE, plugins=["no_such_module_zz"]),
            "no_such_module_zz",
        ),
    ]


def plugin(name: str, code: str) -> dict[str, str]:
    """The base config naming the plugin file `name`, and that file holding `code`."""
    return {"c.yaml": config(BASE, plugins=[name]), name: code}


def _command_cases() -> list[Case]:
    """Command lines and paths that are wrong: options, the config path, directories."""
    c = maker("commands")
    good, sweep = dump(BASE), config(BASE, sweep={"seed": [1, 2]})

    def run(path: str) -> tuple[str, ...]:
        return ("run", path, "--out", "out", "-q")

    return [
        c("a directory as the config", {"adir/x": "1"}, "adir", args=run("adir")),
        c("/dev/zero as the config", {}, "/dev/zero", args=run("/dev/zero")),
        c("a FIFO as the config", {}, "pipe.yaml", args=run("pipe.yaml"), fifos=("pipe.yaml",)),
        c(
            "a symlink loop as the config",
            {},
            "loop.yaml",
            args=run("loop.yaml"),
            links={"loop.yaml": "loop.yaml"},
        ),
        c("missing config", {}, "none.yaml", args=run("none.yaml")),
        c("sweep --workers -3", sweep, "workers", args=(*SWEEP, "--workers", "-3")),
        c("sweep --workers 0", sweep, "workers", args=(*SWEEP, "--workers", "0")),
        c("sweep --executor threads", sweep, "executor", args=(*SWEEP, "--executor", "threads")),
        c("run --replicates 0", good, "replicates", args=(*RUN, "--replicates", "0")),
        c("run --replicates -2", good, "replicates", args=(*RUN, "--replicates", "-2")),
        c("--set without '='", good, "steps", "--set", args=(*RUN, "--set", "steps")),
        c("--set into a value", good, "steps", args=(*RUN, "--set", "steps.x=3")),
        c("--set steps=abc", good, "steps", args=(*RUN, "--set", "steps=abc")),
        c("--out is a file", {"c.yaml": good, "out": "keep me\n"}, "out"),
        c("--out holds other files", {"c.yaml": good, "out/keep.txt": "keep me\n"}, "out"),
        c(
            "--resume on an empty directory",
            {"empty/": ""},
            "empty",
            "resume",
            args=("run", "--resume", "empty", "-q"),
        ),
        c("--resume on a file", good, "c.yaml", "resume", args=("run", "--resume", "c.yaml", "-q")),
        c("analyze an empty directory", {"empty/": ""}, "empty", args=("analyze", "empty")),
        c("report on a config file", good, "c.yaml", args=("report", "c.yaml")),
        c(
            "export --what pdf",
            {},
            "what",
            "pdf",
            args=("export", "arms", "--what", "pdf"),
            fixture="arms",
        ),
        c("export an arms directory", {}, args=("export", "arms"), fixture="arms", expect="accept"),
        c(
            "export an arms directory as GEXF",
            {},
            args=("export", "arms", "--what", "gexf"),
            fixture="arms",
            expect="accept",
        ),
        c(
            "bad config into a finished run directory",
            config(BASE, seed=-1),
            "seed",
            args=("run", "c.yaml", "--out", "arms", "--no-report", "-q"),
            fixture="arms",
        ),
    ]


def hostile_cases(seed: int) -> list[Case]:
    """Every named hostile case (binary contents drawn from `seed`)."""
    return _yaml_cases() + _value_cases() + _file_cases(random.Random(seed)) + _command_cases()
