#!/usr/bin/env bash
# bench/sweep.sh [N]: triage sweep against the OpenSSH client and Ansible
# on the same fleet of N real sshd (default 50) on 127.0.0.1.
#
# Each round runs, one after the other:
#   triage   triage sweep -i hosts.yaml bench/bench.yaml --parallel N
#            (disk of /, DNS of localhost, the openssh-server package, OS facts)
#   openssh  one ssh per host, all at once, each running the same work as
#            shell commands: the floor (bench/openssh-floor.sh)
#   ansible  ansible all -f N -m shell -a COMMANDS (ansible-core)
#   session  one ssh per host, all at once, running only `true`, with the key
#            exchange triage uses (curve25519-sha256): what one connection
#            and one session cost the servers, which every tool that runs
#            anything on a host pays; it bounds the ratio to Ansible that
#            any SSH tool can reach on this machine (see bench/README.md)
# and prints the median wall and CPU seconds (user + system of the whole
# process tree) of each, the CPU the fleet's servers spent for it, the peak
# RSS of its largest process, and the ratios triage/OpenSSH and
# Ansible/triage. A first, unmeasured round warms the
# page cache and the servers.
#
# Environment:
#   ROUNDS=5             measured rounds
#   BENCH_DIR=DIR        keep the fleet, outputs and timings there (default: a
#                        temporary folder, removed at the end)
#   BENCH_ANSIBLE=auto   auto: use ansible if installed, else install
#                        ansible-core with apt-get when root, else skip it;
#                        0: skip it; 1: require it
#   BENCH_PORT_BASE      first port of the fleet (bench/fleet-start.sh)
#   BENCH_TRIAGE=FILE    sweep with this triage binary instead of building one
#                        from the checkout
#   BENCH_BASELINE=FILE  also sweep with this other triage binary in every
#                        round, as the column "baseline" (to compare two builds
#                        in one run, under the same load)
#   BENCH_SESSION=1      0: skip the session row and the ceiling
#
# Runs as root or as a normal user; everything listens and connects on
# 127.0.0.1 only.
set -euo pipefail

die() { printf 'sweep.sh: %s\n' "$*" >&2; exit 1; }

n=${1:-50}
[[ $n =~ ^[1-9][0-9]*$ ]] || die "usage: bench/sweep.sh [N]"
rounds=${ROUNDS:-5}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive number"
bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")

# The same work for the OpenSSH client and Ansible as bench/bench.yaml
# asks of triage. triage reads os-release and the package database over
# SFTP rather than with cat and dpkg-query: a comparable amount of work.
commands='df -P /; getent ahostsv4 localhost; dpkg-query -W openssh-server; uname -a; cat /etc/os-release'

if [ -n "${BENCH_DIR:-}" ]; then
  mkdir -p "$BENCH_DIR"
  work=$(cd "$BENCH_DIR" && pwd)
  keep=1
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/triage-bench.XXXXXX")
  keep=0
fi
fleet=$work/fleet

command -v ssh >/dev/null || die "no OpenSSH client: apt-get install -y openssh-client"
[ -n "${BENCH_TRIAGE:-}" ] || command -v go >/dev/null || die "no go command to build triage (or set BENCH_TRIAGE)"

use_ansible=1
case ${BENCH_ANSIBLE:-auto} in
  0) use_ansible=0 ;;
  1 | auto)
    if ! command -v ansible >/dev/null; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "sweep.sh: installing ansible-core (apt-get install -y ansible-core)"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible-core >/dev/null 2>&1; then
          DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible-core >/dev/null 2>&1 || true
        fi
      fi
      if command -v ansible >/dev/null; then
        :
      elif [ "${BENCH_ANSIBLE:-auto}" = 1 ]; then
        die "ansible is not installed, and installing it needs root: apt-get install -y ansible-core"
      else
        echo "sweep.sh: ansible is not installed (and could not be installed: that needs root and apt-get): the Ansible column is skipped; apt-get install -y ansible-core to include it"
        use_ansible=0
      fi
    fi
    ;;
  *) die "BENCH_ANSIBLE must be auto, 0 or 1" ;;
esac

gnu_time=""
if [ -x /usr/bin/time ] && /usr/bin/time -f %e true 2>/dev/null; then
  gnu_time=/usr/bin/time
fi

