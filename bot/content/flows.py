"""Flows as data: ``flows/*.yaml`` read, checked field by field, then as a graph.

A flow file holds nodes. A node has a ``type`` (one of :data:`STEP_TYPES`); nodes that wait for the
person (``menu``, ``ask``) stop the run, the others lead on with ``next``. Exits (``next``, a choice's
``goto``, a trigger) name a node in the same file (``menu``) or another (``main.menu``). Every mistake
is reported with the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content.fields import LOCALES, Errors, LocalText, check_keys, get_local, get_str
from bot.errors import ContentError, ContentErrors
from bot.topics import TOPICS
from bot.yamlfile import LineDict, LineList, display_path, load_yaml

SPEC_VERSION = 1
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CHOICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback data
MAX_BUTTON_CHARS = 40
MAX_VOICE = 350  # as for articles: a short spoken text
CANDIDATES = "candidates"  # `articles: candidates`: the articles the matcher was unsure between


@dataclass(frozen=True)
class StepType:
    """The fields a step type takes, and whether it waits for the person."""

    name: str
    required: frozenset[str]
    optional: frozenset[str]
    waits: bool


def _step(name: str, required: Iterable[str], optional: Iterable[str], waits: bool) -> StepType:
    return StepType(name, frozenset(required), frozenset(optional) | {"type"}, waits)


STEP_TYPES: dict[str, StepType] = {
    s.name: s
    for s in (
        _step("say", ["text", "next"], ["voice"], waits=False),
        _step("menu", ["text"], ["voice", "choices", "articles", "free_text", "key"], waits=True),
        _step("ask", ["text", "action", "next"], ["voice", "choices", "params", "branches"], waits=True),
        _step("article", ["article"], ["next"], waits=False),
        _step("action", ["action"], ["params", "next", "branches"], waits=False),
    )
}


@dataclass
class ChoiceSpec:
    """A choice of a menu or ask node; its button id is ``<node ref>:<id>``."""

    id: str
    label: LocalText
    goto: str
    line: int
    key: str | None = None  # the phone key for this choice, where fixed (e.g. "9")


@dataclass
class Node:
    """One step of a flow."""

    ref: str
    type: str
    path: str
    line: int
    text: LocalText | None = None
    voice: LocalText | None = None
    choices: list[ChoiceSpec] = field(default_factory=list)
    next: str | None = None
    articles: str | None = None
    free_text: str | None = None
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    article: str | None = None

    @property
    def flow(self) -> str:
        return self.ref.split(".", 1)[0]

    @property
    def waits(self) -> bool:
        return STEP_TYPES[self.type].waits

    def choice_id(self, choice: ChoiceSpec) -> str:
        return f"{self.ref}:{choice.id}"


@dataclass
class Command:
    """Words that jump to a node from anywhere (``menu``, ``/xoa``, ``tiếng việt``...)."""

    words: tuple[str, ...]
    goto: str
    line: int


@dataclass
class Flows:
    """Every node of every flow, the engine's strings and the global commands."""

    nodes: dict[str, Node]
    strings: dict[str, LocalText]
    commands: list[Command]
    triggers: dict[str, str]  # article id -> node ref

    def string(self, key: str, locale: str, **values: object) -> str:
        return self.strings[key].format(locale, **values)


def _resolve(ref: str, flow: str) -> str:
    return ref if "." in ref else f"{flow}.{ref}"


def _read_choices(raw: Any, node_data: LineDict, flow: str, errors: Errors, ref: str) -> list[ChoiceSpec]:
    if raw is None:
        return []
    if not isinstance(raw, LineList):
        errors.at(node_data, "choices", "`choices` must be a list")
        return []
    result: list[ChoiceSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, LineDict):
            errors.add(raw.line_of(index), "each choice needs `id`, `label` and `goto`")
            continue
        check_keys(item, {"id", "label", "goto", "key"}, errors, "a choice")
        choice_id = get_str(item, "id", errors)
        label = get_local(item, "label", errors, max_len=MAX_BUTTON_CHARS)
        goto = get_str(item, "goto", errors)
        key = item.get("key")
        if key is not None and str(key) not in set("0123456789*#"):
            errors.at(item, "key", "`key` must be one phone key: 0-9, * or #")
        if choice_id is None or label is None or goto is None:
            continue
        if not CHOICE_ID.match(choice_id):
            errors.at(item, "id", f"choice id {choice_id!r}: use lower-case letters, digits, - and _")
        if choice_id in seen:
            errors.at(item, "id", f"choice id {choice_id!r} appears twice in this node")
        seen.add(choice_id)
        if len(f"{ref}:{choice_id}".encode()) > MAX_CALLBACK_BYTES:
            errors.at(item, "id", f"`{ref}:{choice_id}` is longer than Telegram's 64-byte button limit")
        result.append(
            ChoiceSpec(choice_id, label, _resolve(goto, flow), item.line, None if key is None else str(key))
        )
    return result


