"""YAML with limits: every config and data file is read here, hostile input refused in one line.

A YAML file can say far more than it weighs: aliases repeat a node without copying it
(nine of them nested make a billion items), a thousand brackets nest a thousand deep, and
a key written twice silently keeps the last. :func:`load_yaml_file` and
:func:`load_yaml_text` refuse, while parsing and before anything is built:

- a file that is not a regular file, larger than the size limit, or not UTF-8 (a UTF-8 BOM
  is accepted);
- more aliases than the alias limit, a document whose size with every alias expanded
  exceeds the expanded-size limit, or an alias to a node that contains it;
- nesting deeper than the depth limit, a string longer than the string limit;
- a key given twice in one mapping (naming the key and both lines).

The limits that can sensibly be raised are read from environment variables at each load
(``SOCIALSIM_YAML_MAX_MB``, ``SOCIALSIM_YAML_MAX_ALIASES``, ``SOCIALSIM_YAML_MAX_EXPANDED``,
``SOCIALSIM_YAML_MAX_STRING``); each message names its limit and how to raise it. Events
come from libyaml's parser where PyYAML has it; nodes are composed (with the counting above)
and built in Python by PyYAML's safe constructor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:  # libyaml's event parser (C), when PyYAML was built with it: five times faster
    from yaml._yaml import CParser as _EventParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _EventParser = None

from socialsim.core.errors import ConfigError, require_file

MAX_MB = 2  # the largest built-in data file is 18 KB; a config is a few KB
MAX_ALIASES = 1_000
MAX_EXPANDED = 20_000_000  # characters of the document with every alias written out
MAX_STRING = 1_000_000
MAX_DEPTH = 100  # fixed: a deeper document is not a config


class YAMLSyntaxError(ConfigError):
    """Text that is not YAML at all (a syntax error), as opposed to YAML over a limit."""


@dataclass(frozen=True)
class YAMLLimits:
    """How much one YAML document may hold; the defaults are raised by environment variables."""

    max_bytes: int = MAX_MB * 2**20
    max_aliases: int = MAX_ALIASES
    max_expanded: int = MAX_EXPANDED
    max_string: int = MAX_STRING
    max_depth: int = MAX_DEPTH

    @classmethod
    def from_env(cls) -> YAMLLimits:
        """The limits, with any ``SOCIALSIM_YAML_MAX_*`` environment variable applied."""
        return cls(
            max_bytes=int(_env_number("SOCIALSIM_YAML_MAX_MB", MAX_MB) * 2**20),
            max_aliases=int(_env_number("SOCIALSIM_YAML_MAX_ALIASES", MAX_ALIASES)),
            max_expanded=int(_env_number("SOCIALSIM_YAML_MAX_EXPANDED", MAX_EXPANDED)),
            max_string=int(_env_number("SOCIALSIM_YAML_MAX_STRING", MAX_STRING)),
        )


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"environment variable {name}={raw[:40]!r} must be a positive number")
    return value


def load_yaml_file(path: str | Path, what: str = "YAML file", error: type = ConfigError) -> Any:
    """Read and parse one YAML file within the limits; `error` (a SocialsimError) otherwise.

    `what` names the file in messages (``"config file"``, ``"claims file"``).
    """
    path = require_file(path, what, error)
    limits = YAMLLimits.from_env()
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise error(f"{what} {str(path)!r} cannot be read ({exc.strerror or exc})") from None
    if len(raw) > limits.max_bytes:
        raise error(
            f"{path}: the file is larger than the limit of {limits.max_bytes:,} bytes; a config or "
            "data file is far smaller (set SOCIALSIM_YAML_MAX_MB to raise the limit for a trusted file)"
        )
    return load_yaml_text(decode_utf8(raw, str(path), error), str(path), limits, error)


def decode_utf8(raw: bytes, source: str, error: type = ConfigError) -> str:
    """The bytes as text, a UTF-8 BOM dropped; `error` naming the first bad byte otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise error(f"{source}: the file is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{source}: byte 0x{raw[exc.start]:02x} at line {line} is not UTF-8 (the file is in "
            "another encoding, e.g. Latin-1); save it as UTF-8"
        ) from None


