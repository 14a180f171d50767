"""The checked content kept in a file, so that a start does not read and check every YAML file again.

Reading the flows and the knowledge (about 120 YAML files) and checking them against each other takes
a quarter of a second at every start of ``hotline serve``; unpickling the result takes milliseconds.
The file's name carries a hash of everything the result depends on: every file under the flows and
knowledge folders, the service's Python sources (``bot/``) and Python's version. Change any of them
and the name changes, so a stale result is never used: the content is read and checked again, and a
content mistake stops the start exactly as without the file. A file that cannot be read or unpickled
is replaced; a folder that cannot be written only means the content is read at every start.

It lives beside the language model (``HOTLINE_MODEL_DIR``, by default ``var/models``), a folder only
the service's own user can write: pickle runs code when loading.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sys
from pathlib import Path

from bot.engine.content import Content, load_content
from bot.files import hash_files, keep_newest, replace_private

log = logging.getLogger(__name__)

FORMAT = 1
"""Bump when what is stored changes shape in a way the sources' hash would not show."""
PREFIX = "content-"
SUFFIX = ".pickle"
KEEP = 3
SOURCES = Path(__file__).resolve().parent.parent  # bot/


def _files(root: Path, pattern: str = "*") -> list[Path]:
    return sorted(path for path in root.rglob(pattern) if path.is_file())


def content_key(flows_dir: Path, knowledge_dir: Path) -> str:
    """The hash that names the content file (the folders and sources read again: milliseconds)."""
    digest = hashlib.sha256(f"format={FORMAT} python={sys.version_info[:2]}\n".encode())
    hash_files(digest, "flows", flows_dir, _files(flows_dir))
    hash_files(digest, "knowledge", knowledge_dir, _files(knowledge_dir))
    hash_files(digest, "code", SOURCES, _files(SOURCES, "*.py"))
    return digest.hexdigest()[:24]


def load_content_cached(flows_dir: Path, knowledge_dir: Path, cache_dir: Path) -> Content:
    """The content of the folders, from ``cache_dir`` when it holds this very content, else read and
    checked (:func:`load_content`, which raises on a mistake) and stored there for the next start."""
    path = cache_dir / f"{PREFIX}{content_key(flows_dir, knowledge_dir)}{SUFFIX}"
    try:
        stored = pickle.loads(path.read_bytes())  # noqa: S301 - the service's own private folder
    except FileNotFoundError:
        stored = None
    except Exception as exc:  # truncated, corrupt or from an incompatible version: read the content
        log.warning("cannot read the checked content from %s (%s); reading the content files", path, exc)
        stored = None
    if isinstance(stored, Content):
        return stored
    content = load_content(flows_dir, knowledge_dir)
    try:
        replace_private(path, pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:  # an unwritable folder, or content that cannot be pickled: not fatal
        log.warning("cannot keep the checked content in %s (%s); it is read at every start", path, exc)
        return content
    keep_newest(path, PREFIX, SUFFIX, KEEP)
    return content
