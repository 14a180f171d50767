"""``hotline chat``: the engine in a terminal, a channel like the others."""

from __future__ import annotations

import asyncio

import click

from bot.engine.messages import Choice, InboundMessage, Reply
from bot.errors import BadInput
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
