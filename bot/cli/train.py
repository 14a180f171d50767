"""``hotline train``: build the language model into its file, so that starting the service only loads it."""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import Settings


@click.command("train")
@click.option("--knowledge", "knowledge_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The knowledge folder (default HOTLINE_KNOWLEDGE_DIR).")  # fmt: skip
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where models are kept (default HOTLINE_MODEL_DIR, var/models).")  # fmt: skip
@click.option("--force", is_flag=True, help="Train even when the file for this content exists.")
def train_command(knowledge_dir: Path | None, model_dir: Path | None, force: bool) -> None:
    """Train the language model if the content changed (or with --force), and save it."""
    from bot.nlu import BuiltinNLU, build_builtin
    from bot.nlu.cache import load_or_train
    from bot.nlu.errors import NLUError

    settings = Settings()
    knowledge_dir = knowledge_dir or settings.knowledge_dir
    model_dir = model_dir or settings.model_dir
    try:
        cached = load_or_train(
            knowledge_dir, model_dir, lambda: build_builtin(knowledge_dir), BuiltinNLU, force=force
        )
    except NLUError as exc:
        raise click.ClickException(f"{exc}\n(run `hotline check` for every mistake)") from exc
    if cached.status == "loaded":
        click.echo(f"up to date: {cached.path}")
    elif not cached.path.exists():
        raise click.ClickException(f"trained, but could not save {cached.path} (see the warning above)")
    else:
        click.echo(f"trained in {cached.seconds:.1f} s: {cached.path}")
