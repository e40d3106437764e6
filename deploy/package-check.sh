#!/usr/bin/env bash
# CI step: build the Debian packages in BUILD_DIR, install them on this
# machine with dpkg -i, check what they installed, run the installed
# programs end to end (as the user glci, CURVE on 127.0.0.1), then remove and
# purge them and check what is left. Runs as root on a machine (or
# container) where glci is not installed; it refuses to touch an existing
# installation.
#
# Rounds:
#   1. install, check files, user, folders, units, man pages, --help;
#      remove (conffiles stay), purge: nothing of glci is left, user gone.
#   2. install twice (an upgrade in place), create a store, run collector
#      and agent and deliver one value; purge: the store is kept and named,
#      and so is the user glci; then this script removes both itself.
#
# Usage: deploy/package-check.sh BUILD_DIR
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || { echo "package-check: no build directory $1" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "package-check: must run as root (it installs packages)" >&2; exit 1; }

step() { echo "== package-check: $*"; }
die() { echo "package-check: FAIL: $*" >&2; exit 1; }

for p in glci-collector glci-agent; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  case "$st" in ""|not-installed) ;; *) die "$p is already on this machine ($st); run on a clean one" ;; esac
done
for d in /etc/glci /var/lib/glci /var/lib/glci-agent; do
  [ ! -e "$d" ] || die "$d exists already; run on a clean machine"
done
! getent passwd glci >/dev/null || die "a user glci exists already; run on a clean machine"

work=$(mktemp -d /tmp/glci-package-check.XXXXXX)
collector_pid=""
agent_pid=""
installed=0
cleanup() {
  status=$?
  for pid in $agent_pid $collector_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $agent_pid $collector_pid; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] && [ "$installed" -eq 1 ]; then
    # None of this existed when we started (checked above): leave the
    # machine as we found it, so the check can run again.
    echo "package-check: failed; purging what it installed" >&2
    dpkg -P glci-collector glci-agent >/dev/null 2>&1 || true
    rm -rf /var/lib/glci /var/lib/glci-agent /etc/glci
    if getent passwd glci >/dev/null; then userdel glci 2>/dev/null || true; fi
    if getent group glci >/dev/null; then groupdel glci 2>/dev/null || true; fi
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# --- build --------------------------------------------------------------------
step "building the packages in $build"
rm -f "$build"/glci-collector_*.deb "$build"/glci-agent_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; die "cpack failed"; }
collector_deb=$(ls "$build"/glci-collector_*.deb)
agent_deb=$(ls "$build"/glci-agent_*.deb)
echo "$collector_deb"; echo "$agent_deb"
# The metrics server (libmicrohttpd) is the collector's alone; shlibdeps
# must have found it, and the Prometheus examples ship with the collector.
dpkg-deb -f "$collector_deb" Depends | grep -q libmicrohttpd \
  || die "glci-collector does not depend on libmicrohttpd"
! dpkg-deb -f "$agent_deb" Depends | grep -q libmicrohttpd \
  || die "glci-agent depends on libmicrohttpd, which only the collector links"
# glci (in the collector's package) draws report text with Pango; the
# agent draws nothing.
dpkg-deb -f "$collector_deb" Depends | grep -q libpangocairo \
  || die "glci-collector does not depend on libpangocairo (glci report's text)"
! dpkg-deb -f "$agent_deb" Depends | grep -q libpango \
  || die "glci-agent depends on libpango, which only glci report links"
dpkg-deb -c "$collector_deb" >"$work/collector.contents"
for f in prometheus.yml glci-rules.yml; do
  grep -q "usr/share/doc/glci-collector/examples/prometheus/$f" "$work/collector.contents" \
    || die "$f is not in glci-collector"
done

install_both() {
  installed=1
  dpkg -i "$collector_deb" "$agent_deb" >"$work/dpkg.log" 2>&1 \
    || { cat "$work/dpkg.log" >&2; die "dpkg -i failed (missing dependencies? apt-get install -f)"; }
}

# --- round 1 ------------------------------------------------------------------
step "round 1: dpkg -i"
install_both

for f in /usr/bin/glci /usr/bin/glci-collector /usr/bin/glci-agent /usr/libexec/glci/glci-report; do
  [ -x "$f" ] || die "$f not installed"
done
for f in /usr/share/glci/glci.ini /etc/glci/collector.conf /etc/glci/agent.conf \
         /usr/lib/systemd/system/glci-collector.service /usr/lib/systemd/system/glci-agent.service; do
  [ -f "$f" ] || die "$f not installed"
done
getent passwd glci >/dev/null || die "postinst did not create the user glci"
[ "$(stat -c '%U:%G %a' /var/lib/glci)" = "glci:glci 700" ] \
  || die "/var/lib/glci is $(stat -c '%U:%G %a' /var/lib/glci), not glci:glci 700"
[ "$(stat -c '%U:%G %a' /var/lib/glci-agent/spool)" = "glci:glci 2770" ] \
  || die "/var/lib/glci-agent/spool is $(stat -c '%U:%G %a' /var/lib/glci-agent/spool)"

