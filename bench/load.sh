#!/usr/bin/env bash
# Load under an import (issue 5): CONNS connections (default 256) of mixed reads for DURATION s
# (default 60) against the release binary, on SQLite and on PostgreSQL, while `opengov-api import`
# publishes a new release of the 200,000-row bench registry from another process. Loopback only,
# bounded (every wrk runs under `timeout`), every process it starts stopped by its PID.
#
#   bench/load.sh                         # both backends (~6 min), writes bench/results/<date>-<machine>-load.md
#   BACKENDS=sqlite DURATION=20 bench/load.sh
#
# Release 1 is the kit's 200,000 rows (gen_data.py, default seed); release 2, imported during the
# load, is its first ROWS2 (190,000) rows, so every total says which release a response was read
# from. The reads: 8 endpoints (registry item pages as JSON, filtered JSON with an exact count, CSV
# and GeoJSON; plan commitments and milestones; the change feed; the registry's release list),
# CONNS/8 connections each, one wrk process per endpoint with bench/load.lua, which checks every
# response: Data-Release names a release of this run, the body's `release` member agrees with
# it, and the totals (X-Total-Count, `total`, CSV lines, release row counts) are that release's.
#
# Fails (exit 1) unless, on every backend: zero 5xx, zero other non-2xx/3xx answers, zero wrk
# socket errors (connect, read, write, timeout after WRK_TIMEOUT s), zero inconsistent responses,
# the import succeeded and finished while the load ran, and item pages were served from both
# releases (so the switch happened under load).
#
# Needs: target/release/opengov-api (built with `cargo build --release --locked` when missing or
# older than the sources), python3, curl, wrk (installed from apt if missing), psql,
# createdb/dropdb, PostgreSQL on $PG_HOST:$PG_PORT with trust auth for $PG_USER.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$REPO/bench"
BIN_GIVEN=${BIN:+1}
BIN=${BIN:-$REPO/target/release/opengov-api}   # another binary (e.g. a debug build) only for trying the script
KIT_SRC=${KIT_SRC:-$REPO/../shared/bench}
KIT=${KIT:-/tmp/bench-kit}
WORK=${WORK:-/tmp/opengov-load}
PORT=${PORT:-8091}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
PG_DB=${PG_DB:-opengov_load}
ROWS=${ROWS:-200000}
ROWS2=${ROWS2:-190000}
CONNS=${CONNS:-256}
DURATION=${DURATION:-60}
IMPORT_AFTER=${IMPORT_AFTER:-5}
WRK_TIMEOUT=${WRK_TIMEOUT:-10}
BACKENDS=${BACKENDS:-"sqlite pg"}
MACHINE=${MACHINE:-$(hostname -s)}
DATE=${DATE:-$(date -u +%Y-%m-%d)}
OUT=${OUT:-$BENCH/results/$DATE-$MACHINE-load.md}

[ "$PG_DB" = test ] && { echo "refusing to use the database named test" >&2; exit 2; }
[ "$DURATION" -le 120 ] || { echo "DURATION is capped at 120 s" >&2; exit 2; }
[ "$CONNS" -le 1024 ] || { echo "CONNS is capped at 1024" >&2; exit 2; }
[ "$ROWS2" -lt "$ROWS" ] || { echo "ROWS2 must be smaller than ROWS (the releases must differ)" >&2; exit 2; }

# Every connection is a file descriptor in wrk and in the server (started from this shell).
ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null || true
[ "$(ulimit -n)" -ge $((CONNS + 256)) ] || { echo "ulimit -n $(ulimit -n) is too low for $CONNS connections" >&2; exit 2; }

PG_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
IMPORT_PID=""
WRK_PIDS=()
CREATED_PG=0
mkdir -p "$WORK" "$BENCH/results"
rm -f "$WORK"/wrk-*.txt "$WORK"/summary-*.json
: > "$WORK/commands.txt"

