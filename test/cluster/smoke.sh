#!/usr/bin/env bash
# test/cluster/smoke.sh - end-to-end check over ssh as the test user: array with %K, per-task logs, sacct states,
# re-run of one index, index lists, afterok dependency, scancel. Exits non-zero on the first failure.
set -euo pipefail
LAB=${LAB_DIR:-${TMPDIR:-/tmp}/pilot-test-cluster}
. "$LAB/cluster.env"
S() { ssh -p "$PILOT_TEST_SSH_PORT" -i "$PILOT_TEST_SSH_KEY" -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$PILOT_TEST_SSH_KNOWN_HOSTS" -o LogLevel=ERROR \
        "$PILOT_TEST_SSH_USER@$PILOT_TEST_SSH_HOST" "$@"; }
fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

RUN="smoke/$(date +%s%N)"
S "mkdir -p $RUN/logs && cd $RUN && seq 1 20 | sed 's/^/arg-line-/' > args.txt && cat > array.sh" <<'EOF'
#!/bin/bash
#SBATCH --job-name=smoke-array
#SBATCH --array=1-20%3
#SBATCH --output=logs/%A_%a.out
#SBATCH --error=logs/%A_%a.err
#SBATCH --time=00:05:00
LINE=$(sed -n "${SLURM_ARRAY_TASK_ID}p" args.txt)
echo "task=${SLURM_ARRAY_TASK_ID} args=${LINE}"
sleep 1
if [ "${SLURM_ARRAY_TASK_ID}" = 7 ]; then echo "task 7 failing" >&2; exit 1; fi
EOF

J=$(S "cd $RUN && sbatch --parsable array.sh"); ok "submitted array $J"
maxr=0
for i in $(seq 1 240); do
  q=$(S "squeue -h -r -j $J -o '%i %T'" 2>/dev/null || true)
  r=$(grep -c RUNNING <<<"$q" || true); [ "$r" -gt "$maxr" ] && maxr=$r
  [ -z "$q" ] && break; sleep 0.5
done
[ -z "$q" ] || fail "array did not drain"
[ "$maxr" -le 3 ] && [ "$maxr" -ge 2 ] || fail "max concurrently running = $maxr, expected 2..3"
ok "array drained, max running at once = $maxr (throttle %3)"
n=$(S "ls $RUN/logs/${J}_*.out | wc -l"); [ "$n" = 20 ] || fail "expected 20 .out logs, got $n"
S "grep -q 'args=arg-line-13' $RUN/logs/${J}_13.out && grep -q 'task 7 failing' $RUN/logs/${J}_7.err" || fail "log content"
ok "20 per-task logs with the right argument lines"

if [ "${PILOT_TEST_SLURM_ACCOUNTING:-0}" = 1 ]; then
  # sacct trails squeue by ~0.5-2 s (slurmctld -> slurmdbd is asynchronous): poll until every task is final
  for i in $(seq 1 40); do
    a=$(S "sacct -X -j $J --format=JobID,State,ExitCode -P -n")
    [ "$(grep -cE '\|(COMPLETED|FAILED)\|' <<<"$a")" = 20 ] && break; sleep 0.5
  done
  grep -qx "${J}_7|FAILED|1:0" <<<"$a" || fail "task 7 not FAILED in sacct: $a"
  [ "$(grep -c '|COMPLETED|0:0' <<<"$a")" = 19 ] || fail "expected 19 COMPLETED: $a"
  ok "sacct: ${J}_7 FAILED 1:0, 19 COMPLETED"
fi

J2=$(S "cd $RUN && sbatch --parsable --array=7 array.sh")
for i in $(seq 1 60); do [ -z "$(S "squeue -h -j $J2" 2>/dev/null)" ] && break; sleep 0.5; done
S "grep -q 'args=arg-line-7' $RUN/logs/${J2}_7.out" || fail "re-run of index 7"
ok "re-run of index 7 only: job $J2"

J3=$(S "cd $RUN && sbatch --parsable --array=3,7,9 array.sh")
J4=$(S "sbatch --parsable -o /dev/null --dependency=afterok:$J3 --wrap true")
J5=$(S "sbatch --parsable -o /dev/null --dependency=afterany:$J3 --wrap true")
for i in $(seq 1 60); do
  st=$(S "squeue -h -j $J4 -o %r" 2>/dev/null || true)
  [ "$st" = DependencyNeverSatisfied ] && break; sleep 0.5
done
[ "$st" = DependencyNeverSatisfied ] || fail "afterok on a failed array should never be satisfied (got '$st')"
for i in $(seq 1 60); do [ -z "$(S "squeue -h -j $J5" 2>/dev/null)" ] && break; sleep 0.5; done
S "scancel $J4"
ok "index list 3,7,9; afterok -> DependencyNeverSatisfied; afterany ran"

J6=$(S "sbatch --parsable -o /dev/null --array=1-50%2 --wrap 'sleep 60'")
sleep 2; S "scancel ${J6}_1"; sleep 1
S "squeue -h -r -j $J6 -o '%i %T'" | grep -q "^${J6}_1 " && fail "scancel of one task"
S "scancel $J6"
for i in $(seq 1 40); do [ -z "$(S "squeue -h -j $J6" 2>/dev/null)" ] && break; sleep 0.5; done
[ -z "$(S "squeue -h -j $J6" 2>/dev/null)" ] || fail "scancel of whole array"
ok "scancel of one task and of the whole array"
echo "SMOKE PASSED"
