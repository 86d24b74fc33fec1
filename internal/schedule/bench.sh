#!/bin/sh
# Runs `vigil schedule solve --json` over the shift-scheduling benchmark and
# prints a Markdown table: instance, best known, objective, gap, time to the
# first feasible roster, elapsed. Run from the repository root:
#
#   internal/schedule/bench.sh [LIMIT [THREADS [INSTANCE...]]]
#
# Defaults: 60s, 2 threads, instances 1-20. BENCH_DIR overrides the data
# directory, VIGIL overrides the binary (otherwise ./cmd/vigil is built).
set -e
limit=${1:-60s}
threads=${2:-2}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
dir=${BENCH_DIR:-../shared/benchmarks/shift-scheduling}
bin=${VIGIL:-}
if [ -z "$bin" ]; then
	bin=$(mktemp -d)/vigil
	go build -o "$bin" ./cmd/vigil
fi
echo "| Instance | Best known | Objective | Gap % | First feasible (s) | Elapsed (s) |"
echo "| --- | --- | --- | --- | --- | --- |"
for n in "$@"; do
	"$bin" schedule solve "$dir/Instance$n.txt" --time-limit "$limit" --threads "$threads" --seed 1 --json |
		python3 -c '
import json, sys
# Best-known upper bounds from the benchmark README (15, 19, 20 are stale).
bks = {1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1300, 9: 439, 10: 4631,
       11: 3443, 12: 4040, 13: 1348, 14: 1278, 15: 3834, 16: 3225, 17: 5746, 18: 4459, 19: 3149, 20: 4943}
r = json.load(sys.stdin)
n = int(r["instance"].removeprefix("Instance"))
obj = r["objective"] if r["feasible"] else "infeasible"
gap = "%.1f" % (100.0 * (r["objective"] - bks[n]) / bks[n]) if r["feasible"] else "-"
print("| %d | %d | %s | %s | %s | %.1f |" % (n, bks[n], obj, gap, r.get("first_feasible_s", "-"), r["elapsed_s"]))
' || true
done
