#!/usr/bin/env bash
# Opt-in stress for the lab's SSH connections (issue 15): the default suites and an A/B
# run, again and again, while CPU hogs keep both cores busy as two TCG guests do, and a
# "lab up" from a second process checks the running lab in the middle of each round (as
# a second migbench run, or a test's global setup, does). Prints how many runs failed,
# how many commands lost their connection, and where the logs are.
#
#   bash scripts/stress-ssh.sh [ROUNDS (default 5)] [HOGS (default 2)]
#
# Not part of `npm test`: a round takes two to four minutes here.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
hogs="${2:-2}"
out="$(mktemp -d /tmp/migbench-stress-XXXXXX)"
cli=(node --import tsx src/cli/index.ts)

bash scripts/setup.sh >/dev/null
started_lab=0
if ! "${cli[@]}" lab status >/dev/null 2>&1; then
  "${cli[@]}" lab up >/dev/null && started_lab=1
fi

hog_pids=()
cleanup() {
  # Only what this script started, by PID.
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait "${hog_pids[@]}" 2>/dev/null
  if [ "$started_lab" = 1 ]; then "${cli[@]}" lab down >/dev/null; fi
}
trap cleanup EXIT
for _ in $(seq 1 "$hogs"); do
  sha256sum /dev/zero >/dev/null &
  hog_pids+=($!)
done

cat >"$out/ab.yaml" <<'EOF'
suites:
  memory-migration:
    scenarios:
      - { name: idle, guest: { memoryMiB: 256, diskMiB: 0, diskDataMiB: 0 }, migration: { kind: memory } }
EOF

runs=0 failed=0
for round in $(seq 1 "$rounds"); do
  for kind in suites ab; do
    runs=$((runs + 1))
    dir="$out/$round-$kind"
    mkdir -p "$dir"
    if [ "$kind" = suites ]; then
      args=(run --out "$dir")
    else
      args=(run --ab "$out/ab.yaml" "$out/ab.yaml" --out "$dir")
    fi
    "${cli[@]}" "${args[@]}" >"$dir/stdout.log" 2>"$dir/stderr.log" &
    run_pid=$!
    # A second process checks the lab while this run holds its connections.
    sleep 20
    "${cli[@]}" lab up >>"$dir/lab-up.log" 2>&1
    wait "$run_pid"
    status=$?
    [ "$status" = 0 ] || failed=$((failed + 1))
    lost=$(cat "$dir"/*.log | grep -c 'connection lost\|without an exit status\|lost its SSH connection\|Keepalive timeout\|no reply within' || true)
    printf 'round %s %-6s exit %s, lost-connection lines %s\n' "$round" "$kind" "$status" "$lost"
  done
done
lost_total=$(cat "$out"/*/*.log | grep -c 'connection lost\|without an exit status\|lost its SSH connection\|Keepalive timeout\|no reply within' || true)
cleared=$(cat "$out"/*/lab-up.log | grep -c 'clearing stale' || true)
echo "stress: $runs runs, $failed failed; lost-connection lines $lost_total; lab rebuilt under a run $cleared times; logs in $out"
[ "$failed" = 0 ]
