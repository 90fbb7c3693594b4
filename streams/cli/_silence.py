"""Story mutes and rule snoozes (`newswatch silence add | list | expire`)."""

from __future__ import annotations

from typing import Annotated

import typer

from streams.cli._app import _settings, silence_cli

__all__ = ["silence_add", "silence_expire", "silence_list"]


@silence_cli.command("add")
def silence_add(
    rule: Annotated[str, typer.Option("--rule", help="rule id to snooze (or whose story to mute)")],
    duration: Annotated[str, typer.Option("--for", help="how long: 30m, 24h, 7d")],
    reason: Annotated[str, typer.Option(help="why (shown by `silence list`)")] = "",
    story: Annotated[
        str | None, typer.Option(help="mute only this story of the rule (story id of an alert)")
    ] = None,
) -> None:
    """Snooze a rule (or mute one story): its alerts are recorded as silenced, not delivered."""
    from streams.tools.silence_cmd import add_silence, format_silence

    silence = add_silence(_settings(), rule=rule, duration=duration, reason=reason, story=story)
    print(format_silence(silence, silence.created_at))


@silence_cli.command("list")
def silence_list(
    include_expired: Annotated[bool, typer.Option("--all", help="expired ones too")] = False,
) -> None:
    """List the active silences (id, target, end, who, why)."""
    from streams.tools.silence_cmd import list_silences

    lines = list_silences(_settings(), include_expired=include_expired)
    print("\n".join(lines) if lines else "no silences")


@silence_cli.command("expire")
def silence_expire(
    silence_id: Annotated[str, typer.Argument(help="silence id (from `silence list`)")],
) -> None:
    """End a silence now: the next alerts of its rule or story are delivered again."""
    from streams.tools.silence_cmd import expire_silence, format_silence

    ended = expire_silence(_settings(), silence_id)
    print(format_silence(ended, ended.ends_at))
