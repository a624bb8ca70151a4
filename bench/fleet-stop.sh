#!/usr/bin/env bash
# bench/fleet-stop.sh DIR: stop the fleet bench/fleet-start.sh started in
# DIR: exactly the sshd whose pids its pid files hold (each checked to be
# the sshd of that host's config, in case the pid was reused), SIGTERM, then
# SIGKILL after 10 s, and wait until every one has exited.
set -euo pipefail

die() { printf 'fleet-stop: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: bench/fleet-stop.sh DIR"
[ -d "$1" ] || die "$1 is not a directory"
dir=$(cd "$1" && pwd)

# ours PID CONFIG: the process is the sshd started with that config.
ours() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *sshd*"-f $2"* ]]
}

pids=()
for pidfile in "$dir"/host*/sshd.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  config="$(dirname "$pidfile")/sshd_config"
  if [[ $pid =~ ^[0-9]+$ ]] && ours "$pid" "$config"; then
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  fi
  rm -f "$pidfile"
done

# They are not our children: wait by polling.
for _ in $(seq 500); do
  alive=()
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
  done
  [ ${#alive[@]} -eq 0 ] && break
  sleep 0.02
done
for pid in "${alive[@]}"; do
  kill -KILL "$pid" 2>/dev/null || true
done
for pid in "${alive[@]}"; do
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
done
echo "fleet-stop: stopped ${#pids[@]} sshd ($dir)"
