"""``python -m bot.cli`` is the ``hotline`` command."""

from bot.cli import main

main()
