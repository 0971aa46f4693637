# test/cluster/lib.sh - process checks shared by up.sh and down.sh (sourced, not run).
# gone PID -> true once PID has exited. A daemonized process is re-parented to PID 1, which may reap it
# late, so a zombie ('Z' in /proc/PID/stat) counts as gone; kill -0 and [ -d /proc/PID ] would not.
gone() { local st; st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -z "$st" ] || [ "$st" = Z ]; }
# alive PIDFILE EXE -> true if the pid in PIDFILE is running EXE (exact binary, not a name match;
# /usr/sbin/slurmctld and slurmd are alternatives symlinks to *-wlm, hence readlink -f)
alive() {
  local pf=$1 exe pid
  exe=$(readlink -f "$2")
  [ -s "$pf" ] || return 1
  pid=$(cat "$pf" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]
}
