#!/usr/bin/env bash
# bench/fleet-start.sh N DIR: start a fleet of N real OpenSSH servers on
# loopback for the benchmark, and write what the three tools need to reach
# them.
#
# Each host NN gets DIR/hostNN/: its own sshd_config, ed25519 host key, pid
# file and log, and listens on 127.0.0.1 on a port of its own (from
# BENCH_PORT_BASE, default 22200, skipping ports in use). Shared, in DIR:
#   id_ed25519        the client key, authorized on every host
#   authorized_keys   its public half
#   known_hosts       every host's key, as [127.0.0.1]:PORT
#   ssh_config        "Host hostNN" entries (HostName, Port) and the key,
#                     known_hosts and user for all: ssh -F, triage -F and
#                     Ansible (through ansible.cfg) read the same file
#   hosts.yaml        triage's inventory
#   inventory.ini     Ansible's inventory
#   ansible.cfg       Ansible's settings for the fleet (ANSIBLE_CONFIG)
#   hosts             the host names, one a line
#   home/             the HOME of every session (see below)
#
# Works as root (sshd then needs /run/sshd, created here) and as a normal
# user (sshd runs unprivileged and accepts only that user). Nothing but
# 127.0.0.1 is ever listened on or connected to. bench/fleet-stop.sh DIR
# stops exactly these servers.
set -euo pipefail

SSHD=/usr/sbin/sshd # sshd refuses to start from a relative path

