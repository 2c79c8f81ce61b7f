# A virtual cluster on one machine, for the multinode tests: N "nodes", each
# a network namespace with its own address and (per process) its own
# hostname, on a private bridge with no uplink. MPI runs across them with
# Hydra's ssh launcher pointed at a script that enters the node instead of
# logging in. Source tests/lib/sbtest.sh first, then this file.
#
#   vc_start [N]          creates nodes 1..N (default 4); exports
#                         VC_N, VC_BRIDGE, VC_SUBNET, VC_HOSTS (every node's
#                         address, comma-separated), VC_ADDR[k], VC_NAME[k]
#                         (the hostname, sbnodeK), VC_NS[k], VC_VETH[k]
#                         (the host side of node k's link), VC_NSEXEC
#   vc_exec K CMD...      runs CMD in node K (network + UTS namespace,
#                         hostname sbnodeK); exec-like: `vc_exec 1 srv &`
#                         gives srv's own pid in $!
#   vc_mpiexec ARGS...    mpiexec across the nodes; ARGS as for mpiexec.
#                         Without -hosts/-f/-host in ARGS, the ranks go
#                         round-robin over all nodes (-hosts "$VC_HOSTS").
#                         Stopped after VC_TIMEOUT s (default 120): never a
#                         hang
#   vc_hosts K...         prints a -hosts list with one slot on each node K
#                         (ranks fill it in order: MPMD sections too)
#   vc_wait_tcp K PORT [TIMEOUT_S]   waits until node K accepts on PORT
#   vc_cut K / vc_restore K          node K's link down / up (a pulled cable)
#   vc_delay K MS         adds MS ms of delay to node K's link (tc netem);
#                         vc_have_netem says whether the kernel has netem
#   vc_slurm_start        Slurm across the nodes: slurmctld in node 1, one
#                         slurmd in every node (see below); exports SLURM_CONF
#   vc_slurm_wait JOB [S] polls squeue until JOB left the queue; its final
#                         state and exit code in VC_JOB_STATE
#   vc_h5_hostnames FILE  /ranks/hostname of a stagebench HDF5 file
#
# Inside a node, /etc/hosts names every node (sbnodeK -> its address), and
# VC_LOCAL is a node-local directory: the same path, a different directory
# in every node (what /tmp is on a real node).
#
# Everything is removed on exit, after a failure too: processes started
# through sb_cleanup's list first (a namespace lives while a process uses
# it), then namespaces, links and the bridge. Tests exit 77 (skipped) with
# the reason when namespaces are not available: not root, no ip/unshare/
# flock, or `ip netns add` refused (a container without CAP_SYS_ADMIN).
#
# Names and addresses: a run takes a free slot S (0..63) under a lock file
# in VC_LOCK_DIR (default /run/stagebench-vcluster) and uses bridge sbvcSbr,
# namespaces sbvcSnK, host links sbvcSvK and the subnet 10.77.S.0/24 (the
# bridge .1, node K .(10+K)), so concurrent runs never share a name; a slot
# whose subnet the machine already routes is passed over. The lock is held
# by the test and the processes it starts; a slot left locked by nobody
# (a run killed with SIGKILL) has its leftovers removed by the next run
# that takes it. Nothing outside the machine is ever addressed.
. "$SB_SOURCE_DIR/tests/lib/slurm.sh" # sb_slurm_policy: the slurm.conf lines shared with it

VC_LOCK_DIR=${VC_LOCK_DIR:-/run/stagebench-vcluster}
VC_N=0
VC_SLOT=""
declare -a VC_ADDR VC_NAME VC_NS VC_VETH

vc_skip() { echo "SKIP (virtual cluster): $*" >&2; exit 77; }

# _vc_remove_slot S [N]: removes what slot S may hold (processes in its
# namespaces, namespaces, links, bridge); quiet about what is not there.
_vc_remove_slot() {
  local s=$1 ns p l
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^sbvc${s}n[0-9]+$"); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
             grep -E "^sbvc${s}(v[0-9]+|br)$"); do
    ip link del "$l" 2>/dev/null
  done
}