def _read_node(node_id: str, data: Any, flow: str, parent: LineDict, errors: Errors) -> Node | None:
    ref = f"{flow}.{node_id}"
    if not NAME.match(node_id):
        errors.at(parent, node_id, f"node name {node_id!r}: use lower-case letters, digits and _")
    if not isinstance(data, LineDict):
        errors.at(parent, node_id, f"node `{node_id}` must be a mapping with a `type`")
        return None
    step_name = data.get("type")
    step = STEP_TYPES.get(str(step_name)) if step_name is not None else None
    if step is None:
        known = ", ".join(sorted(STEP_TYPES))
        errors.at(data, "type", f"node `{node_id}`: unknown step type {step_name!r} (known: {known})")
        return None
    check_keys(data, step.required | step.optional, errors, f"a `{step.name}` node ({node_id})")
    for key in sorted(step.required - set(data)):
        errors.add(data.line, f"node `{node_id}` ({step.name}) needs `{key}`")
    node = Node(ref=ref, type=step.name, path=errors.path, line=data.line)
    if "text" in data:
        node.text = get_local(data, "text", errors)
    node.voice = get_local(data, "voice", errors, required=False, max_len=MAX_VOICE)
    if node.voice is not None:
        for locale in LOCALES:  # spoken on the phone line: "một một năm", never "115"
            if re.search(r"\d", node.voice.get(locale)):
                errors.at(data["voice"], locale, f"`voice.{locale}` has digits: write numbers in words")
    node.choices = _read_choices(data.get("choices"), data, flow, errors, ref)
    for key in ("next", "free_text"):
        if key in data:
            value = get_str(data, key, errors)
            setattr(node, key, _resolve(value, flow) if value else None)
    node.action = get_str(data, "action", errors, required=False) if "action" in data else None
    node.article = get_str(data, "article", errors, required=False) if "article" in data else None
    articles = data.get("articles")
    if articles is not None:
        if articles not in (*TOPICS, CANDIDATES):
            errors.at(data, "articles", f"`articles` must be a topic ({', '.join(TOPICS)}) or `{CANDIDATES}`")
        node.articles = str(articles)
    params = data.get("params", {})
    if not isinstance(params, dict):
        errors.at(data, "params", "`params` must be a mapping")
    else:
        node.params = dict(params)
    branches = data.get("branches", {})
    if not isinstance(branches, LineDict) and branches:
        errors.at(data, "branches", "`branches` must map an outcome to a node")
    elif branches:
        node.branches = {str(k): _resolve(str(v), flow) for k, v in branches.items()}
    if node.type == "menu" and not node.choices and not node.articles:
        errors.add(data.line, f"menu `{node_id}` offers nothing: give `choices` or `articles`")
    return node


def _read_flow_file(path: Path, root: Path, errors: Errors) -> tuple[list[Node], dict[str, tuple[str, int]]]:
    data = load_yaml(path, relative_to=root)
    if not isinstance(data, LineDict):
        errors.add(1, "a flow file must be a mapping with `spec`, `flow` and `nodes`")
        return [], {}
    check_keys(data, {"spec", "flow", "description", "nodes", "triggers"}, errors, "a flow file")
    if data.get("spec") != SPEC_VERSION:
        errors.at(data, "spec", f"`spec` must be {SPEC_VERSION} (the flow format version)")
    flow = data.get("flow")
    if flow != path.stem:
        errors.at(data, "flow", f"`flow` must be the file's name, {path.stem!r}")
    flow = path.stem
    nodes_data = data.get("nodes")
    if not isinstance(nodes_data, LineDict) or not nodes_data:
        errors.at(data, "nodes", "`nodes` must list at least one node")
        return [], {}
    nodes = [
        node
        for node_id, node_data in nodes_data.items()
        if (node := _read_node(node_id, node_data, flow, nodes_data, errors)) is not None
    ]
    triggers: dict[str, tuple[str, int]] = {}
    raw = data.get("triggers", {})
    if isinstance(raw, LineDict):
        for article_id, goto in raw.items():
            triggers[article_id] = (_resolve(str(goto), flow), raw.line_of(article_id))
    elif raw:
        errors.at(data, "triggers", "`triggers` must map an article id to a node")
    return nodes, triggers


