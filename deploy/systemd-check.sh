#!/usr/bin/env bash
# CI step: the two Debian packages under a real systemd. Makes (once, then
# from a cache) a minimal Debian 12 root with debootstrap, boots a copy of
# it with systemd-nspawn, installs the packages from BUILD_DIR in it and
# follows docs/OPERATIONS.md ("Setting up the collector", "Enrolling a
# city") as an operator would, with `systemctl`, as PID 1 sees it:
#
#   boot 1  apt-get install ./glci-*.deb; glci init; keygen; city add;
#           agent.conf; systemctl enable --now both: both active, READY,
#           a value pushed without --config is in `glci city list`;
#           systemctl reload of both (and the new setting in force, the
#           same process); restart (new processes, still delivering); a
#           clean stop (exit 0); start again; poweroff from inside.
#   boot 2  both units active after boot, READY, a value delivered,
#           `glci verify`; poweroff; the journal shows both stopped cleanly.
#
# The container has its own network namespace (only loopback): the
# collector's tcp://0.0.0.0:7461 is that namespace's, never the host's.
#
# The root is cached in $GLCI_SYSTEMD_CHECK_CACHE (default
# /var/cache/glci-systemd-check), keyed by its package list: systemd,
# systemd-sysv, dbus and what the two packages depend on, so that the
# packages install without a network. The cache is read-only to the check:
# each run boots an overlay (or, where overlayfs is missing, a copy) of it.
# The mirror is the first one this machine's apt sources name for bookworm
# main, or $GLCI_DEBIAN_MIRROR.
#
# Usage: deploy/systemd-check.sh BUILD_DIR
# Exit status: 0 passed; 1 failed; 2 usage; 77 skipped: this machine
# cannot run the check (not root, no Debian mirror for the first root, or
# systemd-nspawn cannot boot a container here). The message says which.
set -euo pipefail

readonly SKIP=77
readonly SUITE=bookworm
readonly DEADLINE=120        # seconds; an upper bound when the machine is loaded, not a speed check

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || { echo "systemd-check: no build directory $1" >&2; exit 2; }

t0=$(date +%s)
step() { echo "== systemd-check: $*"; }
ok() { echo "   ok: $*"; }
die() { echo "systemd-check: FAIL: $*" >&2; exit 1; }
skip() { echo "systemd-check: SKIPPED: $*" >&2; exit "$SKIP"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, overlay mounts, systemd-nspawn)"
for tool in debootstrap systemd-nspawn nsenter cpack dpkg-deb flock; do
  command -v "$tool" >/dev/null \
    || die "$tool is not installed (deploy/setup-deps.sh installs debootstrap, systemd-container)"
done

cache=${GLCI_SYSTEMD_CHECK_CACHE:-/var/cache/glci-systemd-check}
work=$(mktemp -d /var/tmp/glci-systemd-check.XXXXXX)
root=$work/root
nspawn_pid=""
leader=""
mounted=0

