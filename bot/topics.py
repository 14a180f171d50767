"""The topics a person's question can be about: one list for the content, the language model and the figures."""

from __future__ import annotations

TOPICS: tuple[str, ...] = ("hiv_sti", "harm_reduction", "legal", "violence", "support")
"""What articles are filed under (flows/, knowledge/) and what the statistics count contacts by."""

OTHER = "other"
"""The language model's label for a message about none of the topics; no article and no figure has it."""

LABELS: tuple[str, ...] = (*TOPICS, OTHER)
"""What the language model tells apart: the topics and ``other``."""
