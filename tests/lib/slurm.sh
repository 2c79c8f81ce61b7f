# A real single-node Slurm for tests:
# munged, slurmctld and slurmd in the foreground under a private directory,
# stopped by PID on exit. Source after tests/lib/sbtest.sh.
#   sb_start_slurm   sets SLURM_CONF and SB_SLURM_HOST; skips the test (77)
#                    when the Debian packages are missing and cannot be
#                    installed (not root, no network)
#   sb_slurm_wait JOB [TIMEOUT_S]   polls squeue until JOB has left the queue

SB_SLURM_PKGS="slurmctld slurmd slurm-client munge"

# sb_slurm_policy: the slurm.conf lines every test Slurm shares (this one
# and the virtual cluster's, tests/lib/vcluster.sh): no mail, no cgroups or
# accounting, PMI-2 for MPICH's srun, cores as the unit.
sb_slurm_policy() {
  cat <<'CONF'
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=pmi2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdParameters=config_overrides
CONF
}

sb_start_slurm() {
  local d=$SB_TMP/slurm host cpus i
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing $SB_SLURM_PKGS" >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          --no-install-recommends $SB_SLURM_PKGS; } >"$SB_TMP/apt.log" 2>&1 ||
        sb_skip "Slurm packages ($SB_SLURM_PKGS) could not be installed: $(tail -n 1 "$SB_TMP/apt.log")"
    else
      sb_skip "Slurm packages ($SB_SLURM_PKGS) missing and not root to install them"
    fi
  fi
  [ "$(id -u)" = 0 ] || sb_skip "the local Slurm runs as root (SlurmUser=root)"
  host=$(hostname -s)
  cpus=$(( $(nproc) < 8 ? 8 : $(nproc) ))
  # munged wants execute permission for all on every directory above its
  # socket (mktemp makes SB_TMP 700).
  chmod 711 "$SB_TMP"
  mkdir -p "$d"/{munge,munge-run,state,spool,log}
  chmod 700 "$d/munge"; chmod 755 "$d/munge-run"
  local ctl=$((20000 + RANDOM % 10000)); local slurmd_port=$((ctl + 1))
  cat > "$d/slurm.conf" <<CONF
ClusterName=sbtest
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$ctl
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge-run/munge.socket.2
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
$(sb_slurm_policy)
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  mungekey -c -k "$d/munge/munge.key" >/dev/null 2>&1 || sb_fail "mungekey failed"
  munged -F -S "$d/munge-run/munge.socket.2" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge-run/munged.pid" --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
  SB_CLEANUP_PIDS="$! $SB_CLEANUP_PIDS"
  export SLURM_CONF=$d/slurm.conf
  for i in $(seq 50); do [ -S "$d/munge-run/munge.socket.2" ] && break; sleep 0.1; done
  [ -S "$d/munge-run/munge.socket.2" ] || sb_fail "munged did not start: $(tail -n 2 "$d/log/munged.out")"
  slurmctld -D -c -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
  local ctld=$!
  slurmd -D -f "$SLURM_CONF" >"$d/log/slurmd.out" 2>&1 &
  # Stopped in this order on exit: slurmd, slurmctld, munged.
  SB_CLEANUP_PIDS="$! $ctld $SB_CLEANUP_PIDS"
  for i in $(seq 150); do
    timeout 5 sinfo -h -o %t 2>/dev/null | grep -q idle && break
    sleep 0.2
  done
  timeout 5 sinfo -h -o %t 2>/dev/null | grep -q idle ||
    sb_fail "Slurm did not come up: $(tail -n 3 "$d/log/slurmctld.log" "$d/log/slurmd.log" 2>/dev/null)"
  SB_SLURM_HOST=$host
}

sb_slurm_wait() {
  local job=$1 limit=${2:-300} t=0
  while timeout 5 squeue -h -j "$job" 2>/dev/null | grep -q .; do
    sleep 0.2
    t=$((t + 1))
    [ $t -lt $((limit * 5)) ] || { scancel "$job"; sb_fail "job $job still queued or running after $limit s"; }
  done
}
