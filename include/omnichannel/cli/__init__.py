"""`omni`: the one command-line entry point, a verb group per module.

Exit codes: 0 done, 1 failed (one line on stderr: `omni <verb>: error: …`; `-v` shows the
traceback), 2 a usage error (unknown verb, missing or bad argument), 3 `warehouse status`
of a warehouse that is not running.
"""

from __future__ import annotations

import logging
import sys

import typer

from omnichannel import __version__
from omnichannel.cli import (
    alerts,
    bi,
    demo,
    deploy,
    extract,
    files,
    forecast,
    metrics,
    quality,
    quarantine,
    reference,
    simulate,
    warehouse,
)

app = typer.Typer(
    name="omni",
    help="Omnichannel pipeline: the warehouse, the simulator, the demo and the ops verbs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
STATE = {"verbose": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logs and tracebacks"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version"
    ),
) -> None:
    STATE["verbose"] = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


for group in (
    warehouse,
    simulate,
    quarantine,
    alerts,
    forecast,
    metrics,
    bi,
    files,
    reference,
    deploy,
):
    app.add_typer(group.app)
for module in (demo, extract, quality, deploy):
    for command in getattr(module, "COMMANDS", ()):
        app.command(command.__name__.replace("_", "-").removeprefix("cmd-"))(command)


def main(argv: list[str] | None = None) -> int:
    """Run `omni` with `argv`; returns the exit code (the console script exits with it).
    Usage errors are click's (exit code 2, with the usage line); any other error is one
    line naming the verb."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="omni")
    except SystemExit as exc:  # click's way out: done, a usage error (2), or typer.Exit(n)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except Exception as exc:  # a clear one-line error for the CLI user, details with -v
        if STATE["verbose"]:
            raise
        verb = " ".join(a for a in args[:2] if not a.startswith("-"))
        print(f"omni {verb}: error: {exc}", file=sys.stderr)
        return 1
    return 0
