"""The command line: ``python -m microgrid {train,check,predict,draw,show,serve}``.

Every user error (a bad flag value, a missing or damaged file) ends in one line on stderr
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from .. import __version__
from .commands import check, draw, predict, serve, show, train
from .errors import UserError

__all__ = ["main", "build_parser"]

COMMANDS: dict[str, ModuleType] = {
    "train": train, "check": check, "draw": draw, "predict": predict, "show": show, "serve": serve,
}


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block), exit code 2.

    Its subcommands' parsers are of this class too (argparse makes them with the parent's class).
    """

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("python -m ")  # "microgrid train", as main() names it
        self.exit(2, f"{command}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m microgrid",
        description="microgrid: a scalar autograd engine you can see, and a fast path that trains MNIST.",
    )
    parser.add_argument("--version", action="version", version=f"microgrid {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a check or training failed, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse takes a command's positionals in one run, so `show activations --model M IMAGE`
    # would leave IMAGE over: give it to the optional positional it belongs to
    if extra and args.command == "show" and args.image is None and len(extra) == 1 and not extra[0].startswith("-"):
        args.image, extra = Path(extra[0]), []
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = argv
    try:
        exit_code: int = COMMANDS[args.command].run(args)
        return exit_code
    except KeyboardInterrupt:
        print("microgrid: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError, RuntimeError) as err:
        print(f"microgrid {args.command}: error: {err}", file=sys.stderr)
        return 2
