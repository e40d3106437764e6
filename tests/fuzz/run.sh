#!/usr/bin/env bash
# Runs every libFuzzer target of a GLCI_FUZZ build for SECONDS each, JOBS at
# a time (default 2), and prints one line per target: executions, exec/s,
# coverage (libFuzzer's cov: and ft:), corpus size and the result.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [JOBS] [TARGET...]
#
# The targets are those BUILD_DIR/fuzz-targets.tsv lists (tests/fuzz/fuzz.cmake
# writes it). Each one grows its corpus in BUILD_DIR/fuzz-run/NAME/corpus
# (kept between runs, so long runs can be done in pieces) from the committed
# seeds; findings go to BUILD_DIR/fuzz-run/NAME/ (crash-*, leak-*,
# timeout-*, oom-*), the log to BUILD_DIR/fuzz-run/NAME/log. Exit status 1
# if any target found something or failed to run: the reproducer's path and
# the command that replays it are printed.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS [JOBS] [TARGET...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=$2
jobs=${3:-2}
shift $(( $# >= 3 ? 3 : 2 ))
list="$build/fuzz-targets.tsv"
if [ ! -s "$list" ]; then
  echo "$0: $list is missing: configure $1 with -DGLCI_FUZZ=ON and build the fuzz target" >&2
  exit 2
fi
case "$seconds" in (*[!0-9]*|'') echo "$0: SECONDS must be a number, not '$seconds'" >&2; exit 2;; esac
case "$jobs" in (*[!0-9]*|''|0) echo "$0: JOBS must be a positive number, not '$jobs'" >&2; exit 2;; esac

run_one() {   # name binary seeds dict
  local name=$1 bin=$2 seeds=$3 dict=$4 dir="$build/fuzz-run/$1"
  mkdir -p "$dir/corpus"
  rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* "$dir/rc"
  local args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
              -use_value_profile=1 -artifact_prefix="$dir/")
  [ -n "$dict" ] && args+=(-dict="$dict")
  local dirs=("$dir/corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  "$bin" "${args[@]}" "${dirs[@]}" >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

names=()
while IFS=$'\t' read -r name bin seeds dict; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ]; then
    want=0
    for t in "$@"; do [ "$t" = "$name" ] && want=1; done
    [ $want -eq 1 ] || continue
  fi
  if [ ! -x "$bin" ]; then
    echo "$0: $bin is not built (cmake --build $1 --target fuzz)" >&2
    exit 2
  fi
  names+=("$name")
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$name" "$bin" "$seeds" "$dict" &
done <"$list"
wait

if [ ${#names[@]} -eq 0 ]; then
  echo "$0: no target matches" >&2
  exit 2
fi

failed=0
printf '%-10s %8s %12s %8s %6s %7s %8s  %s\n' target seconds executions exec/s cov ft corpus result
for name in "${names[@]}"; do
  dir="$build/fuzz-run/$name"
  log="$dir/log"
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(find "$dir/corpus" -type f | wc -l)
  found=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
          -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  result=ok
  if [ -n "$found" ] || [ "$rc" != 0 ]; then
    result=FAILED
    failed=1
  fi
  printf '%-10s %8s %12s %8s %6s %7s %8s  %s\n' "$name" "$seconds" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$corpus" "$result"
done

for name in "${names[@]}"; do
  dir="$build/fuzz-run/$name"
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  found=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
          -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  [ -z "$found" ] && [ "$rc" = 0 ] && continue
  bin=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$list")
  echo "== fuzz_$name failed (exit $rc); the end of $dir/log:"
  tail -n 40 "$dir/log"
  for f in $found; do
    echo "== reproducer: $f"
    echo "   replay: $bin $f"
  done
done
exit $failed