die() { printf 'fleet-start: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: bench/fleet-start.sh N DIR"
n=$1
[[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, not '$n'"
[ -x "$SSHD" ] || die "$SSHD not found: apt-get install -y openssh-server openssh-sftp-server"
command -v ssh-keygen >/dev/null || die "ssh-keygen not found: apt-get install -y openssh-client"
mkdir -p "$2"
dir=$(cd "$2" && pwd)
# The paths go unquoted into sshd_config and ssh_config.
[[ $dir != *[[:space:]\"\'#]* ]] || die "DIR must not contain spaces, quotes or #: $dir"
if compgen -G "$dir/host*/sshd.pid" >/dev/null; then
  die "$dir already has a fleet (pid files): stop it first with bench/fleet-stop.sh $dir"
fi

port=${BENCH_PORT_BASE:-22200}
user=$(id -un)
width=$(( ${#n} < 2 ? 2 : ${#n} ))

sftp_server=internal-sftp
for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do
  if [ -x "$p" ]; then sftp_server=$p; break; fi
done

if [ "$(id -u)" = 0 ]; then
  # sshd running as root chroots its unprivileged child there.
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
fi

# Lines that only some sshd versions know, kept when "sshd -t" accepts them.
probe=$(mktemp -d)
ssh-keygen -q -t ed25519 -N '' -f "$probe/key"
supported() { "$SSHD" -t -f /dev/null -o "HostKey=$probe/key" -o "$1" 2>/dev/null; }
# Newer sshd (9.8+) penalise addresses whose connections fail or are cut
# before authentication (the readiness probe below does that), which would
# lock 127.0.0.1 out.
penalties=""
if supported PerSourcePenalties=no; then penalties="PerSourcePenalties no"; fi
# sshd runs every session (each command, and the SFTP subsystem) through
# the login user's shell, and bash reads ~/.bashrc when sshd starts it. A
# developer's .bashrc can cost more than the work measured (pyenv init
# takes 140 ms of CPU here), and it would be paid once per session: so each
# session gets HOME=DIR/home, an empty folder, unless BENCH_REAL_HOME=1.
home_env=""
if [ "${BENCH_REAL_HOME:-0}" != 1 ] && supported "SetEnv=HOME=$dir/home"; then
  mkdir -p "$dir/home"
  home_env="SetEnv HOME=$dir/home"
fi
rm -rf "$probe"

ssh-keygen -q -t ed25519 -N '' -C "triage bench client" -f "$dir/id_ed25519" <<<y >/dev/null
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
: >"$dir/known_hosts"
: >"$dir/hosts"

# in_use reports whether something accepts connections on the port.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# answers reports whether an SSH server sends its version line on the port.
answers() {
  local line
  # shellcheck disable=SC2016 # $1 is the inner shell's
  line=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && head -c 4 <&3' _ "$1" 2>/dev/null) || return 1
  [ "$line" = "SSH-" ]
}

# start_host NAME: writes the host's files and starts its sshd on the next
# free port, trying further ports if another process takes one first.
start_host() {
  local name=$1 hdir="$dir/$1"
  mkdir -p "$hdir"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$hdir/ssh_host_ed25519_key" <<<y >/dev/null
  for _ in 1 2 3 4 5; do
    while in_use "$port"; do port=$((port + 1)); done
    cat >"$hdir/sshd_config" <<EOF
# bench/fleet-start.sh: host $name of a benchmark fleet; the system's sshd
# and its configuration are not involved.
ListenAddress 127.0.0.1:$port
AddressFamily inet
HostKey $hdir/ssh_host_ed25519_key
PidFile $hdir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
UseDNS no
StrictModes no
MaxStartups 1000
MaxSessions 10
AllowTcpForwarding yes
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel INFO
Subsystem sftp $sftp_server
$penalties
$home_env
EOF
    "$SSHD" -t -f "$hdir/sshd_config" || die "$SSHD -t rejects $hdir/sshd_config"
    : >"$hdir/sshd.log"
    # Without -D, sshd detaches and writes its pid file.
    "$SSHD" -f "$hdir/sshd_config" -E "$hdir/sshd.log"
    local i
    for i in $(seq 200); do
      if [ -s "$hdir/sshd.pid" ] && answers "$port"; then
        printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$hdir/ssh_host_ed25519_key.pub")" >>"$dir/known_hosts"
        echo "$port" >"$hdir/port"
        port=$((port + 1))
        return 0
      fi
      if grep -q 'Address already in use' "$hdir/sshd.log"; then break; fi
      sleep 0.02
    done
    if ! grep -q 'Address already in use' "$hdir/sshd.log"; then
      die "sshd for $name did not answer on 127.0.0.1:$port; its log:
$(tail -n 20 "$hdir/sshd.log")"
    fi
    rm -f "$hdir/sshd.pid"
    port=$((port + 1))
  done
  die "no free port found for $name"
}

{
  echo "# bench/fleet-start.sh: $n OpenSSH servers on 127.0.0.1"
  echo "hosts:"
} >"$dir/hosts.yaml"
{
  echo "# bench/fleet-start.sh: $n OpenSSH servers on 127.0.0.1 (see ssh_config)"
  echo "[fleet]"
} >"$dir/inventory.ini"
ssh_hosts=""
for i in $(seq "$n"); do
  name=$(printf 'host%0*d' "$width" "$i")
  start_host "$name"
  echo "$name" >>"$dir/hosts"
  echo "  $name:" >>"$dir/hosts.yaml"
  echo "$name" >>"$dir/inventory.ini"
  ssh_hosts+="Host $name
  HostName 127.0.0.1
  Port $(cat "$dir/$name/port")
"
done

cat >"$dir/ssh_config" <<EOF
# bench/fleet-start.sh: the fleet in $dir, for ssh -F, triage -F and Ansible.
$ssh_hosts
Host *
  User $user
  IdentityFile $dir/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
EOF

# Ansible at its quickest for one ad-hoc task: pipelining (one ssh per host
# and task, no temporary files on the host), no fact gathering, and no
# ControlPersist master left running after the command (its CPU time would
# escape the measurement, and the next round would skip its handshakes).
cat >"$dir/ansible.cfg" <<EOF
# bench/fleet-start.sh: ANSIBLE_CONFIG=$dir/ansible.cfg ansible all -f $n -m shell -a 'uname -a'
[defaults]
inventory = $dir/inventory.ini
interpreter_python = /usr/bin/python3
host_key_checking = True
gathering = explicit
local_tmp = $dir/ansible-tmp
nocolor = True
deprecation_warnings = False

[ssh_connection]
ssh_args = -F $dir/ssh_config -o ControlMaster=no -o ControlPersist=no
pipelining = True
EOF

echo "fleet-start: $n sshd on 127.0.0.1 ports $(cat "$dir/$(head -n1 "$dir/hosts")/port")-$(cat "$dir/$(tail -n1 "$dir/hosts")/port") ($dir)"
