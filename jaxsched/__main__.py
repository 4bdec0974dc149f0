"""Command line: draw or tabulate schedules given as safe spec strings.

python -m jaxsched plot "warmup(cosine_decay(0.1, 1000), 100)" --steps 1200 -o lr.png
python -m jaxsched table "step_decay(0.1, 5)" "cosine_annealing(0.1, 10)" --steps 20
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from jaxsched._plot import format_table, plot, schedule_values
from jaxsched._spec import SpecError, parse_schedule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxsched", description="Draw or tabulate jaxsched schedules.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("plot", "save a PNG of the schedules"), ("table", "print the values as a table")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("specs", nargs="+", help='schedule calls, e.g. "cosine_decay(0.1, 1000)"')
        command.add_argument("--steps", type=int, required=True, help="number of steps (from 0)")
        if name == "plot":
            command.add_argument("-o", "--output", default="schedule.png", help="PNG file to write")
            command.add_argument("--log", action="store_true", help="logarithmic y axis")
    args = parser.parse_args(argv)
    try:
        schedules = {spec: parse_schedule(spec) for spec in args.specs}
        if args.command == "plot":
            # matplotlib adds ".png" to a name without a suffix: report the file it really writes
            output = args.output if pathlib.Path(args.output).suffix else f"{args.output}.png"
            plot(schedules, args.steps, path=output, log_scale=args.log)
            print(f"wrote {output}")
        else:
            print(format_table(schedule_values(schedules, args.steps)))
    except OSError as error:
        print(f"error: cannot write {error.filename or args.output}: {error.strerror or error}", file=sys.stderr)
        return 2
    except (SpecError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
