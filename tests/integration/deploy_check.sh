#!/usr/bin/env bash
# Checks what deploy/ generates into the build directory, without installing:
#   - the man pages render with groff, without a single warning;
#   - both systemd units have the settings the project promises and pass
#     `systemd-analyze verify` (ExecStart pointed at the built programs);
#     a deliberately broken unit fails it, so the check is not vacuous;
#   - the maintainer scripts are valid sh and no @VARIABLE@ is left over.
# A missing tool fails the test with a message saying which one: the
# project's set-up script installs them (groff-base, systemd).
#
# Usage: deploy_check.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
need() { command -v "$1" >/dev/null || { echo "FAIL: $1 is not installed ($2)" >&2; exit 1; }; }

need groff "package groff-base"
need systemd-analyze "package systemd"

work=$(mktemp -d /tmp/glci-deploy-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- man pages --------------------------------------------------------------
for page in glci.1 glci-collector.8 glci-agent.8; do
  f=$src/deploy/man/$page
  if ! groff -man -Tutf8 -P-cbu -ww "$f" >"$work/out" 2>"$work/err"; then
    fail "$page: groff failed: $(head -1 "$work/err")"
  elif [ -s "$work/err" ]; then
    fail "$page: groff warns: $(head -1 "$work/err")"
  elif ! grep -q '^NAME' "$work/out" || ! grep -q '^SYNOPSIS' "$work/out"; then
    fail "$page: rendered page lacks NAME or SYNOPSIS"
  fi
  gz=$build/deploy/man/$page.gz
  if [ ! -s "$gz" ] || ! gzip -dc "$gz" | cmp -s - "$f"; then
    fail "$page: $gz is missing or differs from the source"
  fi
done

# --- systemd units ----------------------------------------------------------
for prog in collector agent; do
  unit=$build/deploy/systemd/glci-$prog.service
  bin=$build/$prog/glci-$prog
  if [ ! -f "$unit" ]; then fail "$unit was not generated"; continue; fi
  for setting in Type=notify User=glci StateDirectory= ConfigurationDirectory= \
                 ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
                 RestrictAddressFamilies= SystemCallFilter=@system-service \
                 CapabilityBoundingSet= Restart=on-failure \
                 "ExecReload=/bin/sh -c 'kill -HUP \"\$MAINPID\"'" LimitNOFILE=; do
    grep -qxF -- "$setting" "$unit" || grep -q "^${setting}" "$unit" \
      || fail "glci-$prog.service lacks $setting"
  done
  grep -q "^ExecStart=.*/glci-$prog --config .*/$prog.conf" "$unit" \
    || fail "glci-$prog.service does not start glci-$prog with $prog.conf"
  # What only booting shows (deploy/systemd-check.sh), pinned here too:
  # libzmq aborts without sched_setscheduler; minimal Debian has no /bin/kill.
  grep -qx 'SystemCallFilter=sched_setscheduler' "$unit" \
    || fail "glci-$prog.service denies sched_setscheduler, which libzmq's I/O thread needs"
  grep '^Exec' "$unit" | grep -qE '=[-+!@:]*/(usr/)?bin/(kill|pkill|sudo) ' \
    && fail "glci-$prog.service runs a program that minimal Debian lacks"
  if [ ! -x "$bin" ]; then fail "$bin is not built"; continue; fi
  mkdir -p "$work/$prog"
  sed "s#^ExecStart=[^ ]*/glci-$prog #ExecStart=$bin #" "$unit" >"$work/$prog/glci-$prog.service"
  if ! systemd-analyze verify --man=no "$work/$prog/glci-$prog.service" >"$work/err" 2>&1; then
    fail "glci-$prog.service: systemd-analyze verify: $(cat "$work/err")"
  elif [ -s "$work/err" ]; then
    fail "glci-$prog.service: systemd-analyze verify warns: $(cat "$work/err")"
  fi
done
grep -q '^LimitNOFILE=65536$' "$build/deploy/systemd/glci-collector.service" \
  || fail "glci-collector.service must allow 65536 open files (thousands of agents)"

# The verifier must see a broken unit as broken.
mkdir -p "$work/broken"
sed 's/^Type=notify$/Type=bogus/' "$work/collector/glci-collector.service" \
  >"$work/broken/glci-collector.service" 2>/dev/null || true
if [ -s "$work/broken/glci-collector.service" ] &&
   systemd-analyze verify --man=no "$work/broken/glci-collector.service" >/dev/null 2>&1 &&
   [ -z "$(systemd-analyze verify --man=no "$work/broken/glci-collector.service" 2>&1)" ]; then
  fail "systemd-analyze verify accepted Type=bogus silently"
fi

# --- maintainer scripts and leftovers -----------------------------------------
for prog in collector agent; do
  for script in postinst prerm postrm; do
    f=$build/deploy/debian/$prog/$script
    if [ ! -x "$f" ]; then fail "$f missing or not executable"; continue; fi
    sh -n "$f" || fail "$f: not valid sh"
  done
  grep -qx "/etc/glci/$prog.conf" "$build/deploy/debian/$prog/conffiles" \
    || fail "conffiles of glci-$prog does not list /etc/glci/$prog.conf"
done
if grep -rl '@[A-Z_]*@' "$build/deploy/systemd" "$build/deploy/debian" >"$work/left"; then
  fail "unconfigured @VARIABLE@ in: $(tr '\n' ' ' <"$work/left")"
fi

if [ "$failures" -ne 0 ]; then
  echo "deploy_check: $failures failure(s)" >&2
  exit 1
fi
echo "deploy_check: man pages, units and maintainer scripts OK"
