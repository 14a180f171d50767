"""Recorded prompts: a human voice in place of text-to-speech, where the operator has recorded one.

``HOTLINE_TWILIO_AUDIO_URL`` is the base address of the recordings (Twilio fetches them from there). It
holds ``manifest.txt``, one file per line, and the files it lists, named ``<locale>/<name>.mp3`` (or
``.wav``):

* ``<locale>/<flow>.<node>.mp3``: the text of a menu or question node (``vi/main.menu.mp3``);
* ``<locale>/article.<article id>.mp3``: an article's spoken answer (``vi/article.pep.mp3``);
* ``<locale>/ivr.<prompt key>.mp3``: a prompt of ``ivr/prompts.yaml`` without ``{placeholders}``
  (``vi/ivr.footer.mp3``).

The manifest is read when the service starts; anything not listed is spoken with text-to-speech.
httpx is imported only then (a tenth of a second or more of the start, for a setting most lines lack).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

MANIFEST = "manifest.txt"
EXTENSIONS = (".mp3", ".wav")


class AudioPrompts:
    """Which recordings exist, and their addresses."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.files: frozenset[str] = frozenset()

    async def load(self, http: httpx.AsyncClient | None = None) -> None:
        """Read the manifest; if it cannot be read, say so and keep to text-to-speech."""
        if self.base_url is None:
            return
        import httpx

        url = f"{self.base_url}/{MANIFEST}"
        try:
            if http is None:
                async with httpx.AsyncClient(timeout=10) as client:
                    response = await client.get(url)
            else:
                response = await http.get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning(
                "recorded prompts: could not read %s (%s); using text-to-speech. Check "
                "HOTLINE_TWILIO_AUDIO_URL and restart once the manifest is there.",
                url,
                type(exc).__name__,
            )
            return
        lines = (line.strip() for line in response.text.splitlines())
        self.files = frozenset(line for line in lines if line and not line.startswith("#"))
        log.info("recorded prompts: %d files listed", len(self.files))

    def url_for(self, locale: str, name: str) -> str | None:
        """The address of the recording of ``name`` in ``locale``, or None to use text-to-speech."""
        if self.base_url is None:
            return None
        for extension in EXTENSIONS:
            path = f"{locale}/{name}{extension}"
            if path in self.files:
                return f"{self.base_url}/{quote(path)}"
        return None
