#!/usr/bin/env bash
# bench/openssh-floor.sh FLEETDIR OUTDIR COMMANDS [SSH_CONFIG]: the floor of
# the sweep benchmark. One OpenSSH client per host of the fleet, all at once,
# each running COMMANDS (one shell command line) on its host; each host's
# output goes to OUTDIR/HOST.txt. Fails if any host could not be reached (ssh
# exits 255) or OUTDIR lacks a host's output. SSH_CONFIG defaults to the
# fleet's ssh_config.
set -euo pipefail

[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: bench/openssh-floor.sh FLEETDIR OUTDIR COMMANDS [SSH_CONFIG]" >&2; exit 64; }
fleet=$1 out=$2 commands=$3 config=${4:-$1/ssh_config}
mkdir -p "$out"

pids=()
hosts=()
while read -r host; do
  ssh -F "$config" -n "$host" "$commands" >"$out/$host.txt" 2>&1 &
  pids+=("$!")
  hosts+=("$host")
done <"$fleet/hosts"

failed=0
for i in "${!pids[@]}"; do
  code=0
  wait "${pids[$i]}" || code=$?
  if [ "$code" -eq 255 ]; then
    echo "openssh-floor: ${hosts[$i]}: ssh failed: $(tail -n 1 "$out/${hosts[$i]}.txt")" >&2
    failed=1
  fi
done
exit "$failed"
