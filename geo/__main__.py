"""`python -m geo <command> ...` — dispatches to one module per command.

Each command module exposes `add_arguments(parser)` and `run(args) -> int`. The commands
that draw (export, snapshot) live in cli/, above geo/: they are named here and imported
only when run, so geo/ never imports Streamlit, folium or layers/.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from geo.errors import GeoError, UsageError

COMMANDS = {
    "build": ("geo.build", "Build the data store from the source files"),
    "report": ("geo.report", "Deprivation summary table by LSOA/ward/district/place/sub-ICB/ICB"),
    "access": ("geo.access_cli", "Distance from each LSOA to the nearest service site, summarised"),
    "indicator": ("geo.indicators_cli", "Match an indicator file to the store and print it"),
    "export": ("cli.export", "Export the current view's tables/layers"),
    "snapshot": ("cli.snapshot", "Render a PNG snapshot of a view from its URL state"),
    "plan": ("geo.plan_cli", "Outreach planner: where the HARI bus should stop to reach the most people"),
    "services": ("geo.services_cli", "Check, save, list and remove saved service files (user-data store)"),
    "areas": ("geo.areas_cli", "Custom areas (neighbourhoods): save, list, show, remove (user-data store)"),
    "priority": ("geo.priority_cli", "Priority & exemplar wards listed for an ICB, mapped to May-2024 wards"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line listing valid choices, exit status 2."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m geo", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}", parser_class=_Parser)
    modules = {}
    for name, (modname, helptext) in COMMANDS.items():
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:
                continue  # command not built yet
            raise
        p = sub.add_parser(name, help=helptext, description=helptext)
        mod.add_arguments(p)
        modules[name] = mod
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_usage(sys.stderr)
        return 2
    try:
        return int(modules[args.command].run(args) or 0)
    except UsageError as e:
        print(f"python -m geo {args.command}: error: {e}", file=sys.stderr)
        return 2
    except GeoError as e:
        print(f"python -m geo {args.command}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