# Runs a command in the booted container, as root, with a clean environment.
ct() {
  nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
# The same as the user glci, the way the guide says it.
ct_glci() { ct runuser -u glci -- "$@"; }

show_journal() {
  [ -n "$leader" ] || return 0
  for u in glci-collector glci-agent; do
    echo "--- journal of $u (this boot, last 25 lines)" >&2
    ct journalctl -b -u "$u" -p info --no-pager -o short-monotonic 2>&1 | tail -25 >&2 || true
  done
}

# The nspawn process, gone within the deadline?
nspawn_exited() {
  for _ in $(seq 1 $((DEADLINE * 10))); do
    kill -0 "$nspawn_pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

stop_container() {
  [ -n "$nspawn_pid" ] || return 0
  if kill -0 "$nspawn_pid" 2>/dev/null; then
    # poweroff from inside; if PID 1 does not listen yet, SIGTERM makes
    # systemd-nspawn ask it to halt.
    if [ -z "$leader" ] || ! ct systemctl poweroff >/dev/null 2>&1; then
      kill -TERM "$nspawn_pid" 2>/dev/null || true
    fi
    nspawn_exited || true
  fi
  if kill -0 "$nspawn_pid" 2>/dev/null; then
    echo "systemd-check: the container did not power off; killing systemd-nspawn $nspawn_pid" >&2
    kill -KILL "$nspawn_pid" 2>/dev/null || true
  fi
  wait "$nspawn_pid" 2>/dev/null || true
  nspawn_pid=""
  leader=""
}

cleanup() {
  status=$?
  trap - EXIT
  if [ "$status" -eq 1 ]; then show_journal; fi
  stop_container
  if [ "$mounted" -eq 1 ]; then umount "$root" 2>/dev/null || umount -l "$root" || true; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# --- the packages -------------------------------------------------------------
step "building the packages in $build"
rm -f "$build"/glci-collector_*.deb "$build"/glci-agent_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; die "cpack failed"; }
debs=("$build"/glci-collector_*.deb "$build"/glci-agent_*.deb)
for d in "${debs[@]}"; do [ -f "$d" ] || die "cpack made no $d"; done

# What the root holds: systemd as PID 1, plus every dependency of the two
# packages (the first of alternatives, without versions), so that installing
# them needs no network inside the container.
packages=$(
  { printf '%s\n' systemd systemd-sysv dbus
    for d in "${debs[@]}"; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
      sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' -e 's/:any$//'
  } | grep -v -e '^$' -e '^glci-' | sort -u | paste -sd, -)
key=$(printf '%s %s %s\n' "$SUITE" minbase "$packages" | sha256sum | cut -c1-16)

# --- the cached root ------------------------------------------------------------
# The first deb URI this machine's apt sources give for SUITE main.
s_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") &&
            (" " comps " ") ~ / main / && uri != "") { print uri; found = 1; exit }
        types = suites = comps = uri = ""
      }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/      { sub(/^Types:[[:space:]]*/, "");      types = $0 }
      /^URIs:/       { sub(/^URIs:[[:space:]]*/, "");       split($0, u, " "); uri = u[1] }
      /^Suites:/     { sub(/^Suites:[[:space:]]*/, "");     suites = $0 }
      /^Components:/ { sub(/^Components:[[:space:]]*/, ""); comps = $0 }
      END { if (!found) flush() }' "$f"
  done
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    awk -v suite="$SUITE" '$1 == "deb" {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit } }'
}

mkdir -p "$cache"
# Exclusive while a root is made (and older ones deleted), shared while
# one is booted: no run deletes the root under another.
exec 9>"$cache/lock"
flock 9
if [ -f "$cache/$key/complete" ]; then
  step "cached root $cache/$key ($packages)"