# vc_teardown: removes this run's cluster (called on exit).
vc_teardown() {
  [ -n "$VC_SLOT" ] || return 0
  local k p
  for k in $(seq "$VC_N"); do
    # Processes a test left running in the node (not in sb_cleanup's list).
    for p in $(ip netns pids "${VC_NS[$k]}" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  for k in $(seq "$VC_N"); do
    ip netns del "${VC_NS[$k]}" 2>/dev/null
    ip link del "${VC_VETH[$k]}" 2>/dev/null  # a veth can outlive its namespace
  done
  ip link del "$VC_BRIDGE" 2>/dev/null
  _vc_remove_slot "$VC_SLOT"
  VC_SLOT=""
}

_vc_exit() {
  local rc=$?
  sb_cleanup
  vc_teardown
  exit $rc
}

# vc_start [N]
vc_start() {
  local n=${1:-4} s k fd ns
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ] || sb_fail "vc_start: 1..50 nodes, not '$n'"
  [ "$(id -u)" = 0 ] || vc_skip "not root: network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN"
  for c in ip unshare flock mpiexec; do
    command -v "$c" >/dev/null 2>&1 || vc_skip "$c not installed"
  done
  mkdir -p "$VC_LOCK_DIR" 2>/dev/null || vc_skip "cannot create $VC_LOCK_DIR"
  trap _vc_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  for s in $(seq 0 63); do
    exec {fd}>"$VC_LOCK_DIR/slot$s.lock" || continue
    if ! flock -n "$fd"; then exec {fd}>&-; continue; fi
    # Someone else's network on this subnet (not ours: ours would be gone
    # with the lock's holder, and is removed just below).
    if ip -4 route show 2>/dev/null | grep -v "dev sbvc${s}br" | grep -q "^10\.77\.$s\."; then
      exec {fd}>&-; continue
    fi
    VC_SLOT=$s
    VC_LOCK_FD=$fd
    break
  done
  [ -n "$VC_SLOT" ] || sb_fail "vc_start: no free slot in $VC_LOCK_DIR (64 clusters running?)"
  _vc_remove_slot "$VC_SLOT"
  VC_N=$n
  VC_BRIDGE=sbvc${VC_SLOT}br
  VC_SUBNET=10.77.$VC_SLOT.0/24
  # A probe: can this machine make a namespace at all?
  ns=sbvc${VC_SLOT}n1
  if ! ip netns add "$ns" 2>"$SB_TMP/vc-probe"; then
    local why; why=$(head -1 "$SB_TMP/vc-probe")
    VC_SLOT=""
    vc_skip "ip netns add refused: $why"
  fi
  if ! ip netns exec "$ns" unshare --uts true 2>"$SB_TMP/vc-probe"; then
    local why; why=$(head -1 "$SB_TMP/vc-probe")
    ip netns del "$ns"
    VC_SLOT=""
    vc_skip "unshare --uts inside a namespace refused: $why"
  fi
  ip link add "$VC_BRIDGE" type bridge || sb_fail "vc_start: cannot create bridge $VC_BRIDGE"
  ip addr add "10.77.$VC_SLOT.1/24" dev "$VC_BRIDGE" || sb_fail "vc_start: address on $VC_BRIDGE"
  ip link set "$VC_BRIDGE" up || sb_fail "vc_start: $VC_BRIDGE up"
  VC_HOSTS=""
  for k in $(seq "$n"); do
    VC_NS[$k]=sbvc${VC_SLOT}n$k
    VC_VETH[$k]=sbvc${VC_SLOT}v$k
    VC_ADDR[$k]=10.77.$VC_SLOT.$((10 + k))
    VC_NAME[$k]=sbnode$k
    VC_HOSTS=${VC_HOSTS:+$VC_HOSTS,}${VC_ADDR[$k]}
    ns=${VC_NS[$k]}
    [ "$k" = 1 ] || ip netns add "$ns" || sb_fail "vc_start: ip netns add $ns"
    { ip link add "${VC_VETH[$k]}" type veth peer name eth0 netns "$ns" &&
      ip link set "${VC_VETH[$k]}" master "$VC_BRIDGE" up &&
      ip netns exec "$ns" ip addr add "${VC_ADDR[$k]}/24" dev eth0 &&
      ip netns exec "$ns" ip link set eth0 up &&
      ip netns exec "$ns" ip link set lo up &&
      ip netns exec "$ns" ip route add default via "10.77.$VC_SLOT.1"; } ||
      sb_fail "vc_start: setting up node $k ($ns)"
  done
  # Entering node K (after `ip netns exec`, which gives the process a
  # mount namespace of its own whose mounts stay inside) sets the hostname.
  # With VC_MPI_NET=1 it also gives the node its own /dev/shm and boot id,
  # which UCX compares to decide whether two processes share a machine's
  # memory: then MPI's messages between nodes go over the links (UCX's tcp
  # transport) instead of shared memory. Off by default: UCX 1.13's tcp
  # transport hangs in MPI_Finalize now and then (docs/multinode.md).
  # Every node also gets an /etc/hosts that names the nodes (sbnodeK ->
  # its address), and a node-local directory at VC_LOCAL (one path, a
  # different directory in each node: what /tmp is on a real node).
  VC_DIR=$SB_TMP/vcluster
  VC_LOCAL=$VC_DIR/local
  mkdir -p "$VC_DIR" "$VC_LOCAL"
  { grep -v sbnode /etc/hosts 2>/dev/null
    for k in $(seq "$n"); do echo "10.77.$VC_SLOT.$((10 + k)) sbnode$k"; done; } > "$VC_DIR/hosts"
  for k in $(seq "$n"); do
    mkdir -p "$VC_DIR/node$k/shm" "$VC_DIR/node$k/local"
    chmod 1777 "$VC_DIR/node$k/shm" "$VC_DIR/node$k/local"
    printf '%08x-77%02x-4000-8000-%012x\n' "$VC_SLOT" "$k" "$$" > "$VC_DIR/node$k/boot_id"
  done
  VC_ENTER=$VC_DIR/enter
  cat > "$VC_ENTER" <<EOF
#!/bin/bash
# enter K CMD...: the rest of entering node K (tests/lib/vcluster.sh).
k=\$1; shift
hostname sbnode\$k || exit 126
mount --bind $VC_DIR/hosts /etc/hosts && mount --bind $VC_DIR/node\$k/local $VC_LOCAL ||
  { echo "vcluster: cannot bind node \$k's /etc/hosts and local directory" >&2; exit 126; }
if [ "\${VC_MPI_NET:-0}" = 1 ]; then
  mount --bind $VC_DIR/node\$k/shm /dev/shm &&
    mount --bind $VC_DIR/node\$k/boot_id /proc/sys/kernel/random/boot_id || exit 126
fi
exec "\$@"
EOF
  chmod +x "$VC_ENTER"
  # Hydra's ssh launcher runs `EXEC [-x ...] HOST COMMAND...`, COMMAND as
  # text for a remote shell; this enters HOST's node instead. HOST is a
  # node's address or its name.
  VC_NSEXEC=$VC_DIR/nsexec
  cat > "$VC_NSEXEC" <<EOF
#!/bin/bash
while [ "\${1#-}" != "\$1" ]; do shift; done
h=\$1; shift
case \$h in
  10.77.$VC_SLOT.*) k=\$(( \${h##*.} - 10 )) ;;
  sbnode*) k=\${h#sbnode} ;;
  *) echo "nsexec: \$h is not a node of this virtual cluster" >&2; exit 255 ;;
esac
exec ip netns exec sbvc${VC_SLOT}n\$k unshare --uts -- $VC_ENTER \$k bash -c "exec \$*"
EOF
  chmod +x "$VC_NSEXEC"
  export VC_N VC_BRIDGE VC_SUBNET VC_HOSTS VC_NSEXEC VC_ENTER VC_SLOT VC_LOCAL
  # Every node reaches the bridge and every other node: a TCP connect to a
  # closed port is refused (an answer), an unreachable one times out.
  for k in $(seq "$n"); do
    vc_exec "$k" bash -c "exec 3<>/dev/tcp/10.77.$VC_SLOT.1/9" 2>&1 | grep -q refused ||
      sb_fail "vc_start: node $k does not reach the bridge"
  done
  if [ "$n" -ge 2 ]; then
    vc_exec 1 bash -c "exec 3<>/dev/tcp/${VC_ADDR[$n]}/9" 2>&1 | grep -q refused ||
      sb_fail "vc_start: node 1 does not reach node $n"
  fi
  echo "virtual cluster: $n nodes on $VC_BRIDGE ($VC_SUBNET): $VC_HOSTS"
}

# vc_exec K CMD...
vc_exec() {
  local k=$1; shift
  [ -n "${VC_NS[$k]:-}" ] || sb_fail "vc_exec: no node $k"
  # In a subshell (`vc_exec K CMD &`) exec, so that $! is CMD's pid.
  [ "$BASHPID" != "$$" ] && exec ip netns exec "${VC_NS[$k]}" unshare --uts -- "$VC_ENTER" "$k" "$@"
  ip netns exec "${VC_NS[$k]}" unshare --uts -- "$VC_ENTER" "$k" "$@"
}

# vc_mpiexec ARGS...
vc_mpiexec() {
  local hosts=(-hosts "$VC_HOSTS") a
  for a in "$@"; do
    case $a in -hosts|-host|-f|-hostfile|-machinefile) hosts=() ;; esac
  done
  local cmd=(timeout -k 5 "${VC_TIMEOUT:-120}" mpiexec -launcher ssh -launcher-exec "$VC_NSEXEC"
    -iface "$VC_BRIDGE" "${hosts[@]}" "$@")
  # In a subshell (`vc_mpiexec ... &`) exec, so that $! is the job's pid.
  [ "$BASHPID" != "$$" ] && exec "${cmd[@]}"
  "${cmd[@]}"
}

