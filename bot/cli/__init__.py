"""The ``hotline`` command: serve, chat in the terminal, migrate, check content, and the rest.

Every command lives in a module of this package and is listed in :data:`COMMANDS`, the one place that
names them all. A command's module is imported only when the command runs (or for ``--help``):
``hotline serve`` does not pay for aiogram, the Zalo clients or the statistics.
"""

from __future__ import annotations

import importlib

import click

COMMANDS = {
    "serve": "bot.cli.serve:serve",
    "dispatch": "bot.cli.serve:dispatch",
    "db": "bot.cli.db:db",
    "check": "bot.cli.check:check",
    "chat": "bot.cli.terminal:chat",
    "purge": "bot.cli.purge:purge",
    "train": "bot.cli.train:train_command",
    "classify": "bot.cli.nlu:classify_command",
    "eval": "bot.cli.nlu:eval_command",
    "export-rasa": "bot.cli.nlu:export_rasa_command",
    "telegram": "bot.cli.telegram:telegram_group",
    "zalo": "bot.cli.zalo:zalo",
    "zalo-oa": "bot.cli.zalo:zalo_oa",
    "staff": "bot.cli.staff:staff",
    "rota": "bot.cli.staff:rota",
    "stats": "bot.cli.stats:stats_command",
    "rotate-key": "bot.cli.keys:rotate_key",
    "backup": "bot.cli.backup:backup_command",
    "restore": "bot.cli.backup:restore_command",
    "doctor": "bot.cli.doctor:doctor_command",
}
"""Every ``hotline`` command: its name, and the module and attribute of its click command."""


class _Commands(click.Group):
    """A click group whose commands are :data:`COMMANDS`, each imported when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _, attribute = COMMANDS[cmd_name].partition(":")
        found = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(found, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        return found


@click.group(cls=_Commands)
@click.option("--database-url", envvar="HOTLINE_DATABASE_URL", help="Overrides HOTLINE_DATABASE_URL.")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Anonymous harm-reduction hotline: web chat, Telegram, Zalo and a phone line on one engine."""
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url
