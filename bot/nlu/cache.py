"""The trained language model, kept in a file so that a start does not train it again.

Training takes seconds; loading a pickle of the trained object takes a fraction of that. The file's
name carries a hash of everything the model is built from: the training content the model reads
(``articles/*.yaml`` and every file of ``nlu/`` except the held-out set ``heldout*.yaml``), the
sources of ``bot/nlu/*.py`` and the versions of Python, scikit-learn, SciPy and NumPy. Change any
of them and the name changes, so a stale model is never loaded; the old file is simply not looked at
(and the oldest are removed, a few newest kept for a rolling deploy).

The whole built object is pickled, whatever its insides are, so the model's code can change without
touching this module. Its numpy arrays (tens of megabytes: the article classifier's weights) are kept
out of the pickle, after it in the same file, and come back as read-only views of the file mapped into
memory: the process does not copy them, the pages it never reads cost nothing, the kernel may drop and
re-read them, and processes serving the same file share them. A file that cannot be read or unpickled, or holds something else, is trained
again and replaced: a bad cache never stops the service. Files are written to a temporary name and
renamed, so two processes starting together never read half a file. Its regular expressions come back
as :class:`LazyPattern`, compiled when first used.

Pickle runs code when loading: the folder must be writable only by the service's own user (the
default, ``var/models``, is created with the rest of ``var/``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import mmap
import pickle
import re
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from bot.files import hash_files, keep_newest, replace_private

log = logging.getLogger(__name__)

T = TypeVar("T")

FORMAT = 2
"""Bump when the file layout below changes."""
MAGIC = b"HLNLU\x00\x00\x02"
HEADER = struct.Struct("<8sQQ")  # magic, length of the pickle, number of arrays kept after it
ENTRY = struct.Struct("<QQ")  # an array's offset in the file and its length in bytes
ALIGN = 64
KEEP = 3
"""How many model files to keep in the folder (the current one included)."""
PREFIX = "nlu-"
SUFFIX = ".pickle"
SOURCES = Path(__file__).resolve().parent
LIBRARIES = ("scikit-learn", "scipy", "numpy")

Status = Literal["loaded", "trained", "retrained"]


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A model and where it came from: ``loaded`` from the file, ``trained`` (no file yet), or
    ``retrained`` (the file was unreadable or forced)."""

    model: T
    path: Path
    status: Status
    seconds: float


def training_files(knowledge_dir: Path) -> list[Path]:
    """The content files the model is trained from: never the held-out set, never other content."""
    articles = sorted((knowledge_dir / "articles").glob("*.yaml"))
    nlu_dir = knowledge_dir / "nlu"
    nlu = sorted(  # nlu/training/*.yaml too: a new writer's file must train a new model
        path
        for path in (nlu_dir.rglob("*") if nlu_dir.is_dir() else ())
        if path.is_file() and not (path.name.startswith("heldout") and path.suffix == ".yaml")
    )
    return [*articles, *nlu]


def source_files() -> list[Path]:
    """The model's own code: a change to any of it may change what training builds."""
    return sorted(SOURCES.glob("*.py"))


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def model_key(knowledge_dir: Path) -> str:
    """The hash that names the model file of ``knowledge_dir`` (read from the files, in milliseconds)."""
    digest = hashlib.sha256()
    versions = [f"format={FORMAT}", f"python={sys.version_info.major}.{sys.version_info.minor}"]
    versions += [f"{name}={_version(name)}" for name in LIBRARIES]
    digest.update(("\n".join(versions) + "\n").encode())
    hash_files(digest, "data", knowledge_dir, training_files(knowledge_dir))
    hash_files(digest, "code", SOURCES, source_files())
    return digest.hexdigest()[:24]


def model_path(model_dir: Path, knowledge_dir: Path) -> Path:
    """Where the model of ``knowledge_dir``'s current content lives (or would live)."""
    return model_dir / f"{PREFIX}{model_key(knowledge_dir)}{SUFFIX}"


def _load(path: Path, key: str, kind: type[T]) -> T | None:
    """The model in ``path``, or None when it is missing, unreadable or not what it should be."""
    try:
        stored = loads(path)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated, corrupt or incompatible file: train again
        log.warning("the model file %s cannot be read (%s); training again", path, type(exc).__name__)
        return None
    if (
        not isinstance(stored, dict)
        or stored.get("format") != FORMAT
        or stored.get("key") != key
        or not isinstance(stored.get("model"), kind)
    ):
        log.warning("the model file %s holds something else; training again", path)
        return None
    model: T = stored["model"]
    return model


def loads(path: Path) -> object:
    """What :func:`dumps` wrote to ``path``; its arrays are read-only views of the file, mapped.

    The mapping outlives the file's name: a newer model renamed over it, or an old one pruned, does not
    change what a running process reads.
    """
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    magic, length, count = HEADER.unpack_from(view)
    if magic != MAGIC:
        raise ValueError("not a model file of this format")
    start = HEADER.size + count * ENTRY.size
    entries = [ENTRY.unpack_from(view, HEADER.size + n * ENTRY.size) for n in range(count)]
    if any(offset + size > len(view) for offset, size in entries) or start + length > len(view):
        raise ValueError("the model file is truncated")
    buffers = [view[offset : offset + size] for offset, size in entries]
    return _Unpickler(io.BytesIO(view[start : start + length]), buffers=buffers).load()


