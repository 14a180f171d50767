"""``hotline backup FILE`` and ``hotline restore FILE`` (bot/store/backup.py; the runbook is
deploy/backup.md)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import load_settings
from bot.logs import setup_logging
from bot.settings import Settings


def _settings(ctx: click.Context) -> Settings:
    settings = load_settings(database_url=ctx.find_root().obj.get("database_url"))
    setup_logging(settings.log_level)
    return settings


def _counts(database_url: str) -> str:
    from bot.store.backup import table_counts

    tables = table_counts(database_url)
    return ", ".join(
        f"{name}: {tables.get(name, 0)}" for name in ("conversations", "messages", "escalations")
    )


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, file: Path) -> None:
    """Write a backup of the database to FILE (a new file, readable by its owner only).

    Safe while the service runs. SQLite: the online backup API; PostgreSQL: pg_dump --format=custom.
    """
    from bot.store.backup import CONTENTS, KEY_REMINDER, BackupError, backup

    settings = _settings(ctx)
    try:
        backup(settings.database_url, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã sao lưu / backed up: {file} ({file.stat().st_size} bytes)")
    click.echo(CONTENTS)
    click.echo(KEY_REMINDER)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
@click.pass_context
def restore_command(ctx: click.Context, file: Path, force: bool) -> None:
    """Restore the backup FILE into the database, then bring its schema up to date.

    Stop the service first. A database that holds data is replaced only with --force. PostgreSQL: the
    database must exist (createdb); pg_restore runs in one transaction.
    """
    from bot.store.backup import KEY_REMINDER, BackupError, key_reads_transcripts, restore
    from bot.store.migrate import upgrade

    settings = _settings(ctx)
    try:
        restore(settings.database_url, file, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    upgrade(settings.database_url)  # an older backup restored into newer code
    click.echo(f"Đã khôi phục / restored {file}; database is up to date ({_counts(settings.database_url)})")
    readable = key_reads_transcripts(settings.database_url, settings.secret)
    if readable is False:
        raise click.ClickException(
            "khóa bí mật này KHÔNG đọc được bản ghi đã khôi phục: có đúng HOTLINE_SECRET_KEY cũ không?\n"
            "this secret key does NOT read the restored transcripts: is it the HOTLINE_SECRET_KEY the "
            "backup was made with? (the data is restored; set the right key, nothing else to redo)"
        )
    if readable:
        click.echo("Khóa đọc được bản ghi / the key reads the transcripts: ok")
    click.echo(KEY_REMINDER)