def _read_strings(path: Path, root: Path, errors: Errors) -> tuple[dict[str, LocalText], list[Command]]:
    data = load_yaml(path, relative_to=root)
    if not isinstance(data, LineDict):
        errors.add(1, "strings.yaml must have `strings` and `commands`")
        return {}, []
    check_keys(data, {"spec", "strings", "commands"}, errors, "strings.yaml")
    strings: dict[str, LocalText] = {}
    raw = data.get("strings")
    if isinstance(raw, LineDict):
        for key in raw:
            text = get_local(raw, key, errors)
            if text is not None:
                strings[key] = text
    else:
        errors.at(data, "strings", "`strings` must map a key to {vi, en}")
    commands: list[Command] = []
    raw_commands = data.get("commands", [])
    if not isinstance(raw_commands, LineList):
        errors.at(data, "commands", "`commands` must be a list of {words, goto}")
        return strings, commands
    for index, item in enumerate(raw_commands):
        if not isinstance(item, LineDict) or not isinstance(item.get("words"), list):
            errors.add(raw_commands.line_of(index), "a command needs `words` (a list) and `goto`")
            continue
        goto = get_str(item, "goto", errors)
        if goto is None:
            continue
        commands.append(Command(tuple(str(w) for w in item["words"]), goto, item.line))
    return strings, commands


def load_flows(
    flows_dir: Path,
    *,
    article_ids: set[str] | None = None,
    actions: set[str] | None = None,
    required_strings: Iterable[str] = (),
    root: Path | None = None,
) -> Flows:
    """Load and validate every flow; raise :class:`ContentErrors` listing every mistake found."""
    root = root or flows_dir.parent
    found: list[ContentError] = []
    nodes: dict[str, Node] = {}
    triggers: dict[str, str] = {}
    trigger_lines: dict[str, tuple[str, int]] = {}
    strings: dict[str, LocalText] = {}
    commands: list[Command] = []
    strings_path = flows_dir / "strings.yaml"
    files = sorted(p for p in flows_dir.glob("*.yaml") if p != strings_path)
    if not files:
        raise ContentErrors([ContentError(display_path(flows_dir, root), None, "no flow files found")])
    unreadable: set[str] = set()  # flows that failed to parse: refs into them are not reported
    for path in files:
        errors = Errors(display_path(path, root))
        try:
            file_nodes, file_triggers = _read_flow_file(path, root, errors)
        except ContentError as exc:
            found.append(exc)
            unreadable.add(path.stem)
            continue
        for node in file_nodes:
            nodes[node.ref] = node
        for article_id, (goto, line) in file_triggers.items():
            triggers[article_id] = goto
            trigger_lines[article_id] = (errors.path, line)
        found.extend(errors.found)
    strings_errors = Errors(display_path(strings_path, root))
    strings_read = False
    if strings_path.exists():
        try:
            strings, commands = _read_strings(strings_path, root, strings_errors)
            strings_read = True
        except ContentError as exc:
            found.append(exc)
    else:
        strings_errors.add(None, "strings.yaml is missing")
    for key in required_strings:
        if key not in strings and strings_read:
            strings_errors.add(None, f"the engine needs the string `{key}`")
    found.extend(strings_errors.found)

    # The graph: every exit leads to a node that exists; articles and actions are known.
    def broken(path: str, line: int, what: str, ref: str) -> None:
        if ref.split(".", 1)[0] in unreadable:
            return
        found.append(ContentError(path, line, f"{what} leads to `{ref}`, which does not exist"))

    for node in nodes.values():
        for choice in node.choices:
            if choice.goto not in nodes:
                broken(node.path, choice.line, f"choice `{choice.id}` of `{node.ref}`", choice.goto)
        for label, ref in [("next", node.next), ("free_text", node.free_text), *node.branches.items()]:
            if ref is not None and ref not in nodes:
                broken(node.path, node.line, f"`{label}` of `{node.ref}`", ref)
        if article_ids is not None and node.article and node.article not in article_ids:
            found.append(ContentError(node.path, node.line, f"article `{node.article}` does not exist"))
        if actions is not None and node.action and node.action not in actions:
            known = ", ".join(sorted(actions))
            found.append(
                ContentError(node.path, node.line, f"unknown action `{node.action}` (known: {known})")
            )
    for article_id, ref in triggers.items():
        where, line = trigger_lines[article_id]
        if ref not in nodes:
            broken(where, line, f"trigger `{article_id}`", ref)
        if article_ids is not None and article_id not in article_ids:
            found.append(
                ContentError(where, line, f"trigger names article `{article_id}`, which does not exist")
            )
    for command in commands:
        if command.goto not in nodes:
            broken(strings_errors.path, command.line, "a command", command.goto)
    if found:
        raise ContentErrors(found)
    return Flows(nodes=nodes, strings=strings, commands=commands, triggers=triggers)