def load_yaml_text(
    text: str, source: str = "YAML", limits: YAMLLimits | None = None, error: type = ConfigError
) -> Any:
    """Parse YAML text within `limits`; `error` (syntax: :class:`YAMLSyntaxError`) otherwise."""
    limits = limits or YAMLLimits.from_env()
    loader = None
    try:
        loader = _LimitedLoader(text)
        loader._start_counting(limits)
        return loader.get_single_data()
    except _LimitExceeded as exc:
        raise error(f"{source}: {exc}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        raise error(
            f"{source}: character U+{code:04X} at line {line} is not allowed in YAML (a "
            "control character: is it a text file?)"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        kind = YAMLSyntaxError if error is ConfigError else error
        raise kind(f"{source}: YAML syntax error{where}: {problem}") from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer of 5,000 digits
        raise error(f"{source}: a value cannot be read ({_short(str(exc), 80)})") from None
    finally:
        if loader is not None:
            loader.dispose()


class _LimitExceeded(Exception):
    """A limit of :class:`YAMLLimits` was passed (its message names the limit)."""


class _LimitedComposer(Composer):
    """PyYAML's composer, counting aliases, depth, expanded size and strings as it composes."""

    def _start_counting(self, limits: YAMLLimits) -> None:
        self.limits = limits
        self._aliases = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> expanded size, once the node is complete

    def compose_node(self, parent: Any, index: Any) -> Any:
        """One node, refused when it passes a limit (yaml.composer.Composer's hook)."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            self._aliases += 1
            if self._aliases > self.limits.max_aliases:
                raise _LimitExceeded(
                    f"more than {self.limits.max_aliases:,} aliases (*name) at line "
                    f"{_line(event)}; write the values out (or set SOCIALSIM_YAML_MAX_ALIASES "
                    "to raise the limit for a trusted file)"
                )
            if target is not None and id(target) not in self._sizes:
                raise _LimitExceeded(
                    f"the alias *{event.anchor} at line {_line(event)} refers to a node that "
                    "contains it (a cycle); a config cannot be cyclic"
                )
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self.limits.max_depth:
            raise _LimitExceeded(
                f"nesting deeper than {self.limits.max_depth} levels at line "
                f"{_line(self.peek_event())}; a config is nested a few levels deep"
            )
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = size = self._size(node)
        if size > self.limits.max_expanded:
            raise _LimitExceeded(
                f"the document holds more than {self.limits.max_expanded:,} characters once its "
                f"aliases are expanded (at line {node.start_mark.line + 1}); write it without "
                "nested aliases (or set SOCIALSIM_YAML_MAX_EXPANDED to raise the limit for a "
                "trusted file)"
            )
        return node

    def _size(self, node: Any) -> int:
        """The node's size with every alias expanded: characters of scalars, 2 per collection."""
        if isinstance(node, ScalarNode):
            if len(node.value) > self.limits.max_string:
                raise _LimitExceeded(
                    f"a string of {len(node.value):,} characters at line "
                    f"{node.start_mark.line + 1} is longer than {self.limits.max_string:,} (set "
                    "SOCIALSIM_YAML_MAX_STRING to raise the limit for a trusted file)"
                )
            return len(node.value) + 1
        sizes = self._sizes
        if isinstance(node, SequenceNode):
            return 2 + sum(sizes[id(item)] for item in node.value)
        assert isinstance(node, MappingNode)
        seen: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                first = seen.get((key.tag, key.value))
                if first is not None:
                    raise _LimitExceeded(
                        f"key {_short(key.value)!r} is given twice (line {first} and line "
                        f"{line}); keep one"
                    )
                seen[(key.tag, key.value)] = line
        return 2 + sum(sizes[id(k)] + sizes[id(v)] for k, v in node.value)


def _line(event: Any) -> int:
    return event.start_mark.line + 1


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


if _EventParser is not None:

    class _LimitedLoader(_LimitedComposer, _EventParser, SafeConstructor, Resolver):
        """Events from libyaml, composed (with the limits) and built in Python, safely."""

        def __init__(self, text: str) -> None:
            _EventParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML without libyaml

    class _LimitedLoader(_LimitedComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        """PyYAML's safe loader in pure Python, composing with the limits."""
