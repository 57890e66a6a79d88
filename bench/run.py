"""`make bench`: run every benchmark and print the results as JSON."""

from __future__ import annotations

import json
import sys

from bench import scoring_bench


def main() -> None:
    results = {"scoring": scoring_bench.run()}
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