else
  mirror=${GLCI_DEBIAN_MIRROR:-$(s_mirror | head -1 || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  step "making the root: debootstrap --variant=minbase $SUITE from $mirror"
  echo "   packages: $packages"
  rm -rf "$cache/$key.new"
  mkdir -p "$cache/$key.new"
  t=$(date +%s)
  if ! debootstrap --variant=minbase --include="$packages" "$SUITE" "$cache/$key.new/root" \
         "$mirror" >"$cache/$key.new/debootstrap.log" 2>&1; then
    tail -15 "$cache/$key.new/debootstrap.log" >&2
    if grep -qE "Failed getting release file|Couldn't download|Temporary failure resolving" \
         "$cache/$key.new/debootstrap.log"; then
      rm -rf "$cache/$key.new"
      skip "the Debian mirror $mirror cannot be reached to make the root (set GLCI_DEBIAN_MIRROR)"
    fi
    die "debootstrap failed (log above)"
  fi
  rm -f "$cache/$key.new/root/var/cache/apt/archives/"*.deb
  echo "$packages" >"$cache/$key.new/complete"
  rm -rf "$cache/$key"
  mv "$cache/$key.new" "$cache/$key"
  # Roots of other package lists are stale now.
  for old in "$cache"/*/; do
    old=${old%/}
    [ "$old" = "$cache/$key" ] || rm -rf "$old"
  done
  ok "root made in $(( $(date +%s) - t )) s, $(du -sh "$cache/$key/root" | cut -f1)"
fi
flock -s 9

mkdir -p "$work/upper" "$work/overlay-work" "$root"
if mount -t overlay overlay \
     -o "lowerdir=$cache/$key/root,upperdir=$work/upper,workdir=$work/overlay-work" \
     "$root" 2>"$work/mount.err"; then
  mounted=1
else
  echo "   no overlayfs here ($(head -1 "$work/mount.err")); copying the root" >&2
  rmdir "$root"
  cp -a --reflink=auto "$cache/$key/root" "$root"
fi
mkdir -p "$root/root/debs"
cp "${debs[@]}" "$root/root/debs/"

# --- booting --------------------------------------------------------------------
# boot N [ARGS for systemd]: boots the root in the background, sets leader
# to its PID 1 and waits until the boot has finished.
boot() {
  local n=$1; shift
  local log=$work/boot$n.log
  # No systemd on the host: --register=no --keep-unit (no machined, no
  # transient scope). --private-network: loopback only. The machine name is
  # this run's, since nspawn keeps per-name state in /run/systemd/nspawn.
  systemd-nspawn -D "$root" -b --register=no --keep-unit --private-network \
    --machine="glci-check-$$" --console=read-only -- "$@" >"$log" 2>&1 </dev/null &
  nspawn_pid=$!
  leader=""
  for _ in $(seq 1 $((DEADLINE * 10))); do
    kill -0 "$nspawn_pid" 2>/dev/null || break
    local child
    child=$(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null || true)
    child=${child%% *}
    if [ -n "$child" ] && [ "$(cat "/proc/$child/comm" 2>/dev/null)" = systemd ]; then
      leader=$child
      break
    fi
    sleep 0.1
  done
  if [ -z "$leader" ]; then
    tail -15 "$log" >&2
    nspawn_pid=""
    [ "$n" -eq 1 ] && skip "systemd-nspawn cannot boot a container on this machine (its output above)"
    die "boot $n: the container did not start (its output above)"
  fi
  # is-system-running --wait waits for the boot to end, once PID 1 listens.
  local state=""
  for _ in $(seq 1 $((DEADLINE * 5))); do
    kill -0 "$nspawn_pid" 2>/dev/null || break
    state=$(timeout "$DEADLINE" nsenter -t "$leader" -a systemctl is-system-running --wait 2>&1 || true)
    # "offline": PID 1 runs but its manager is not up yet (seen under load)
    case "$state" in *"Failed to connect to bus"*|offline) sleep 0.2 ;; *) break ;; esac
  done
  case "$state" in
    running|degraded) ;;
    *) tail -15 "$log" >&2
       [ "$n" -eq 1 ] && skip "systemd in the container did not finish booting ($state)"
       die "boot $n: systemd did not finish booting ($state)" ;;
  esac
  ok "boot $n: systemd is PID 1 of the container (host pid $leader), system $state"
}

# systemctl poweroff from inside; the container must go down cleanly.
power_off() {
  ct systemctl poweroff || true   # the connection may drop as PID 1 goes down
  nspawn_exited || die "the container did not power off"
  local rc=0
  wait "$nspawn_pid" || rc=$?
  nspawn_pid=""; leader=""
  [ "$rc" -eq 0 ] || die "systemd-nspawn exited $rc after poweroff"
}

# wait_for DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 $((DEADLINE * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what (waited $DEADLINE s)"
}

main_pid() { ct systemctl show -p MainPID --value "$1"; }

units_active() {
  local u st
  for u in glci-collector glci-agent; do
    st=$(ct systemctl is-active "$u" || true)
    [ "$st" = active ] || die "$u is $st, not active"
  done
  ok "both units active (collector pid $(main_pid glci-collector), agent pid $(main_pid glci-agent))"
}

# READY=1 from the unit's current main process, as PID 1 logged it (debug).
ready_seen() {
  local u pid
  for u in glci-collector glci-agent; do
    pid=$(main_pid "$u")
    ct journalctl -b -u "$u" --no-pager -o cat |
      grep -q "Got notification message from PID $pid (READY=1" \
      || die "$u: no READY=1 from its main process $pid in the journal"
  done
  ok "READY=1 from both main processes in the journal"
}

observations() {
  ct_glci glci city list --format json |
    sed -n 's/.*"id": "cork-ie"[^}]*"observations": \([0-9]*\).*/\1/p'
}
at_least() { [ "$(observations)" -ge "$1" ]; }

# push PERIOD: one value through the default config, then waits until the
# collector holds it.
pushed=0
push() {
  ct_glci glci-agent push "$indicator" "$1" "$value" >/dev/null \
    || die "glci-agent push (no --config: /etc/glci/agent.conf) failed"
  pushed=$((pushed + 1))
  wait_for "the value pushed for $1 is not in glci city list" at_least "$pushed"
  ok "pushed $indicator $1 $value: glci city list shows $(observations) observation(s) of cork-ie"
}

# journal_has UNIT TEXT
journal_has() { ct journalctl -b -u "$1" --no-pager -o cat | grep -qF -- "$2"; }

# --- boot 1: install and set up as the guide says ------------------------------------
step "boot 1: a minimal Debian 12 with systemd as PID 1"
boot 1
ct systemd-analyze log-level debug   # so that the journal shows READY=1 itself

step "installing the packages (apt-get install ./glci-*.deb)"
ct sh -c 'apt-get install -y -q /root/debs/glci-collector_*.deb /root/debs/glci-agent_*.deb' \
  >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; die "apt-get install of the packages failed"; }
