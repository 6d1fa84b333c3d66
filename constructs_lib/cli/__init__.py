"""``eulagate``: the command-line interface. Each subcommand lives in its own module of this package.

A subcommand module defines ``register(subparsers)``, which adds its parser and sets ``handler`` to a function
``(args) -> int``. Bad input raises ``InputError`` (or a catalog error) and exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from constructs_lib import __version__
from constructs_lib.errors import InputError

# Subcommand -> module. Only the module of the command being run is imported (``eulagate check`` in CI should not
# pay for the table loader or boto3); ``eulagate --help`` imports them all.
COMMAND_MODULES = {
    "check": "constructs_lib.cli.check",
    "models": "constructs_lib.cli.models",
    "plan": "constructs_lib.cli.plan",
    "invoke": "constructs_lib.cli.invoke",
    "hook": "constructs_lib.cli.hook",
}

EXIT_BAD_INPUT = 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with only ``command``'s when it names one."""
    parser = argparse.ArgumentParser(
        prog="eulagate",
        description="Deploy and fine-tune SageMaker JumpStart LLMs with explicit EULA acceptance.",
    )
    parser.add_argument("--version", action="version", version=f"eulagate {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [command] if command in COMMAND_MODULES else list(COMMAND_MODULES)
    for name in names:
        importlib.import_module(COMMAND_MODULES[name]).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((argument for argument in arguments if not argument.startswith("-")), None)
    args = build_parser(command).parse_args(arguments)
    try:
        return int(args.handler(args))
    except InputError as error:
        print(f"eulagate {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `eulagate ... | head` closed the pipe: not an error of ours
        return 0
