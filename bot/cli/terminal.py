"""``hotline chat``: the engine in a terminal, a channel like the others."""

from __future__ import annotations

import asyncio
import logging
import secrets

import click

from bot.cli.common import settings_for
from bot.errors import BadInput
from bot.messages import Choice, InboundMessage, Reply
from bot.runtime import build_services
from bot.settings import Settings

NAME = "terminal"


def _show(replies: tuple[Reply, ...]) -> list[Choice]:
    choices: list[Choice] = []
    for reply in replies:
        click.echo(click.style("bot> ", fg="green") + reply.text)
        for choice in reply.choices:
            choices.append(choice)
            click.echo(f"   {len(choices)}. {choice.label}")
    return choices


async def run_terminal_chat(settings: Settings, user: str, locale: str | None) -> None:
    services = build_services(settings, channel_factories=[])
    await services.start(dispatcher=False)
    try:
        outcome = await services.engine.handle(InboundMessage(NAME, user, kind="start", locale=locale))
        choices = _show(outcome.replies)
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except (EOFError, KeyboardInterrupt):
                click.echo()
                return
            line = line.strip()
            if not line:
                continue
            if line.isdigit() and 1 <= int(line) <= len(choices):
                message = InboundMessage(NAME, user, choice=choices[int(line) - 1].id, kind="choice")
            else:
                message = InboundMessage(NAME, user, text=line, kind="text")
            try:
                outcome = await services.engine.handle(message)
            except BadInput as exc:
                click.echo(f"({exc})")
                continue
            choices = _show(outcome.replies) or choices
    finally:
        await services.close()


@click.command()
@click.option("--user", default=None, help="A name for this terminal session (kept only as a keyed hash).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None)
@click.pass_context
def chat(ctx: click.Context, user: str | None, lang: str | None) -> None:
    """Talk to the engine in the terminal (type a number to choose, Ctrl-D to leave)."""
    from bot.store.migrate import upgrade

    settings = settings_for(ctx)
    upgrade(settings.database_url)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run_terminal_chat(settings, user or secrets.token_hex(8), lang))
