"""The layering contract (pyproject.toml ``[tool.importlinter]``, run by ``make lint``; ../shared/DESIGN.md
"Layers"): the code keeps it, and it refuses each wrong-way import issue 16 found, were one written back.

The contracts are checked through import-linter's own API against the real import graph of ``bot`` and
``ivr``, with one import added to it, so the test reads the configuration CI uses and changes no file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from importlinter.application.app_config import settings
from importlinter.application.ports.building import GraphBuilder
from importlinter.application.use_cases import create_report, read_user_options
from importlinter.configuration import configure
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import registry

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


class _Graph(GraphBuilder):
    """Hands import-linter the graph below, built once for the module."""

    def __init__(self, graph: grimp.ImportGraph) -> None:
        self.graph = graph

    def build(
        self,
        root_package_names: list[str],
        cache_dir: str | None,
        include_external_packages: bool = False,
        exclude_type_checking_imports: bool = False,
    ) -> grimp.ImportGraph:
        assert sorted(root_package_names) == ["bot", "ivr"]
        assert not include_external_packages and not exclude_type_checking_imports
        return self.graph


CONTRACT_IDS = {
    contract["name"]: contract["id"]
    for contract in tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
}


@pytest.fixture(scope="module")
def graph() -> Iterator[grimp.ImportGraph]:
    configure()
    # The contract types pyproject.toml uses (the command line registers them itself).
    for contract_class, name in (
        (LayersContract, "layers"),
        (AcyclicSiblingsContract, "acyclic_siblings"),
        (ForbiddenContract, "forbidden"),
        (IndependenceContract, "independence"),
    ):
        registry.register(contract_class, name)
    graph = grimp.build_graph("bot", "ivr", cache_dir=None)
    settings.configure(GRAPH_BUILDER=_Graph(graph))
    yield graph
    configure()  # the default graph builder back, for anything after us in this process


def broken_contracts(graph: grimp.ImportGraph, extra: tuple[str, str] | None = None) -> set[str]:
    """The ids of the contracts the code breaks, with ``extra`` (importer, imported) written into it."""
    new_module = extra is not None and extra[0] not in graph.modules
    if extra is not None:
        graph.add_import(
            importer=extra[0], imported=extra[1], line_number=1, line_contents=f"import {extra[1]}"
        )
    try:
        report = create_report(read_user_options(str(PYPROJECT)), cache_dir=None)
    finally:
        if extra is not None:
            graph.remove_import(importer=extra[0], imported=extra[1])
            if new_module:
                graph.remove_module(extra[0])
    assert not report.could_not_run
    return {
        CONTRACT_IDS[contract.name] for contract, check in report.get_contracts_and_checks() if not check.kept
    }


def test_the_code_keeps_every_contract(graph: grimp.ImportGraph) -> None:
    assert broken_contracts(graph) == set()


# Each wrong-way import the issue named, written back (where the module moved, its new place), and the
# contract that refuses it.
WRONG_WAY = [
    # store/maintenance.py imported the runtime to purge
    (("bot.store.maintenance", "bot.runtime"), "layers"),
    # the engine asked escalation/requests.py to open an escalation, while escalation imported the engine
    (("bot.engine.actions", "bot.escalation.paging"), "layers"),
    (("bot.engine.engine", "bot.escalation.desk"), "layers"),
    # escalation/commands.py hashed passwords with the console's code
    (("bot.escalation.rota", "bot.console.auth"), "layers"),
    # stats/figures.py took OUTCOMES from the desk
    (("bot.stats.figures", "bot.escalation.desk"), "stats-reads-store"),
    # stats/audit.py and stats/suppress.py imported each other
    (("bot.stats.audit", "bot.stats.suppress"), "acyclic"),
    # command modules in five packages imported bot.cli back
    (("bot.stats.report", "bot.cli"), "layers"),
    (("bot.escalation.rota", "bot.cli.common"), "layers"),
    # content/check.py loaded the content through the engine
    (("bot.content.knowledge", "bot.engine.content"), "layers"),
    # the console imported the runtime for its type
    (("bot.console.routes", "bot.runtime"), "layers"),
    # a channel importing the web app's assembly
    (("bot.channels.webchat", "bot.web.app"), "layers"),
    # two TOPICS: the content reading the language model's labels
    (("bot.content.flows", "bot.nlu.contract"), "layers"),
    # every channel took the whole runtime (Services), and the runtime imported the registry back
    (("bot.channels.webchat", "bot.runtime"), "layers"),
    (("bot.channels.telegram.channel", "bot.runtime"), "layers"),
    (("ivr.channel", "bot.runtime"), "layers"),
    (("bot.escalation.twilio_pager", "bot.runtime"), "layers"),
    # a channel borrowing another's code (the numbered choices lived in zalo/render.py)
    (("bot.channels.webchat", "bot.channels.zalo.render"), "channels"),
    (("ivr.render", "bot.channels.telegram.render"), "channels"),
]


@pytest.mark.parametrize(("extra", "contract"), WRONG_WAY, ids=[f"{a}->{b}" for (a, b), _ in WRONG_WAY])
def test_a_wrong_way_import_breaks_the_contract(
    graph: grimp.ImportGraph, extra: tuple[str, str], contract: str
) -> None:
    assert contract in broken_contracts(graph, extra)


@pytest.mark.parametrize(
    "extra",
    [
        ("bot.escalation.desk", "bot.engine.content"),
        ("bot.cli.serve", "bot.runtime"),
        ("bot.stats.report", "bot.store.models"),
    ],
    ids=lambda extra: f"{extra[0]}->{extra[1]}",
)
def test_an_import_down_the_layers_breaks_nothing(graph: grimp.ImportGraph, extra: tuple[str, str]) -> None:
    assert broken_contracts(graph, extra) == set()
