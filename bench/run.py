"""`make bench`: the in-process benchmarks (scoring, import, exports, dashboard) as JSON. The
HTTP ones (http_bench, paths_bench, campaign_load) start servers: see bench/README.md."""

from __future__ import annotations

import argparse
import json
import sys

from bench import dashboard_bench, export_bench, import_bench, scoring_bench


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    results = {"scoring": scoring_bench.run()}
    results["import"] = import_bench.run()
    results["exports"] = export_bench.run()
    results["dashboard"] = dashboard_bench.run(say=lambda m: print(m, file=sys.stderr))
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
