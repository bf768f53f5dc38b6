#!/usr/bin/env python3
"""Summarise each column of a CSV file.

Usage:
    python3 scripts/stats.py data.csv            read a file
    python3 scripts/stats.py < data.csv          read standard input
    options: --json          machine-readable output
             --no-header     the first row is data; columns are named col1, col2, ...
             --delimiter X   force a delimiter (default: detected among , ; tab |)

Numeric columns (every non-empty cell a number) get count, missing, mean, median, stdev
(sample), min and max. Other columns get count, missing, distinct and the most common
value. Standard library only. Exit status 2 on unreadable input.
"""
import csv
import io
import json
import math
import statistics
import sys
from collections import Counter


def parse_number(cell):
    """A float for cells like `3`, `-2.5e3`, `1_000`; None otherwise (NaN/inf rejected)."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def detect_dialect(sample, forced):
    if forced:
        return forced
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def summarise(name, cells):
    present = [c.strip() for c in cells if c.strip() != ""]
    summary = {"column": name, "count": len(present), "missing": len(cells) - len(present)}
    numbers = [parse_number(c) for c in present]
    if present and all(n is not None for n in numbers):
        summary.update(
            type="numeric",
            mean=statistics.fmean(numbers),
            median=statistics.median(numbers),
            stdev=statistics.stdev(numbers) if len(numbers) > 1 else None,
            min=min(numbers),
            max=max(numbers),
        )
    else:
        counts = Counter(present)
        top = counts.most_common(1)
        summary.update(
            type="text",
            distinct=len(counts),
            most_common=top[0][0] if top else None,
            most_common_count=top[0][1] if top else 0,
        )
    return summary


def analyse(text, header=True, delimiter=None):
    delimiter = detect_dialect(text[:8192], delimiter)
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if not rows:
        return {"rows": 0, "columns": []}
    width = max(len(row) for row in rows)
    if header:
        names, rows = rows[0], rows[1:]
    else:
        names = []
    names = [n.strip() or f"col{i + 1}" for i, n in enumerate(names)]
    names += [f"col{i + 1}" for i in range(len(names), width)]
    # Short rows count as missing cells, not as errors: real exports are ragged.
    columns = [[row[i] if i < len(row) else "" for row in rows] for i in range(width)]
    return {
        "rows": len(rows),
        "delimiter": delimiter,
        "columns": [summarise(n, c) for n, c in zip(names, columns)],
    }


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        # Whole numbers stay whole; others keep 4 decimals (or 6 significant digits when
        # tiny) rather than switching to exponent notation for large values.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 1:
            return f"{round(value, 4):.15g}"
        return f"{value:.6g}"
    return str(value)


def render(result):
    lines = [f"rows: {result['rows']}"]
    numeric = [c for c in result["columns"] if c["type"] == "numeric"]
    text = [c for c in result["columns"] if c["type"] == "text"]
    if numeric:
        keys = ["column", "count", "missing", "mean", "median", "stdev", "min", "max"]
        lines.append("")
        lines.append(table(keys, [[fmt(c[k]) for k in keys] for c in numeric]))
    if text:
        keys = ["column", "count", "missing", "distinct", "most_common"]
        lines.append("")
        lines.append(table(keys, [
            [fmt(c[k]) if k != "most_common" else
             f"{c['most_common']} ({c['most_common_count']})" if c["most_common"] is not None
             else "-" for k in keys]
            for c in text
        ]))
    return "\n".join(lines)


def table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out.append("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
    return "\n".join(out)


def main(argv):
    args = argv[1:]
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return 0
    as_json = "--json" in args
    header = "--no-header" not in args
    delimiter = None
    paths = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--delimiter" and i + 1 < len(args):
            delimiter = "\t" if args[i + 1] in ("\\t", "tab") else args[i + 1]
            i += 1
        elif arg.startswith("--"):
            if arg not in ("--json", "--no-header"):
                print(f"error: unknown option {arg}", file=sys.stderr)
                return 2
        else:
            paths.append(arg)
        i += 1
    try:
        if paths:
            with open(paths[0], newline="", encoding="utf-8-sig") as f:
                text = f.read()
        else:
            text = sys.stdin.read().lstrip("\ufeff")
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: cannot read input: {e}", file=sys.stderr)
        return 2
    result = analyse(text, header=header, delimiter=delimiter)
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