step "--help of the installed programs"
for prog in glci glci-collector glci-agent; do
  "$prog" --help >"$work/help" 2>&1 || die "$prog --help exited $?"
  grep -q "usage" "$work/help" || die "$prog --help printed no usage"
  echo "$prog --help: ok"
done

step "man pages"
for page in /usr/share/man/man1/glci.1.gz /usr/share/man/man8/glci-collector.8.gz \
            /usr/share/man/man8/glci-agent.8.gz; do
  if [ ! -f "$page" ]; then
    # Some container images tell dpkg to skip /usr/share/man.
    dpkg-deb -c "$collector_deb" "$agent_deb" 2>/dev/null | grep -q "${page#/}" \
      || die "$page is in neither package"
    echo "$page: in the package, not installed (dpkg path-exclude)"
    continue
  fi
  if command -v man >/dev/null; then
    MANWIDTH=80 man --warnings -l "$page" >"$work/man.out" 2>"$work/man.err" \
      || die "man -l $page failed: $(head -1 "$work/man.err")"
    [ ! -s "$work/man.err" ] || die "man -l $page warns: $(head -1 "$work/man.err")"
  else
    gzip -dc "$page" | groff -man -Tutf8 -ww >"$work/man.out" 2>"$work/man.err" \
      || die "groff $page failed"
  fi
  grep -q "NAME" "$work/man.out" || die "$page renders without a NAME section"
  echo "$page: renders"
done

step "systemd units"
if command -v systemd-analyze >/dev/null; then
  man_opt=--man=yes
  [ -f /usr/share/man/man8/glci-collector.8.gz ] || man_opt=--man=no
  systemd-analyze verify "$man_opt" /usr/lib/systemd/system/glci-collector.service \
      /usr/lib/systemd/system/glci-agent.service >"$work/verify" 2>&1 \
    || { cat "$work/verify" >&2; die "systemd-analyze verify failed"; }
  [ ! -s "$work/verify" ] || { cat "$work/verify" >&2; die "systemd-analyze verify warns"; }
  echo "systemd-analyze verify: both units clean"
  for u in glci-collector glci-agent; do
    systemd-analyze security --offline=true "/usr/lib/systemd/system/$u.service" 2>/dev/null \
      | grep -i "overall exposure" || true
  done
else
  echo "SKIP: systemd-analyze is not installed (package systemd); units not verified"
fi

step "round 1: dpkg -r (configuration stays)"
dpkg -r glci-collector glci-agent >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -r failed"; }
[ ! -e /usr/bin/glci-collector ] && [ ! -e /usr/bin/glci-agent ] || die "programs left after dpkg -r"
[ -f /etc/glci/collector.conf ] && [ -f /etc/glci/agent.conf ] || die "dpkg -r removed the configuration"

step "round 1: dpkg -P (nothing left)"
dpkg -P glci-collector glci-agent >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -P failed"; }
for d in /etc/glci /var/lib/glci /var/lib/glci-agent; do
  [ ! -e "$d" ] || die "$d left after purge"
done
! getent passwd glci >/dev/null || die "user glci left after purging both packages"
! getent group glci >/dev/null || die "group glci left after purging both packages"

# --- round 2 ------------------------------------------------------------------
step "round 2: dpkg -i, and again over itself (upgrade path)"
install_both
install_both

