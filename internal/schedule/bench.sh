#!/bin/sh
# Runs `vigil schedule solve --json` over benchmark instances and prints one
# TSV line per instance: instance, objective, feasible, first-feasible
# seconds, elapsed seconds. Usage: bench.sh LIMIT THREADS N...
# (run from the repository root; builds ./vigil-bench first).
set -e
limit=${1:-60s}; threads=${2:-2}; shift 2 || true
dir=${BENCH_DIR:-../shared/benchmarks/shift-scheduling}
go build -o /tmp/vigil-bench ./cmd/vigil
[ $# -gt 0 ] || set -- 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
for n in "$@"; do
	/tmp/vigil-bench schedule solve "$dir/Instance$n.txt" --time-limit "$limit" --threads "$threads" --seed 1 --json |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print("\t".join(str(x) for x in (r["instance"], r["objective"], r["feasible"], r.get("first_feasible_s"), r["elapsed_s"])))' || true
done