log() { printf '[load %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cmd() { printf '%s\n' "$*" >> "$WORK/commands.txt"; "$@"; }

stop_pid() {
  local p=$1 i
  kill "$p" 2>/dev/null || return 0
  for i in $(seq 1 40); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$p" 2>/dev/null || true
}

pg() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -qtAX "$@"; }
drop_pg() { dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$PG_DB"; }

cleanup() {
  local p
  for p in "${WRK_PIDS[@]}" $IMPORT_PID $SERVER_PID; do stop_pid "$p"; done
  if [ "$CREATED_PG" = 1 ]; then drop_pg || true; fi
  rm -f "$WORK"/*.db "$WORK"/*.db-wal "$WORK"/*.db-shm
}
trap cleanup EXIT

build_running() { pgrep -f 'cargo build --release' >/dev/null 2>&1; }

ensure_binary() {
  local waited=0
  while build_running; do
    [ "$waited" -ge 900 ] && { log "a release build is still running after ${waited}s"; exit 1; }
    log "a release build is running; waiting (${waited}s)"; sleep 30; waited=$((waited + 30))
  done
  if [ ! -x "$BIN" ] || [ -n "$(cd "$REPO" && find src migrations fixtures build.rs Cargo.toml Cargo.lock -newer "$BIN" -print -quit 2>/dev/null)" ]; then
    log "building the release binary (missing or older than the sources)"
    (cd "$REPO" && cargo build --release --locked) > "$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
  fi
}

wait_http() {  # url seconds
  local url=$1 n=$(( $2 * 4 )) i
  for i in $(seq 1 "$n"); do
    curl -sf -o /dev/null --max-time 2 "$url" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited"; return 1; }
    sleep 0.25
  done
  log "server at $url did not come up"; return 1
}

prepare_data() {
  if [ ! -f "$KIT/data/registry_items.csv" ] || [ "$(($(wc -l < "$KIT/data/registry_items.csv") - 1))" != "$ROWS" ]; then
    log "copying the kit to $KIT and generating $ROWS rows"
    mkdir -p "$KIT"
    cmd cp -r "$KIT_SRC/." "$KIT/"
    chmod -R u+w "$KIT"
    (cd "$KIT" && cmd python3 gen_data.py --rows "$ROWS")
  fi
  cp "$KIT/data/registry_items.csv" "$WORK/release1.csv"
  head -n $((ROWS2 + 1)) "$KIT/data/registry_items.csv" > "$WORK/release2.csv"
  # Expected totals per release: all rows, and road-works rows with year > 2000.
  python3 - "$WORK/release1.csv" "$WORK/release2.csv" > "$WORK/expected.env" <<'PY'
import csv, sys
def counts(path):
    rows = list(csv.DictReader(open(path, newline="", encoding="utf-8")))
    filtered = sum(1 for r in rows if r["registry"] == "road-works" and int(r["year"]) > 2000)
    return len(rows), filtered
(a1, f1), (a2, f2) = counts(sys.argv[1]), counts(sys.argv[2])
assert a1 != a2 and f1 != f2, "the releases must differ in both totals"
print(f'EXPECT_ALL="1:{a1},2:{a2}"')
print(f'EXPECT_FILTERED="1:{f1},2:{f2}"')
PY
  # shellcheck disable=SC1091
  . "$WORK/expected.env"
  log "expected totals: all $EXPECT_ALL; filtered $EXPECT_FILTERED"
}

# name kind expected path
endpoints() {
  cat <<EOF
items_page items $EXPECT_ALL /api/v1/registries/bench/items?limit=100
items_filtered items $EXPECT_FILTERED /api/v1/registries/bench/items?registry=road-works&year__gt=2000&count=exact&limit=100
items_csv csv $EXPECT_ALL /api/v1/registries/bench/items.csv?limit=100
items_geojson geojson $EXPECT_ALL /api/v1/registries/bench/items.geojson?limit=100
plan_commitments plan - /api/v1/commitments?expand=milestones
plan_milestones plan - /api/v1/milestones?limit=100
changes changes - /api/v1/changes?limit=100
releases releases $EXPECT_ALL /api/v1/registries/bench/releases
EOF
}

run_backend() {  # label database-url
  local label=$1 url=$2 per started import_start import_end import_rc=0 name kind expected path
  log "$label: loading fixtures and release 1 ($ROWS rows)"
  # Only serve and migrate create a database; the data commands need it migrated.
  cmd "$BIN" migrate --database-url "$url" > "$WORK/setup-$label.log" 2>&1
  cmd "$BIN" load-fixtures --database-url "$url" >> "$WORK/setup-$label.log" 2>&1
  cmd "$BIN" define-registry --database-url "$url" "$BENCH/registry/registry.toml" >> "$WORK/setup-$label.log" 2>&1
  cmd "$BIN" import --database-url "$url" bench "$WORK/release1.csv" >> "$WORK/setup-$label.log" 2>&1 || { tail -20 "$WORK/setup-$label.log" >&2; exit 1; }

  # All load comes from one loopback address standing in for many users: per-IP rate limiting
  # (on by default) would answer 429 to nearly all of it, so it is off here.
  printf '%s\n' "$BIN serve --bind 127.0.0.1:$PORT --database-url $url --rate-limit-per-minute 0 &" >> "$WORK/commands.txt"
  "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$url" --rate-limit-per-minute 0 > "$WORK/server-$label.log" 2>&1 &
  SERVER_PID=$!
  wait_http "$BASE/readyz" 60
  log "$label: serving on $BASE (pid $SERVER_PID); $CONNS connections for ${DURATION}s, import of release 2 after ${IMPORT_AFTER}s"

  per=$((CONNS / $(endpoints | wc -l)))
  WRK_PIDS=()
  started=$(date +%s.%N)
  while read -r name kind expected path; do
    printf '%s\n' "timeout $((DURATION + 30)) wrk -t1 -c$per -d${DURATION}s --timeout ${WRK_TIMEOUT}s --latency -s bench/load.lua '$BASE$path' -- $name $kind $expected &" >> "$WORK/commands.txt"
    timeout $((DURATION + 30)) wrk -t1 -c"$per" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" --latency \
      -s "$BENCH/load.lua" "$BASE$path" -- "$name" "$kind" "$expected" > "$WORK/wrk-$label-$name.txt" 2>&1 &
    WRK_PIDS+=($!)
  done < <(endpoints)

  sleep "$IMPORT_AFTER"
  import_start=$(date +%s.%N)
  printf '%s\n' "$BIN import --database-url $url bench $WORK/release2.csv   # ${IMPORT_AFTER}s into the load" >> "$WORK/commands.txt"
  "$BIN" import --database-url "$url" bench "$WORK/release2.csv" > "$WORK/import-$label.log" 2>&1 &
  IMPORT_PID=$!
  wait "$IMPORT_PID" || import_rc=$?
  import_end=$(date +%s.%N)
  IMPORT_PID=""
  log "$label: import finished (exit $import_rc) after $(python3 -c "print(f'{$import_end - $import_start:.1f}')") s"
  for p in "${WRK_PIDS[@]}"; do wait "$p" || true; done
  WRK_PIDS=()
  kill -0 "$SERVER_PID" 2>/dev/null || { log "$label: the server died"; exit 1; }
  curl -s "$BASE/api/v1/registries/bench/releases" > "$WORK/releases-$label.json"
  stop_pid "$SERVER_PID"; SERVER_PID=""

  python3 - "$WORK" "$label" "$started" "$import_start" "$import_end" "$import_rc" "$DURATION" <<'PY'
import json, sys, glob, os
work, label, started, i0, i1, rc, duration = sys.argv[1:8]
started, i0, i1, rc, duration = float(started), float(i0), float(i1), int(rc), int(duration)
endpoints = []
for path in sorted(glob.glob(os.path.join(work, f"wrk-{label}-*.txt"))):
    line = next((l for l in open(path) if l.startswith('{"endpoint"')), None)
    if line is None:
        endpoints.append({"endpoint": os.path.basename(path), "missing": open(path).read()[-500:]})
    else:
        endpoints.append(json.loads(line))
releases = json.load(open(os.path.join(work, f"releases-{label}.json")))
summary = {
    "label": label,
    "endpoints": endpoints,
    "import": {"exit": rc, "seconds": round(i1 - i0, 1), "started_s": round(i0 - started, 1),
               "finished_s": round(i1 - started, 1)},
    "releases": [{"number": r.get("number"), "row_count": r.get("row_count")} for r in releases.get("items", [])],
}
json.dump(summary, open(os.path.join(work, f"summary-{label}.json"), "w"), indent=1)
PY
}

[ -n "$BIN_GIVEN" ] || ensure_binary
command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
PROVENANCE="${BIN#"$REPO"/} built $(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ); HEAD $(cd "$REPO" && git rev-parse --short HEAD)"
if [ -n "$(cd "$REPO" && git status --short -- src migrations fixtures build.rs Cargo.toml Cargo.lock)" ]; then
  PROVENANCE="$PROVENANCE + uncommitted source changes"
fi
prepare_data
for backend in $BACKENDS; do
  case "$backend" in
    sqlite)
      rm -f "$WORK/load.db" "$WORK/load.db-wal" "$WORK/load.db-shm"
      run_backend sqlite "sqlite://$WORK/load.db" ;;
    pg)
      drop_pg; cmd createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"; CREATED_PG=1
      run_backend pg "$PG_URL"
      drop_pg; CREATED_PG=0 ;;
    *) log "unknown backend $backend"; exit 2 ;;
  esac
done

MACHINE_DETAIL="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r); $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}') on the same machine; PostgreSQL $(pg -c 'show server_version' postgres)"
python3 - "$WORK" "$OUT" "$BACKENDS" "$CONNS" "$DURATION" "$WRK_TIMEOUT" "$ROWS" "$ROWS2" "$PROVENANCE" "$MACHINE_DETAIL" <<'PY'
import json, os, sys
work, out, backends, conns, duration, wrk_timeout, rows, rows2, provenance, machine = sys.argv[1:11]
names = {"sqlite": "SQLite", "pg": "PostgreSQL"}
lines = [
    "# Load under an import: mixed reads while a release is published",
    "",
    f"`bench/load.sh`: {conns} connections (8 endpoints x {int(conns) // 8}, one `wrk -t1` each, "
    f"`--timeout {wrk_timeout}s`) for {duration} s against the release binary with its defaults, while "
    f"`opengov-api import` publishes release 2 ({int(rows2):,} rows) of the bench registry "
    f"(release 1: {int(rows):,} rows) from another process. Every response is checked by "
    "`bench/load.lua` against the release it names.",
    "",
    f"Binary: {provenance}. Machine: {machine}.",
    "",
]
failures = []
for label in backends.split():
    s = json.load(open(os.path.join(work, f"summary-{label}.json")))
    eps = s["endpoints"]
    lines += [f"## {names.get(label, label)}", "",
              "| endpoint | requests | req/s | p50 ms | p99 ms | max ms | socket errors (c/r/w/t) | 5xx | other non-2xx/3xx | inconsistent | served from release 1 / 2 |",
              "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|"]
    total_req = total_rps = 0
    for e in eps:
        if "missing" in e:
            failures.append(f"{label}: {e['endpoint']}: no result: {e['missing']}")
            continue
        rps = e["requests"] / (e["duration_us"] / 1e6)
        total_req += e["requests"]; total_rps += rps
        sock = f'{e["connect_errors"]}/{e["read_errors"]}/{e["write_errors"]}/{e["timeouts"]}'
        br = e["by_release"]
        by = f'{br.get("1", 0):,} / {br.get("2", 0):,}' if e["kind"] in ("items", "csv", "geojson") else "-"
        lines.append(f'| {e["endpoint"]} | {e["requests"]:,} | {rps:,.0f} | {e["p50_ms"]:.1f} | {e["p99_ms"]:.1f} | {e["max_ms"]:.0f} | {sock} | {e["s5xx"]} | {e["non_ok"]} | {e["inconsistent"]} | {by} |')
        for key in ("connect_errors", "read_errors", "write_errors", "timeouts", "s5xx", "non_ok", "inconsistent"):
            if e[key]:
                failures.append(f'{label}: {e["endpoint"]}: {key} = {e[key]} (first: {e["first_problem"]})')
        if e["kind"] in ("items", "csv", "geojson") and not (br.get("1") and br.get("2")):
            failures.append(f'{label}: {e["endpoint"]} was not served from both releases: {br}')
    worst = max((e["p99_ms"] for e in eps if "p99_ms" in e), default=0)
    imp = s["import"]
    lines += [f'| **all** | **{total_req:,}** | **{total_rps:,.0f}** | | worst {worst:.1f} | | | | | | |', "",
              f'Import of release 2: exit {imp["exit"]}, {imp["seconds"]} s under load '
              f'(started {imp["started_s"]} s into the load, finished at {imp["finished_s"]} s). '
              f'Releases afterwards: ' + ", ".join(f'{r["number"]} ({r["row_count"]:,} rows)' for r in s["releases"]) + ".", ""]
    if imp["exit"] != 0:
        failures.append(f"{label}: the import failed (exit {imp['exit']})")
    if imp["finished_s"] >= float(duration):
        failures.append(f"{label}: the import finished after the load ({imp['finished_s']} s)")
    if [r["row_count"] for r in s["releases"]][:1] != [int(rows2)]:
        failures.append(f"{label}: the newest release is not release 2 with {rows2} rows: {s['releases']}")
lines += ["## Verdict", ""]
lines += ["**PASS**: zero 5xx, zero other error statuses, zero socket errors, every response consistent with one release, both releases served, import finished under load."] if not failures else ["**FAIL**:", ""] + [f"- {f}" for f in failures]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(1 if failures else 0)
PY