# Below the kernel's ephemeral ports (32768 up by default): the agent
# dials the collector's port before the collector listens, and a dial can
# be given that very port as its source (TCP self-connect), which the
# collector's bind then finds in use.
free_port() {
  local p=$(( 20000 + RANDOM % 10000 ))
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
port=$(free_port)
mport=$(free_port)
[ "$mport" != "$port" ] || mport=$((port + 1))
as_glci() { runuser -u glci -- "$@"; }
# Daemons start through setpriv, which execs them as glci (no su-like
# parent and no subshell), so $! and the exit status are the program's own.
as_glci_exec=(setpriv --reuid=glci --regid=glci --init-groups --)

step "round 2: glci init, city enrolment, collector and agent on 127.0.0.1:$port"
collector_pub=$(as_glci glci init --framework /usr/share/glci/glci.ini 2>/dev/null | head -1)
[ ${#collector_pub} -eq 40 ] || die "glci init printed no public key (got '$collector_pub')"
[ "$(stat -c '%U %a' /var/lib/glci/collector.key)" = "glci 600" ] || die "collector.key is not glci 0600"
[ "$(as_glci glci collector-key)" = "$collector_pub" ] || die "glci collector-key differs from init"
city_pub=$(as_glci glci-agent keygen --out /var/lib/glci-agent/city.key 2>/dev/null | head -1)
[ ${#city_pub} -eq 40 ] || die "glci-agent keygen printed no public key (got '$city_pub')"
as_glci glci city add cork-ie --name Cork --country IE --public-key "$city_pub" >/dev/null

as_glci glci-collector --check-config --config /etc/glci/collector.conf \
  --listen "tcp://127.0.0.1:$port" --metrics-listen "$mport" >"$work/check" 2>&1 \
  || { cat "$work/check" >&2; die "glci-collector --check-config failed on the installed setup"; }
"${as_glci_exec[@]}" glci-collector --config /etc/glci/collector.conf \
  --listen "tcp://127.0.0.1:$port" --metrics-listen "$mport" 2>"$work/collector.log" &
collector_pid=$!
# The shipped config sets the folders; the flags add what an operator fills in.
agent_flags=(--config /etc/glci/agent.conf --city cork-ie
             --collector "tcp://127.0.0.1:$port" --collector-key "$collector_pub")
# The framework's first indicator and its smallest valid value.
read -r indicator value < <(awk '
  /^\[indicator:/ { if (id != "") exit; id = substr($0, 12); sub(/\].*/, "", id) }
  id != "" && $1 == "min" { print id, $3; exit }' /usr/share/glci/glci.ini)
[ -n "${indicator:-}" ] && [ -n "${value:-}" ] || die "no indicator with a min in the framework"
as_glci glci-agent "${agent_flags[@]}" push "$indicator" 2025 "$value" >/dev/null \
  || die "glci-agent push failed"
"${as_glci_exec[@]}" glci-agent "${agent_flags[@]}" run 2>"$work/agent.log" &
agent_pid=$!

delivered=0
for _ in $(seq 1 300); do      # a deadline (30 s), not a speed assertion
  if as_glci glci history cork-ie "$indicator" --format csv 2>/dev/null | grep -q '^2025,'; then
    delivered=1; break
  fi
  kill -0 "$collector_pid" 2>/dev/null || break
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$delivered" -ne 1 ]; then
  echo "--- collector log" >&2; cat "$work/collector.log" >&2
  echo "--- agent log" >&2; cat "$work/agent.log" >&2
  die "the pushed value did not reach the store"
fi
echo "value delivered: $(as_glci glci history cork-ie "$indicator" --format csv | tail -1)"
as_glci glci-agent "${agent_flags[@]}" check >"$work/check" 2>&1 \
  || { cat "$work/check" >&2; die "glci-agent check failed against the installed collector"; }
cat "$work/check"
health=$(exec 3<>"/dev/tcp/127.0.0.1/$mport" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && cat <&3)
case "$health" in
  "HTTP/1.1 200"*ok*) echo "/health of the installed collector: 200 ok" ;;
  *) die "/health of the installed collector did not answer 200: $health" ;;
esac
for name in agent collector; do
  pidvar=${name}_pid
  kill -TERM "${!pidvar}"
  rc=0; wait "${!pidvar}" || rc=$?
  printf -v "$pidvar" '%s' ""
  [ "$rc" -eq 0 ] || { cat "$work/$name.log" >&2; die "glci-$name exited $rc on SIGTERM, not 0"; }
done
as_glci glci verify >/dev/null || die "glci verify failed on the installed store"
# report, template and the workbook run in /usr/libexec/glci/glci-report
out=/var/lib/glci/package-check     # written as glci, which cannot enter $work
as_glci mkdir "$out"
as_glci glci report --city cork-ie --pdf "$out/cork.pdf" --period 2025 >/dev/null 2>"$work/report.err" \
  || { cat "$work/report.err" >&2; die "glci report --pdf failed on the installed store"; }
[ "$(head -c 5 "$out/cork.pdf")" = "%PDF-" ] || die "glci report wrote no PDF"
as_glci glci --format xlsx export --out "$out/export.xlsx" >/dev/null 2>"$work/report.err" \
  || { cat "$work/report.err" >&2; die "glci export --format xlsx failed on the installed store"; }
[ "$(head -c 2 "$out/export.xlsx")" = "PK" ] || die "glci export --format xlsx wrote no workbook"
rm -rf "$out"
echo "glci report and export --format xlsx: ok (run by /usr/libexec/glci/glci-report)"

step "round 2: dpkg -P keeps data and says so"
dpkg -P glci-collector >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -P glci-collector failed"; }
grep -q "kept /var/lib/glci" "$work/dpkg.log" || die "purge did not name the kept store"
[ -f /var/lib/glci/collector.key ] || die "purge deleted the store"
getent passwd glci >/dev/null || die "purge removed the user glci while glci-agent is installed"
dpkg -P glci-agent >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -P glci-agent failed"; }
grep -q "kept /var/lib/glci-agent" "$work/dpkg.log" || die "purge did not name the kept outbox"
getent passwd glci >/dev/null || die "purge removed the user glci while its files remain"

step "removing the data of round 2"
rm -rf /var/lib/glci /var/lib/glci-agent /etc/glci
deluser --system --quiet glci >/dev/null 2>&1 || userdel glci
getent group glci >/dev/null && { delgroup --system --quiet glci >/dev/null 2>&1 || groupdel glci; }

step "all checks passed"
