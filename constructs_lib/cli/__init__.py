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
from constructs_lib.catalog import CatalogError

COMMAND_MODULES = (
    "constructs_lib.cli.check",
    "constructs_lib.cli.models",
    "constructs_lib.cli.plan",
    "constructs_lib.cli.invoke",
)

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """A problem with what the user gave us: reported as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eulagate",
        description="Deploy and fine-tune SageMaker JumpStart LLMs with explicit EULA acceptance.",
    )
    parser.add_argument("--version", action="version", version=f"eulagate {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (InputError, CatalogError) as error:
        print(f"eulagate {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `eulagate ... | head` closed the pipe: not an error of ours
        return 0
