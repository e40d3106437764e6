#!/usr/bin/env bash
# make demo: the whole system on loopback, from a fresh clone (SPEC §6).
#
# In a temporary directory: create a store with the shipped framework,
# register twelve member cities of the Global Network of Learning Cities
# with generated CURVE keys, start the collector and one agent per city,
# drop a SYNTHETIC five-year data set into each agent's spool, wait until the
# store holds every value, then print the league table, one city's
# breakdown and the rejects, and write the HTML report, a city's PDF
# profile, the xlsx export and a data-entry template into BUILD_DIR/demo-report
# (kept after the demo). Everything it started is stopped on exit,
# including Ctrl-C.
#
# Usage: deploy/demo.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
framework="$src/framework/glci.ini"
glci="$build/cli/glci"
collector="$build/collector/glci-collector"
agent="$build/agent/glci-agent"
sample="$build/deploy/demo/glci-sample"
first_year=2021
last_year=2025

for prog in "$glci" "$collector" "$agent" "$sample"; do
  [ -x "$prog" ] || { echo "demo: $prog is not built" >&2; exit 1; }
done

work=$(mktemp -d /tmp/glci-demo.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  # Agents first, then the collector, so no agent sees its peer vanish.
  local i
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "demo: interrupted, stopping everything" >&2; exit 130' INT TERM

# Twelve member cities of the UNESCO Global Network of Learning Cities.
cities=(
  "cork-ie|Cork|IE"            "espoo-fi|Espoo|FI"         "mannheim-de|Mannheim|DE"
  "larissa-gr|Larissa|GR"      "pecs-hu|Pecs|HU"           "medellin-co|Medellin|CO"
  "amman-jo|Amman|JO"          "aswan-eg|Aswan|EG"         "suwon-kr|Suwon|KR"
  "okayama-jp|Okayama|JP"      "melton-au|Melton|AU"       "hangzhou-cn|Hangzhou|CN"
)

store="$work/store"
export GLCI_STORE="$store"
echo "== glci init (store in $store)"
key=$("$glci" init --framework "$framework" 2>/dev/null)
echo "   collector public key: $key"

# A free loopback port for the collector, below the ephemeral ports (an
# agent dialling it before the collector listens cannot take it as its own
# source port).
port=$(( 20000 + RANDOM % 10000 ))
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$(( port + 1 )); done
endpoint="tcp://127.0.0.1:$port"

echo "== registering ${#cities[@]} cities, each with its own CURVE key pair"
for entry in "${cities[@]}"; do
  IFS='|' read -r id name country <<<"$entry"
  mkdir -p "$work/agents/$id/spool" "$work/agents/$id/outbox"
  key=$("$glci" city add "$id" --name "$name" --country "$country" \
          --key-out "$work/agents/$id/city.key" 2>/dev/null)
  printf '   %-12s %-9s %s  agent key %s\n' "$id" "$name" "$country" "$key"
  cat >"$work/agents/$id/agent.conf" <<CONF
[agent]
city = $id
collector = $endpoint
collector_key = $store/collector.pub
key_file = $work/agents/$id/city.key
outbox = $work/agents/$id/outbox
spool = $work/agents/$id/spool
log_level = warn
CONF
done

echo "== starting glci-collector on $endpoint (CURVE)"
"$collector" --store "$store" --listen "$endpoint" --log-level warn &
pids+=($!)

echo "== starting one glci-agent per city"
for entry in "${cities[@]}"; do
  IFS='|' read -r id _ _ <<<"$entry"
  "$agent" run --config "$work/agents/$id/agent.conf" &
  pids+=($!)
done

# Waits until the store has applied `want` values (revisions included).
wait_for() {
  local want=$1 deadline=$(( $(date +%s) + 40 )) have=0
  while :; do
    have=$("$glci" status --format json | sed -n 's/.*"history": *\([0-9]*\).*/\1/p')
    [ "${have:-0}" -ge "$want" ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && {
      echo "demo: only ${have:-0} of $want values arrived in time" >&2; return 1; }
    sleep 0.3
  done
}

echo "== dropping SYNTHETIC sample data ($first_year-$last_year) into each spool"
expected=0
position=0
for entry in "${cities[@]}"; do
  IFS='|' read -r id _ _ <<<"$entry"
  rows=$("$sample" --framework "$framework" --city "$id" --position $position \
         --seed 2013 --first $first_year --last $last_year --spool "$work/agents/$id/spool")
  [ $position -le 1 ] && rows=$(( rows - 1 ))   # one row each that the collector rejects
  expected=$(( expected + rows ))
  position=$(( position + 1 ))
done
wait_for "$expected"

echo "== a few cities revise values of $(( last_year - 1 ))"
for entry in "${cities[@]:0:3}"; do
  IFS='|' read -r id _ _ <<<"$entry"
  rows=$("$sample" --framework "$framework" --city "$id" --seed 2013 \
         --first $first_year --last $last_year --spool "$work/agents/$id/spool" --revisions)
  expected=$(( expected + rows ))
done
wait_for "$expected"
echo "   all $expected values stored and acknowledged"

echo
echo "###  SYNTHETIC DEMO DATA: invented values, not real city results  ###"
echo
echo "== glci rank --period $last_year"
"$glci" rank --period $last_year
echo
echo "== glci show cork-ie --period $last_year"
"$glci" show cork-ie --period $last_year
echo
echo "== glci rejects"
"$glci" rejects
echo
echo "== glci missing --period $last_year (who has reported for the round)"
"$glci" missing --period $last_year
echo
echo "== glci edition publish demo-$last_year (the league table, frozen for good)"
"$glci" edition publish "demo-$last_year" --period $last_year
echo
echo "== glci verify"
"$glci" verify
echo
# The report outlives the demo's temporary store: it goes to the build folder.
report="$build/demo-report"
echo "== glci report --out $report"
"$glci" report --period $last_year --out "$report"
"$glci" report --period $last_year --city cork-ie --pdf "$report/cork-ie.pdf"
# a city with focus areas below the median: its profile names whom to learn from
"$glci" report --period $last_year --city larissa-gr --pdf "$report/larissa-gr.pdf"
"$glci" export --period $last_year --format xlsx --out "$report/glci-export.xlsx"
"$glci" template --format xlsx --city cork-ie --period $last_year --out "$report/cork-ie-template.xlsx"
echo
echo "demo: done; stopping the collector and the agents"
echo "demo: open file://$report/index.html (profiles: $report/cork-ie.pdf, $report/larissa-gr.pdf)"
