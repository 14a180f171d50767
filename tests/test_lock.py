"""The lock files agree with pyproject.toml, and the distribution has a name of its own.

`make install` installs requirements/*.lock with `--require-hashes` and then the project with `--no-deps`:
a dependency added to pyproject.toml without `make lock` would be missing at run time, and one whose
range no longer admits the pin would run untested. These checks read files only (no network), so
they run everywhere the suite runs, CI included.
"""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
INSTALL_IN = ROOT / "requirements" / "install.in"
DISTRIBUTION = "vn-harm-reduction-hotline"

# `name==version \` and then one `--hash=sha256:...` line or more, as pip-compile writes them
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M)


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(lines: list[str]) -> list[Requirement]:
    return [Requirement(line) for line in lines]


def _install_in() -> list[Requirement]:
    lines = [line.strip() for line in INSTALL_IN.read_text().splitlines()]
    return _requirements([line for line in lines if line and not line.startswith("#")])


def _pins(lock: Path) -> dict[str, str]:
    text = lock.read_text()
    pins = {canonicalize_name(name): version for name, version, _ in _PIN.findall(text)}
    # every requirement line of the lock is a hashed pin (pip --require-hashes refuses anything else)
    lines = [line for line in text.splitlines() if line and not line[0].isspace() and line[0] != "#"]
    assert len(lines) == len(pins), f"{lock.name}: lines that are not hashed pins"
    return pins


def _project() -> dict[str, object]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    return project


def _runtime() -> list[Requirement]:
    return _requirements(_project()["dependencies"])  # type: ignore[arg-type]


def _dev() -> list[Requirement]:
    return _requirements(_project()["optional-dependencies"]["dev"])  # type: ignore[index]


def _missing_or_outside(requirements: list[Requirement], pins: dict[str, str]) -> list[str]:
    wrong = []
    for requirement in requirements:
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            wrong.append(f"{requirement} (locked: {pinned})")
    return wrong


@pytest.mark.parametrize(
    ("lock", "groups"),
    [(RUNTIME_LOCK, ("runtime", "install")), (DEV_LOCK, ("runtime", "dev", "install"))],
    ids=["runtime", "dev"],
)
def test_every_dependency_is_pinned_within_its_range(lock: Path, groups: tuple[str, ...]) -> None:
    sources = {"runtime": _runtime, "dev": _dev, "install": _install_in}
    requirements = [requirement for group in groups for requirement in sources[group]()]
    assert _missing_or_outside(requirements, _pins(lock)) == [], "run `make lock` and commit the lock files"


def test_the_extras_asked_for_are_locked_too() -> None:
    """`uvicorn[standard]` needs uvloop, httptools...: the lock must hold what the extra brings."""
    pins = _pins(RUNTIME_LOCK)
    missing = []
    for requirement in _runtime():
        for extra in requirement.extras:
            for line in metadata.requires(requirement.name) or []:
                needed = Requirement(line)
                wanted = needed.marker is not None and needed.marker.evaluate({"extra": extra})
                if wanted and canonicalize_name(needed.name) not in pins:
                    missing.append(f"{requirement.name}[{extra}] -> {needed.name}")
    assert missing == []


def test_the_build_backend_in_the_lock_is_the_one_pyproject_asks_for() -> None:
    """The project is built without isolation from the locked setuptools: it must be the one declared."""
    build_requires = _pyproject()["build-system"]["requires"]  # type: ignore[index]
    declared = {str(requirement) for requirement in _requirements(build_requires)}
    repeated = {str(requirement) for requirement in _install_in() if requirement.name != "pip"}
    assert declared == repeated


def test_the_runtime_lock_pins_what_the_dev_lock_pins() -> None:
    """Tests run against the dev lock: a service installed from the runtime lock runs the same versions."""
    runtime, dev = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    assert {
        name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version
    } == {}


def test_the_distribution_has_its_own_name_and_the_command_stays_hotline() -> None:
    """`hotline` on the package index is another project: `pip install -U hotline` must not be ours."""
    assert _project()["name"] == DISTRIBUTION
    scripts = metadata.distribution(DISTRIBUTION).entry_points.select(group="console_scripts")
    assert {(script.name, script.value) for script in scripts} == {("hotline", "bot.cli:main")}