class LazyPattern:
    """A regular expression of a loaded model, compiled the first time it is used.

    The model holds about a thousand patterns (the lexicon's phrases, one per first word); unpickling
    compiled each of them, a good part of the model's load at every start, though most are not needed
    for the first messages and some never. This one is the same pattern (the same source and flags), so
    it finds the same matches: on first use it is compiled with :func:`re.compile`, and its methods then
    go straight to the compiled pattern's. It is pickled as the compiled pattern it stands for.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> Any:  # only for what is not set yet: compile, then keep
        compiled = re.compile(self.pattern, self.flags)
        for method in ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __reduce__(self) -> tuple[Any, ...]:
        return re.compile, (self.pattern, self.flags)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyPattern | re.Pattern):
            return (self.pattern, self.flags) == (other.pattern, other.flags)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags})"


class _Unpickler(pickle.Unpickler):
    """Reads a model file's pickle with its regular expressions left to compile on first use."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("re", "_compile"):  # how a compiled pattern is pickled (copyreg)
            return LazyPattern
        return super().find_class(module, name)


def _rewrap(function: Callable[..., Any], maxsize: int | None, typed: bool) -> Callable[..., Any]:
    return functools.lru_cache(maxsize=maxsize, typed=typed)(function)


class _Pickler(pickle.Pickler):
    """A pickler that also takes per-object ``functools.lru_cache`` wrappers (the model keeps one
    around a bound method to reuse feature passes); they come back empty around the same function."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, functools._lru_cache_wrapper) and not _importable(obj):
            parameters = obj.cache_parameters()
            return _rewrap, (obj.__wrapped__, parameters["maxsize"], parameters["typed"])
        return NotImplemented


def _importable(obj: Any) -> bool:
    """True when pickle can save ``obj`` by name (a decorated module-level function)."""
    target: Any = sys.modules.get(getattr(obj, "__module__", "") or "")
    for part in str(getattr(obj, "__qualname__", "")).split("."):
        target = getattr(target, part, None)
    return target is obj


def dumps(model: object, key: str) -> bytes:
    """The bytes of a model file: a header, the table of arrays, the pickle, then each array (aligned)."""
    pickled = io.BytesIO()
    arrays: list[pickle.PickleBuffer] = []
    _Pickler(pickled, protocol=5, buffer_callback=arrays.append).dump(
        {"format": FORMAT, "key": key, "model": model}
    )
    raws = [array.raw() for array in arrays]
    start = HEADER.size + len(raws) * ENTRY.size
    offset = start + len(pickled.getbuffer())
    entries = []
    for raw in raws:
        offset += -offset % ALIGN
        entries.append((offset, raw.nbytes))
        offset += raw.nbytes
    out = io.BytesIO()
    out.write(HEADER.pack(MAGIC, len(pickled.getbuffer()), len(raws)))
    for entry in entries:
        out.write(ENTRY.pack(*entry))
    out.write(pickled.getbuffer())
    for (where, _size), raw in zip(entries, raws, strict=True):
        out.write(b"\0" * (where - out.tell()))
        out.write(raw)
    return out.getvalue()


def _write(path: Path, key: str, model: object) -> None:
    """Write atomically (temporary file, then rename); a failure is logged, never raised."""
    try:
        data = dumps(model, key)
    except Exception as exc:
        log.warning("cannot save the model (%s); it will be trained at every start", exc)
        return
    try:
        replace_private(path, data)  # the model is the service's alone
    except OSError as exc:
        log.warning("cannot write the model to %s (%s); it will be trained at every start", path, exc)
        return
    _prune(path)


def _prune(current: Path) -> None:
    """Keep the newest few model files (another version may still be running); drop the rest."""
    keep_newest(current, PREFIX, SUFFIX, KEEP)


def load_or_train(
    knowledge_dir: Path, model_dir: Path, train: Callable[[], T], kind: type[T], *, force: bool = False
) -> Cached[T]:
    """The model for the current content: loaded from ``model_dir`` if there, else trained and written."""
    started = time.perf_counter()
    key = model_key(knowledge_dir)
    path = model_dir / f"{PREFIX}{key}{SUFFIX}"
    existed = path.exists()
    if not force:
        model = _load(path, key, kind)
        if model is not None:
            seconds = time.perf_counter() - started
            log.info("language model loaded from %s in %.2f s", path, seconds)
            return Cached(model, path, "loaded", seconds)
    log.info("training the language model (%s)", "forced" if force else "content changed or no model file")
    model = train()
    _write(path, key, model)
    model = _load(path, key, kind) or model  # the arrays from the file, shared and mapped, not a copy
    seconds = time.perf_counter() - started
    log.info("language model trained in %.1f s and saved as %s", seconds, path)
    return Cached(model, path, "retrained" if existed else "trained", seconds)