ok "installed: $(ct dpkg-query -W -f='${Package} ${Version}\n' glci-collector glci-agent | paste -sd' ' -)"

step "the collector: glci init, systemctl enable --now glci-collector"
collector_pub=$(ct_glci glci init --framework /usr/share/glci/glci.ini 2>/dev/null | head -1)
[ ${#collector_pub} -eq 40 ] || die "glci init printed no public key (got '$collector_pub')"
ct systemctl enable --now glci-collector >"$work/enable.log" 2>&1 \
  || { cat "$work/enable.log" >&2; die "systemctl enable --now glci-collector failed"; }
ok "glci-collector started"

step "a city: keygen, city add, agent.conf, systemctl enable --now glci-agent"
city_pub=$(ct_glci glci-agent keygen --out /var/lib/glci-agent/city.key 2>/dev/null | head -1)
[ ${#city_pub} -eq 40 ] || die "glci-agent keygen printed no public key (got '$city_pub')"
ct_glci glci city add cork-ie --name Cork --country IE --public-key "$city_pub" >/dev/null \
  || die "glci city add failed"
# Sets the three keys the shipped agent.conf shows commented out.
ct awk -v key="$collector_pub" '
  /^;city = /          { print "city = cork-ie"; next }
  /^;collector = /     { print "collector = tcp://127.0.0.1:7461"; next }
  /^;collector_key = / { print "collector_key = " key; next }
  { print }' /etc/glci/agent.conf >"$work/agent.conf"
[ "$(grep -cE '^(city|collector|collector_key) = ' "$work/agent.conf")" -eq 3 ] \
  || die "the shipped agent.conf lacks the commented city, collector or collector_key line"
ct tee /etc/glci/agent.conf <"$work/agent.conf" >/dev/null
ct systemctl enable --now glci-agent >"$work/enable.log" 2>&1 \
  || { cat "$work/enable.log" >&2; die "systemctl enable --now glci-agent failed"; }
ok "glci-agent started"

# The framework's first indicator and its smallest valid value.
read -r indicator value < <(ct awk '
  /^\[indicator:/ { if (id != "") exit; id = substr($0, 12); sub(/\].*/, "", id) }
  id != "" && $1 == "min" { print id, $3; exit }' /usr/share/glci/glci.ini)
[ -n "${indicator:-}" ] && [ -n "${value:-}" ] || die "no indicator with a min in the framework"

step "boot 1: running"
units_active
ready_seen
push 2025

step "systemctl reload glci-collector (group_max 256 -> 128 in collector.conf)"
pid=$(main_pid glci-collector)
ct sed -i 's/^;group_max = 256$/group_max = 128/' /etc/glci/collector.conf
ct grep -qx 'group_max = 128' /etc/glci/collector.conf || die "collector.conf has no ';group_max = 256' line"
ct systemctl reload glci-collector || die "systemctl reload glci-collector failed"
wait_for "the collector did not log the reloaded group_max" \
  journal_has glci-collector "configuration reloaded (batch_max 10000, group_max 128,"
[ "$(main_pid glci-collector)" = "$pid" ] || die "the reload restarted the collector"
ok "reloaded in place (pid $pid): group_max 128 in force"

step "systemctl reload glci-agent (collector endpoint 127.0.0.1 -> 127.0.0.2 in agent.conf)"
pid=$(main_pid glci-agent)
ct sed -i 's|^collector = tcp://127.0.0.1:7461$|collector = tcp://127.0.0.2:7461|' /etc/glci/agent.conf
ct systemctl reload glci-agent || die "systemctl reload glci-agent failed"
wait_for "the agent did not log the reconnection to the new endpoint" \
  journal_has glci-agent "reload: reconnecting to tcp://127.0.0.2:7461"
[ "$(main_pid glci-agent)" = "$pid" ] || die "the reload restarted the agent"
ok "reloaded in place (pid $pid): reconnected to tcp://127.0.0.2:7461"
push 2024

step "a staff member's CSV file in the spool folder (adduser alice glci)"
ct adduser --quiet --disabled-password --gecos "" alice >/dev/null || die "adduser alice failed"
ct adduser --quiet alice glci >/dev/null || die "adduser alice glci failed"
# Written under a dot name (which the agent skips) and moved in.
ct runuser -u alice -- sh -c "printf 'indicator,period,value\n%s,2021,%s\n' '$indicator' '$value' \
    >/var/lib/glci-agent/spool/.staff.tmp && mv /var/lib/glci-agent/spool/.staff.tmp \
    /var/lib/glci-agent/spool/staff.csv" || die "alice cannot write into the spool folder"
pushed=$((pushed + 1))
wait_for "alice's spool file was not delivered" at_least "$pushed"
ct test -f /var/lib/glci-agent/spool/done/staff.csv || die "staff.csv is not in spool/done/"
ok "staff.csv (owner alice) delivered and moved to spool/done/"

step "systemctl restart glci-collector glci-agent"
old="$(main_pid glci-collector) $(main_pid glci-agent)"
ct systemctl restart glci-collector glci-agent || die "systemctl restart failed"
units_active
[ "$(main_pid glci-collector) $(main_pid glci-agent)" != "$old" ] || die "restart kept the old processes"
push 2023

step "systemctl stop: a clean stop"
ct systemctl stop glci-agent glci-collector || die "systemctl stop failed"
for u in glci-collector glci-agent; do
  res=$(ct systemctl show -p Result,ExecMainCode,ExecMainStatus "$u" | tr '\n' ' ')
  # ExecMainCode 1 is CLD_EXITED: it exited (status 0), it was not killed.
  [ "$res" = "Result=success ExecMainCode=1 ExecMainStatus=0 " ] \
    || die "$u did not stop cleanly: $res"
done
ok "both exited 0 on SIGTERM"
ct systemctl start glci-collector glci-agent || die "systemctl start after the stop failed"

step "systemctl poweroff (boot 1)"
power_off
ok "powered off"

# --- boot 2: enabled units come up by themselves ---------------------------------------
step "boot 2: the enabled units start at boot"
boot 2 --log-level=debug
units_active
ready_seen
push 2022
ct_glci glci-agent status --format json >"$work/status" 2>&1 \
  || { cat "$work/status" >&2; die "glci-agent status failed"; }
grep -q '"running": true' "$work/status" \
  || { cat "$work/status" >&2; die "glci-agent status does not see the daemon"; }
ok "glci-agent status (no --config) sees the running daemon"
ct_glci glci verify >/dev/null || die "glci verify failed"
ok "glci verify: the stored scores match a full recomputation"

step "systemctl poweroff (boot 2): the units stop cleanly at shutdown"
power_off
for u in glci-collector glci-agent; do
  journalctl -D "$root/var/log/journal" -b -0 -u "$u" --no-pager -o cat >"$work/$u.journal" 2>&1 || true
  grep -q "$u.service: Deactivated successfully" "$work/$u.journal" \
    || { tail -15 "$work/$u.journal" >&2; die "$u did not stop cleanly at shutdown"; }
  ! grep -q "$u.service: Failed with result" "$work/$u.journal" \
    || { tail -15 "$work/$u.journal" >&2; die "$u failed during boot 2"; }
done
ok "both deactivated successfully at shutdown"

step "all checks passed in $(( $(date +%s) - t0 )) s"
