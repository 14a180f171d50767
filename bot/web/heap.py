"""The server process's heap, kept out of the garbage collector's full passes once it is built.

A full pass of Python's cycle collector (generation 2) walks every container object the process holds:
the language model, the content, the libraries' modules and classes. Measured in ``hotline serve`` under
the greeting benchmark (``benchmarks/http_bench.py --only voice``): 100 to 230 ms a pass, several passes in
ten seconds, each one holding every request in flight for that long: most of the answers slower than
p99. What exists once the service is built lives as long as the process, so :func:`freeze` collects once
and moves it all into the permanent generation (:func:`gc.freeze`); passes then walk only what was made
since. Objects made later are collected as before; garbage cycles made before the freeze were collected
by it.

``hotline serve`` freezes twice: as it starts listening, without a collection (``collect=False``: one
then found about ten unreachable objects among 150,000, in 110 ms), and after the warm-up, as above.
Before the first, the warm-up's imports set off a full pass and the second freeze's collection made
another, each walking the whole model and content while the first requests waited: 257 to 301 ms of
passes in all, measured from the server's start under the web chat benchmark; 19 to 53 ms now.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze(*, collect: bool = True) -> None:
    """Collect (unless not ``collect``), then keep everything alive now out of the collector's passes."""
    started = time.monotonic()
    if collect:
        gc.collect()
    gc.freeze()
    log.debug("heap frozen: %d objects, in %.2f s", gc.get_freeze_count(), time.monotonic() - started)