cleanup() {
  "$bench/fleet-stop.sh" "$fleet" >/dev/null 2>&1 || true
  if [ "$keep" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${BENCH_TRIAGE:-}" ]; then
  [ -x "$BENCH_TRIAGE" ] || die "BENCH_TRIAGE=$BENCH_TRIAGE is not an executable"
  cp "$BENCH_TRIAGE" "$work/triage"
else
  echo "sweep.sh: building triage"
  (cd "$root" && go build -o "$work/triage" ./cmd/triage)
fi
if [ -n "${BENCH_BASELINE:-}" ]; then
  [ -x "$BENCH_BASELINE" ] || die "BENCH_BASELINE=$BENCH_BASELINE is not an executable"
  cp "$BENCH_BASELINE" "$work/baseline"
fi
rm -f "$work"/*.times
"$bench/fleet-start.sh" "$n" "$fleet"

# The fleet's sshd, to count the CPU the servers spend for each tool: the
# work a tool asks of the hosts (sessions, shells, commands, sftp-server).
mapfile -t sshd_pids < <(cat "$fleet"/host*/sshd.pid)
declare -A is_sshd
for p in "${sshd_pids[@]}"; do is_sshd[$p]=1; done
clk_tck=$(getconf CLK_TCK)

# fleet_busy: some connection process of the fleet has not been reaped.
fleet_busy() {
  local f rest ppid
  for f in /proc/[0-9]*/stat; do
    read -r rest 2>/dev/null <"$f" || continue
    rest=${rest##*) }
    ppid=${rest#* }
    ppid=${ppid%% *}
    if [ -n "${is_sshd[$ppid]:-}" ]; then return 0; fi
  done
  return 1
}

# server_ticks: the CPU clock ticks the fleet's sshd have used, with those
# of the connection processes they have reaped (and those reaped theirs:
# every session's shell and commands), once every connection has ended.
server_ticks() {
  local p rest total=0 w
  for _ in $(seq 500); do
    fleet_busy || break
    sleep 0.02
  done
  for p in "${sshd_pids[@]}"; do
    read -r rest <"/proc/$p/stat"
    rest=${rest##*) }
    read -r -a w <<<"$rest"
    # utime, stime, cutime and cstime: fields 14 to 17 of the line.
    total=$((total + w[11] + w[12] + w[13] + w[14]))
  done
  echo "$total"
}

# timed TOOL CMD...: runs CMD with its output in $work/out/TOOL.*, appends
# "wall user sys maxrss_kib server_cpu" to $work/TOOL.times, and returns
# CMD's exit status. GNU time counts the CPU of every process the command
# waited for, which is the whole tree for the three tools measured here.
timed() {
  local tool=$1 code=0 before after
  shift
  mkdir -p "$work/out"
  before=$(server_ticks)
  if [ -n "$gnu_time" ]; then
    "$gnu_time" -f '%e %U %S %M' -o "$work/time.txt" "$@" >"$work/out/$tool.stdout" 2>"$work/out/$tool.stderr" || code=$?
  else
    local TIMEFORMAT='%R %U %S 0'
    { time "$@" >"$work/out/$tool.stdout" 2>"$work/out/$tool.stderr" || code=$?; } 2>"$work/time.txt"
  fi
  after=$(server_ticks)
  if [ "$measuring" = 1 ]; then
    echo "$(tail -n 1 "$work/time.txt") $(awk -v t=$((after - before)) -v hz="$clk_tck" 'BEGIN { printf "%.2f", t / hz }')" >>"$work/$tool.times"
  fi
  return "$code"
}

# run_triage [NAME]: a sweep by $work/NAME (default triage), timed as NAME.
run_triage() {
  local code=0 name=${1:-triage}
  timed "$name" "$work/$name" sweep -i "$fleet/hosts.yaml" -F "$fleet/ssh_config" \
    --parallel "$n" -o json "$bench/bench.yaml" || code=$?
  # 0-2 are verdicts on hosts that were all checked; 3 is a host not checked.
  if [ "$code" -gt 2 ]; then
    die "$name sweep exited $code: $(tail -n 5 "$work/out/$name.stderr")"
  fi
}

run_openssh() {
  rm -rf "$work/out/floor"
  timed openssh "$bench/openssh-floor.sh" "$fleet" "$work/out/floor" "$commands" ||
    die "the OpenSSH floor failed: $(tail -n 5 "$work/out/openssh.stderr")"
}

# run_session: the least work a tool can ask of a host, one connection
# and one session, with the key exchange triage uses (the OpenSSH client's
# default, sntrup761x25519, costs the servers more CPU per connection).
run_session() {
  rm -rf "$work/out/session"
  if [ ! -f "$work/ssh_config.session" ]; then
    printf 'KexAlgorithms curve25519-sha256\nInclude %s\n' "$fleet/ssh_config" >"$work/ssh_config.session"
  fi
  timed session "$bench/openssh-floor.sh" "$fleet" "$work/out/session" true "$work/ssh_config.session" ||
    die "the session row failed: $(tail -n 5 "$work/out/session.stderr")"
}

run_ansible() {
  ANSIBLE_CONFIG=$fleet/ansible.cfg timed ansible ansible all -f "$n" -m shell -a "$commands" ||
    die "ansible failed: $(grep -m 5 -E 'UNREACHABLE|FAILED' "$work/out/ansible.stdout"; tail -n 5 "$work/out/ansible.stderr")"
}

round() {
  run_triage
  if [ -n "${BENCH_BASELINE:-}" ]; then run_triage baseline; fi
  run_openssh
  if [ "$use_ansible" = 1 ]; then run_ansible; fi
  if [ "${BENCH_SESSION:-1}" != 0 ]; then run_session; fi
}

# median COLUMN FILE: the median of a column of numbers.
median() {
  sort -g <(cut -d' ' -f"$1" "$2") | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu_file FILE: user + system of each run.
cpu_file() { awk '{ printf "%.3f\n", $2 + $3 }' "$1"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "sweep.sh: warm-up round (not measured)"
measuring=0
round
measuring=1
for r in $(seq "$rounds"); do
  round
  line="round $r:"
  for tool in triage baseline openssh ansible session; do
    [ -s "$work/$tool.times" ] || continue
    read -r wall user sys _ server < <(tail -n 1 "$work/$tool.times")
    if [ "$(id -u)" != 0 ]; then server=-1; fi
    line+="  $tool $(awk -v w="$wall" -v u="$user" -v s="$sys" -v sv="$server" 'BEGIN { printf "%.2fs (cpu %.2fs", w, u + s; if (sv >= 0) printf ", servers %.2fs", sv; printf ")" }')"
  done
  echo "$line"
done

ansible_version="skipped"
if [ "$use_ansible" = 1 ]; then ansible_version=$(ansible --version 2>/dev/null | sed -n 1p); fi
echo
echo "== sweep of $n hosts, median of $rounds rounds"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
echo "tools: $("$work/triage" version), $(ssh -V 2>&1), $ansible_version"
printf '%-9s %8s %8s %15s %14s\n' tool "wall s" "CPU s" "servers' CPU s" "peak RSS MiB"
declare -A wall cpu
for tool in triage baseline openssh ansible session; do
  [ -s "$work/$tool.times" ] || continue
  wall[$tool]=$(median 1 "$work/$tool.times")
  cpu[$tool]=$(median 1 <(cpu_file "$work/$tool.times"))
  server=$(median 5 "$work/$tool.times")
  # Run by a normal user, sshd's connection processes do not pass their
  # sessions' CPU time on to the listener: the count would be short.
  if [ "$(id -u)" != 0 ]; then server=n/a; fi
  rss=$(median 4 "$work/$tool.times")
  printf '%-9s %8.2f %8.2f %15s %14.1f\n' "$tool" "${wall[$tool]}" "${cpu[$tool]}" "$server" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
done
echo "(CPU: the tool's own processes, user + system; servers' CPU: what the fleet's sshd and the sessions they ran used meanwhile, counted as root only)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "triage/OpenSSH: wall $(ratio "${wall[triage]}" "${wall[openssh]}")x, CPU $(ratio "${cpu[triage]}" "${cpu[openssh]}")x   (target: wall <= 1.5x)"
if [ -n "${wall[baseline]:-}" ]; then
  echo "triage/baseline: wall $(ratio "${wall[triage]}" "${wall[baseline]}")x, CPU $(ratio "${cpu[triage]}" "${cpu[baseline]}")x"
fi
if [ -n "${wall[ansible]:-}" ]; then
  echo "Ansible/triage: wall $(ratio "${wall[ansible]}" "${wall[triage]}")x, CPU $(ratio "${cpu[ansible]}" "${cpu[triage]}")x   (target: wall >= 10x)"
else
  echo "Ansible/triage: skipped (no ansible)"
fi
# The ceiling: a tool's wall time is at least the CPU its hosts' servers
# spend, spread over this machine's CPUs; one connection and one session
# per host is the least any tool asks of them.
if [ -n "${wall[ansible]:-}" ] && [ -n "${wall[session]:-}" ] && [ "$(id -u)" = 0 ]; then
  session_cpu=$(median 5 "$work/session.times")
  echo "ceiling: one connection and one session per host cost the servers ${session_cpu}s of CPU, at least $(awk -v c="$session_cpu" -v p="$(nproc)" 'BEGIN { printf "%.2f", c / p }')s of wall time on $(nproc) CPUs: no SSH tool can be more than $(awk -v a="${wall[ansible]}" -v c="$session_cpu" -v p="$(nproc)" 'BEGIN { if (c > 0) printf "%.1f", a * p / c; else print "n/a" }')x faster than Ansible on this machine"
fi
if [ -n "$gnu_time" ]; then
  rss=$(median 4 "$work/triage.times")
  "$gnu_time" -f %M -o "$work/time.txt" "$work/triage" version >/dev/null
  base=$(tail -n 1 "$work/time.txt")
  echo "triage peak RSS per concurrent host: $(awk -v k="$rss" -v n="$n" 'BEGIN { printf "%.2f", k / 1024 / n }') MiB   (target: < 1 MiB); above the $(awk -v k="$base" 'BEGIN { printf "%.1f", k / 1024 }') MiB of 'triage version': $(awk -v k="$rss" -v b="$base" -v n="$n" 'BEGIN { printf "%.2f", (k - b) / 1024 / n }') MiB"
fi
if [ "$keep" = 1 ]; then echo "outputs and timings: $work"; fi