# vc_hosts K...: "addrK1:1,addrK2:1,..."
vc_hosts() {
  local k out=""
  for k in "$@"; do out=${out:+$out,}${VC_ADDR[$k]}:1; done
  echo "$out"
}

# vc_wait_tcp K PORT [TIMEOUT_S]: polls from the bridge (the host side).
vc_wait_tcp() {
  local k=$1 port=$2 t=${3:-30}
  for _ in $(seq $((t * 20))); do
    (exec 3<>"/dev/tcp/${VC_ADDR[$k]}/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

vc_cut() { ip link set "${VC_VETH[$1]}" down || sb_fail "vc_cut: ${VC_VETH[$1]}"; }
vc_restore() { ip link set "${VC_VETH[$1]}" up || sb_fail "vc_restore: ${VC_VETH[$1]}"; }

# vc_have_netem: 0 when tc exists and the kernel accepts a netem qdisc
# (tried on the bridge's side of node 1's link, then removed).
vc_have_netem() {
  command -v tc >/dev/null 2>&1 || { VC_NETEM_WHY="tc (iproute2) not installed"; return 1; }
  local why
  if ! why=$(tc qdisc add dev "${VC_VETH[1]}" root netem delay 0ms 2>&1); then
    VC_NETEM_WHY="tc netem refused: $why"
    return 1
  fi
  tc qdisc del dev "${VC_VETH[1]}" root 2>/dev/null
  return 0
}

# vc_delay K MS: delay on the host side of node K's link (traffic to the
# node); MS 0 removes it.
vc_delay() {
  local k=$1 ms=$2
  tc qdisc del dev "${VC_VETH[$k]}" root 2>/dev/null
  [ "$ms" = 0 ] && return 0
  tc qdisc add dev "${VC_VETH[$k]}" root netem delay "${ms}ms" || sb_fail "vc_delay: tc netem on ${VC_VETH[$k]}"
}

# vc_h5_hostnames FILE: prints /ranks/hostname of a stagebench HDF5 file,
# one name a line (rank order).
vc_h5_hostnames() {
  h5dump -y -d /ranks/hostname "$1" 2>/dev/null |
    sed -n '/DATA {/,/}/p' | grep -o '"[^"]*"' | tr -d '"'
}

# ---- Slurm across the nodes ----------------------------------------------------
# vc_slurm_start: a Slurm cluster on the virtual nodes (after vc_start):
# munged on this machine (its unix socket on the shared filesystem reaches
# every namespace), slurmctld in node 1 (SlurmctldHost=sbnode1(its
# address)), one slurmd in every node, in the node's namespaces (hostname
# sbnodeK, NodeAddr its address), with per-node spool, pid and log files
# (%n). MpiDefault=pmi2: srun forms one MPI job with MPICH. Returns once
# every node is idle. Exports SLURM_CONF; VC_SLURM_DIR holds the logs. The
# daemons stop on exit (slurmds, slurmctld, munged), before the namespaces
# go. Skips the test (77) when the Debian packages are missing and cannot
# be installed.
VC_SLURM_PKGS="slurmctld slurmd slurm-client munge"

vc_slurm_start() {
  [ -n "$VC_SLOT" ] || sb_fail "vc_slurm_start: vc_start first"
  local d=$VC_DIR/slurm k c cpus=${VC_SLURM_CPUS:-4} ctld pids="" nodes=""
  for c in slurmctld slurmd munged mungekey sbatch squeue sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 && continue
    command -v apt-get >/dev/null || vc_skip "Slurm ($c) not installed and no apt-get"
    echo "installing $VC_SLURM_PKGS" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $VC_SLURM_PKGS; } >"$SB_TMP/apt.log" 2>&1 ||
      vc_skip "Slurm packages ($VC_SLURM_PKGS) could not be installed: $(tail -n 1 "$SB_TMP/apt.log")"
    break
  done
  for c in slurmctld slurmd munged mungekey sbatch squeue sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 || vc_skip "$c not found after installing $VC_SLURM_PKGS"
  done
  # munged wants execute permission for all on every directory above its
  # socket; the key in a private directory.
  chmod 711 "$SB_TMP" "$VC_DIR"
  mkdir -p "$d"/{munge,munge-run,state,spool,log,run}
  chmod 700 "$d/munge"; chmod 755 "$d/munge-run" "$d"
  for k in $(seq "$VC_N"); do
    nodes+="NodeName=${VC_NAME[$k]} NodeAddr=${VC_ADDR[$k]} CPUs=$cpus State=UNKNOWN"$'\n'
  done
  # The nodes' network is their own: the standard ports cannot collide
  # with another test's Slurm.
  cat > "$d/slurm.conf" <<CONF
ClusterName=sbvc$VC_SLOT
SlurmctldHost=${VC_NAME[1]}(${VC_ADDR[1]})
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge-run/munge.socket.2
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd-%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd-%n.log
$(sb_slurm_policy)
${nodes}PartitionName=vc Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  # `ip netns exec` mounts a fresh /sys in the node, without the cgroup
  # filesystems under /sys/fs/cgroup, where slurmd would look for which
  # cgroup version the machine has: name it (nothing here uses cgroups).
  echo "CgroupPlugin=cgroup/v1" > "$d/cgroup.conf"
  mungekey -c -k "$d/munge/munge.key" >/dev/null 2>&1 || sb_fail "vc_slurm_start: mungekey failed"
  munged -F -S "$d/munge-run/munge.socket.2" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge-run/munged.pid" --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
  SB_CLEANUP_PIDS="$! $SB_CLEANUP_PIDS"
  export SLURM_CONF=$d/slurm.conf
  VC_SLURM_DIR=$d
  for _ in $(seq 100); do [ -S "$d/munge-run/munge.socket.2" ] && break; sleep 0.05; done
  [ -S "$d/munge-run/munge.socket.2" ] || sb_fail "munged did not start: $(tail -n 2 "$d/log/munged.out")"
  vc_exec 1 slurmctld -D -c -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
  ctld=$!
  for k in $(seq "$VC_N"); do
    mkdir -p "$d/spool/${VC_NAME[$k]}"
    vc_exec "$k" slurmd -D -N "${VC_NAME[$k]}" -f "$SLURM_CONF" >"$d/log/slurmd-${VC_NAME[$k]}.out" 2>&1 &
    pids="$! $pids"
  done
  # Stopped in this order on exit: the slurmds, slurmctld, munged.
  SB_CLEANUP_PIDS="$pids$ctld $SB_CLEANUP_PIDS"
  local idle=0
  for _ in $(seq 300); do
    idle=$(timeout 5 sinfo -h -N -o '%N %t' 2>/dev/null | awk '$2 == "idle"' | sort -u | wc -l)
    [ "$idle" = "$VC_N" ] && break
    kill -0 "$ctld" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$idle" != "$VC_N" ]; then
    timeout 5 sinfo -N 2>&1 | head -20 >&2
    tail -n 5 "$d"/log/*.log "$d"/log/*.out >&2 2>/dev/null
    sb_fail "vc_slurm_start: $idle of $VC_N nodes idle within 30 s"
  fi
  echo "slurm: slurmctld in ${VC_NAME[1]} (${VC_ADDR[1]}:6817), slurmd in ${VC_NAME[*]:1:$VC_N}: all idle"
}

# vc_slurm_wait JOB [TIMEOUT_S]: polls squeue (every 0.1 s) until JOB has
# left the queue; cancels it and fails the test after TIMEOUT_S (default
# 100). Then prints its final state, e.g. "COMPLETED 0:0" (state, exit
# code), in VC_JOB_STATE.
vc_slurm_wait() {
  local job=$1 limit=${2:-100} i
  for i in $(seq $((limit * 10))); do
    timeout 5 squeue -h -j "$job" 2>/dev/null | grep -q . || break
    sleep 0.1
  done
  if timeout 5 squeue -h -j "$job" 2>/dev/null | grep -q .; then
    scancel "$job" 2>/dev/null
    sb_fail "job $job still queued or running after $limit s"
  fi
  VC_JOB_STATE=$(timeout 5 scontrol show job "$job" 2>/dev/null |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(JobState|ExitCode)=/) { sub(/^[A-Za-z]+=/, "", $i); s = s (s ? " " : "") $i } } END { print s }')
}
