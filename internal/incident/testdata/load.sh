#!/bin/bash
# Memory and end-to-end check of a seeded server (docs/benchmarks.md, Incidents).
# usage: VIGIL=./vigil load.sh DATA_DIR MANAGER_PASSWORD [PG_DSN]
# Starts vigil serve on 127.0.0.1:18080, signs in as manager@sentinel.demo, runs
# searches, list pages, report PDFs and the statistics page, prints peak RSS.
set -e
DATA=$1; PW=$2; DB=$3
ARGS=(-addr 127.0.0.1:18080 -data "$DATA")
[ -n "$DB" ] && ARGS+=(-db "$DB")
${VIGIL:-vigil} serve "${ARGS[@]}" > /tmp/serve.log 2>&1 &
PID=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.5; done
J=/tmp/jar.$$
curl -s -c $J -H 'Content-Type: application/json' -d "{\"email\":\"manager@sentinel.demo\",\"password\":\"$PW\"}" http://127.0.0.1:18080/api/v1/auth/login >/dev/null
IDS=$(curl -s -b $J "http://127.0.0.1:18080/api/v1/incidents?limit=30" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | head -30)
start=$(date +%s.%N)
n=0
for round in 1 2 3; do
  for q in laptop stolen north%20fence Kowalski %E6%9D%8E%E5%A8%9C crowbar gate%20patrol Tanaka; do
    curl -s -o /dev/null -b $J "http://127.0.0.1:18080/api/v1/incidents?q=$q"; n=$((n+1))
  done
  for off in 0 50 100 500; do curl -s -o /dev/null -b $J "http://127.0.0.1:18080/api/v1/incidents?offset=$off"; n=$((n+1)); done
  for f in status=draft type=fire severity=critical; do curl -s -o /dev/null -b $J "http://127.0.0.1:18080/api/v1/incidents?$f"; n=$((n+1)); done
  for id in $IDS; do curl -s -o /dev/null -b $J "http://127.0.0.1:18080/api/v1/incidents/$id/report.pdf"; n=$((n+1)); done
  curl -s -o /dev/null -b $J "http://127.0.0.1:18080/incidents"; curl -s -o /dev/null -b $J "http://127.0.0.1:18080/incidents/stats"; n=$((n+2))
done
end=$(date +%s.%N)
echo "requests: $n in $(echo "$end - $start" | bc) s"
grep -E "VmHWM|VmRSS" /proc/$PID/status
kill $PID; wait $PID 2>/dev/null || true
rm -f $J
