"""``eulagate``: the command-line interface. Each subcommand lives in its own module of this package.

A subcommand module defines ``register(subparsers)``, which adds its parser and sets ``handler`` to a function
``(args) -> int``. Bad input raises ``InputError`` (or a catalog error) and exits 2 with one line on stderr.
Every subcommand takes ``-q/--quiet`` and ``-v/--verbose`` (``args.verbosity``: -1, 0 or 1 and more), and a
usage error prints that subcommand's usage.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from constructs_lib import __version__
from constructs_lib.errors import InputError, one_line

# Subcommand -> module. Only the module of the command being run is imported (``eulagate check`` in CI should not
# pay for the table loader or boto3); ``eulagate --help`` imports them all.
COMMAND_MODULES = {
    "check": "constructs_lib.cli.check",
    "models": "constructs_lib.cli.models",
    "plan": "constructs_lib.cli.plan",
    "invoke": "constructs_lib.cli.invoke",
    "hook": "constructs_lib.cli.hook",
    "rules": "constructs_lib.cli.rules",
    "explain": "constructs_lib.cli.explain",
}

EXIT_BAD_INPUT = 2
# Modules of the "cdk" extra: a light install (pre-commit: PyYAML only) runs check, plan, rules and explain.
CDK_EXTRA_MODULES = frozenset({"boto3", "botocore", "aws_cdk", "constructs", "cdk_nag", "jsii"})


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, given the terminal's width: argparse asks ``shutil`` for it, and importing shutil (with
    bz2 and lzma) costs a short ``eulagate check`` more than parsing its arguments. argparse makes a formatter for
    every argument it adds, not only for help."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS``, else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    """A parser whose help uses ``_HelpFormatter``; its subcommands' parsers are of this class too."""

    def __init__(self, **options: Any) -> None:  # argparse makes subcommands' parsers with keywords alone
        options.setdefault("formatter_class", _HelpFormatter)
        super().__init__(**options)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with only ``command``'s when it names one."""
    parser = _Parser(
        prog="eulagate",
        description="Deploy and fine-tune SageMaker JumpStart LLMs with explicit EULA acceptance.",
    )
    parser.add_argument("--version", action="version", version=f"eulagate {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [command] if command in COMMAND_MODULES else list(COMMAND_MODULES)
    for name in names:
        importlib.import_module(COMMAND_MODULES[name]).register(subparsers)
    for subparser in subparsers.choices.values():
        _add_verbosity_options(subparser)
    return parser


def _add_verbosity_options(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """-q/-v on ``parser`` and on its own subcommands (``eulagate hook simulate -v``); only the top level sets the
    default, which a nested parser's default would otherwise overwrite."""
    group = parser.add_mutually_exclusive_group()
    default = argparse.SUPPRESS if nested else None
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=default,
                       help="print only what matters: findings and errors, no summaries")
    group.add_argument("-v", "--verbose", dest="verbosity", action="count", default=default,
                       help="print more: where findings were declared, the cause of an error")
    if not nested:
        parser.set_defaults(verbosity=0)
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _add_verbosity_options(subparser, nested=True)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((argument for argument in arguments if not argument.startswith("-")), None)
    collecting = gc.isenabled()
    # Importing the command's modules makes classes and functions that live as long as the process: the cyclic
    # collector would only walk them again and again (a measurable part of a short run's start-up).
    gc.disable()
    try:
        parser = build_parser(command)
    finally:
        if collecting:
            gc.enable()
    args, unknown = parser.parse_known_args(arguments)
    if unknown:  # reported by the subcommand's parser, so the usage shown is the subcommand's
        parser_of(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.handler(args))
    except InputError as error:
        print(f"eulagate {args.command}: {one_line(error)}", file=sys.stderr)
        if args.verbosity > 0 and error.__cause__ is not None:
            print(f"eulagate {args.command}: caused by {type(error.__cause__).__name__}: {one_line(error.__cause__)}",
                  file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in CDK_EXTRA_MODULES:
            raise
        print(f"eulagate {args.command}: needs {error.name}, which comes with the cdk extra: "
              "pip install 'eulagate[cdk]' (or run bash scripts/setup.sh)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `eulagate ... | head` closed the pipe: not an error of ours
        return 0


def parser_of(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of subcommand ``command`` inside ``parser``."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            subparser: argparse.ArgumentParser = action.choices[command]
            return subparser
    return parser
