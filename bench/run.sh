#!/usr/bin/env bash
# Benchmark opengov-api (SQLite and PostgreSQL) against Datasette in ONE run on this machine, with
# the peer benchmark kit (shared/bench): same data (gen_data.py, default seed), same harness
# (measure.py: wrk for JSON, curl for CSV), loopback only, every server stopped by its PID.
#
#   bench/run.sh                          # everything (~20 min on 2 cores), writes bench/results/<date>-<machine>.md
#   ROUNDS=1 DURATION=5 bench/run.sh      # quicker, less reliable
#   STEPS="sqlite pg" bench/run.sh        # only some steps (datasette sqlite pg big revalidate html)
#   STEPS=revalidate bench/run.sh         # only the 304-vs-200 comparison (issue 4)
#   STEPS=html bench/run.sh               # only the HTML pages: registry browser vs Datasette's table view
#   BASELINE_BIN=/tmp/before/opengov-api STEPS="datasette sqlite baseline" bench/run.sh
#                                         # before/after a change: the other binary on the same data, same run
#
# Steps: (1) copy the kit to $KIT, generate 200,000 rows; (2) Datasette via the kit's run_peers.sh;
# (3) opengov-api on SQLite: load-fixtures, define-registry, import, serve, verify, measure.py;
# (4) the same on PostgreSQL ($PG_DB, created and dropped here); (5) 1,000,000 rows: import into
# fresh SQLite and PostgreSQL databases, then export the whole registry as CSV while sampling the
# server's VmRSS every 50 ms; (6) the report. STEPS=html: Datasette's HTML table view and our registry
# browser page (/registries/bench) on SQLite and PostgreSQL, each page checked first, into $HTML_OUT.
#
# Needs: target/release/opengov-api (built here with `cargo build --release --locked` when missing
# or older than the sources, never while another build runs), python3, curl, wrk (apt), psql,
# createdb/dropdb and a PostgreSQL on $PG_HOST:$PG_PORT with trust auth for $PG_USER.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$REPO/bench"
BIN="$REPO/target/release/opengov-api"
BASELINE_BIN=${BASELINE_BIN:-}       # step "baseline": this other build measured on the same SQLite data
KIT_SRC=${KIT_SRC:-$REPO/../shared/bench}
KIT=${KIT:-/tmp/bench-kit}
WORK=${WORK:-/tmp/opengov-bench}
PORT=${PORT:-8090}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
PG_DB=${PG_DB:-opengov_bench}
ROWS=${ROWS:-200000}
BIG_ROWS=${BIG_ROWS:-1000000}
DEEP_AFTER=${DEEP_AFTER:-150000}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
CSV_REPEATS=${CSV_REPEATS:-3}
EXPORT_REPEATS=${EXPORT_REPEATS:-2}
WORKERS=${WORKERS:-}                 # empty: the server's default (one worker per core)
STEPS=${STEPS-"datasette sqlite pg big"}   # empty: none (only the kit copy and the report)
QUIET_BUSY_PCT=${QUIET_BUSY_PCT:-15}
QUIET_MAX_S=${QUIET_MAX_S:-1200}
BUILD_WAIT_S=${BUILD_WAIT_S:-900}
KEEP_DB=${KEEP_DB:-0}
MACHINE=${MACHINE:-$(hostname -s)}
DATE=${DATE:-$(date -u +%Y-%m-%d)}
OUT=${OUT:-$BENCH/results/$DATE-$MACHINE.md}
REVALIDATE_OUT=${REVALIDATE_OUT:-$BENCH/results/$DATE-$MACHINE-revalidate.md}
HTML_OUT=${HTML_OUT:-$BENCH/results/$DATE-$MACHINE-html.md}
HTML_BACKENDS=${HTML_BACKENDS:-"sqlite pg"}
DS_PORT=${DS_PORT:-8001}
DATASETTE_SPEC=${DATASETTE_SPEC:-"datasette==0.65.5"}   # the kit's run_peers.sh default

[ "$PG_DB" = test ] && { echo "refusing to use the database named test" >&2; exit 2; }
[ "$DURATION" -le 120 ] || { echo "DURATION is capped at 120 s" >&2; exit 2; }

PG_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
CREATED_PG=0
mkdir -p "$WORK" "$BENCH/results"
: > "$WORK/commands.txt"
: > "$WORK/imports.tsv"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cmd() {  # run and record a command (with its directory when that is not the repository)
  if [ "$PWD" != "$REPO" ]; then printf '(cd %s) ' "$PWD" >> "$WORK/commands.txt"; fi
  printf '%s\n' "$*" >> "$WORK/commands.txt"
  "$@"
}

stop_pid() {
  local p=$1 i
  kill "$p" 2>/dev/null || return 0
  for i in $(seq 1 40); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$p" 2>/dev/null || true
}

pg() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -qtAX "$@"; }
drop_pg() { dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$PG_DB"; }
fresh_pg() {
  drop_pg
  cmd createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  CREATED_PG=1
}

cleanup() {
  if [ -n "$SERVER_PID" ]; then stop_pid "$SERVER_PID"; SERVER_PID=""; fi
  if [ "$CREATED_PG" = 1 ] && [ "$KEEP_DB" != 1 ]; then drop_pg || true; fi
  if [ "$KEEP_DB" != 1 ]; then rm -f "$WORK"/*.db "$WORK"/*.db-wal "$WORK"/*.db-shm; fi
}
trap cleanup EXIT

cpu_busy_pct() {  # whole-machine CPU busy % over 5 s
  local u1 n1 s1 i1 w1 q1 sq1 st1 u2 n2 s2 i2 w2 q2 sq2 st2 a b
  read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ < /proc/stat
  sleep 5
  read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
  a=$(( (u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1) ))
  b=$(( a + (i2+w2) - (i1+w1) ))
  echo $(( b > 0 ? 100 * a / b : 0 ))
}

wait_quiet() {  # wait (up to QUIET_MAX_S) until other work uses less than QUIET_BUSY_PCT of the CPU
  local waited=0 busy
  while :; do
    busy=$(cpu_busy_pct); waited=$((waited + 5))
    if [ "$busy" -lt "$QUIET_BUSY_PCT" ]; then log "machine quiet (${busy}% busy)"; echo "$1 ${busy}%" >> "$WORK/quiet.txt"; return 0; fi
    if [ "$waited" -ge "$QUIET_MAX_S" ]; then
      log "machine still ${busy}% busy after ${waited}s; measuring anyway"; echo "$1 ${busy}% (NOT quiet)" >> "$WORK/quiet.txt"; return 0
    fi
    log "machine ${busy}% busy (other work); waiting"; sleep 25; waited=$((waited + 25))
  done
}

build_running() { pgrep -f 'cargo build --release' >/dev/null 2>&1; }

ensure_binary() {
  local waited=0
  while build_running; do
    [ "$waited" -ge "$BUILD_WAIT_S" ] && { log "a release build is still running after ${waited}s"; exit 1; }
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

start_server() {  # database-url log
  # All load comes from one loopback address: the per-IP rate limit (on by default) would answer
  # most of it with 429, so it is off, as in bench/load.sh.
  local args=(serve --bind "127.0.0.1:$PORT" --database-url "$1" --rate-limit-per-minute 0)
  [ -n "$WORKERS" ] && args+=(--workers "$WORKERS")
  printf '%s\n' "$BIN ${args[*]} &" >> "$WORK/commands.txt"
  "$BIN" "${args[@]}" > "$2" 2>&1 &
  SERVER_PID=$!
  wait_http "$BASE/readyz" 60
  log "opengov-api serving on $BASE (pid $SERVER_PID)"
}

stop_server() { stop_pid "$SERVER_PID"; SERVER_PID=""; }

load_db() {  # database-url csv label
  local url=$1 csv=$2 label=$3 line
  # Only serve and migrate create a database (issue 13); the data commands need it migrated.
  cmd "$BIN" migrate --database-url "$url" > "$WORK/load-$label.log" 2>&1
  cmd "$BIN" load-fixtures --database-url "$url" >> "$WORK/load-$label.log" 2>&1
  cmd "$BIN" define-registry --database-url "$url" "$BENCH/registry/registry.toml" >> "$WORK/load-$label.log" 2>&1
  cmd "$BIN" import --database-url "$url" bench "$csv" > "$WORK/import-$label.log" 2>&1 || { cat "$WORK/import-$label.log" >&2; exit 1; }
  # "imported N rows into bench [of <database>] in S s (R rows/s)"
  line=$(grep -o 'imported [0-9]* rows into bench.* in [0-9.]* s ([0-9]* rows/s)' "$WORK/import-$label.log")
  log "$label: $line"
  # label rows seconds rows/s
  echo "$line" | sed -E 's/^imported ([0-9]+) rows into .* in ([0-9.]+) s \(([0-9]+) rows\/s\)$/\1\t\2\t\3/' \
    | awk -v l="$label" '{print l "\t" $0}' >> "$WORK/imports.tsv"
}

write_args() {  # file cursor
  cat > "$1" <<EOF
--name=opengov-api
--endpoint=a_list=/api/v1/registries/bench/items?limit=100
--endpoint=b_filtered=/api/v1/registries/bench/items?registry=road-works&year__gt=2000&limit=100
--endpoint=c_item=/api/v1/registries/bench/items/{id}
--endpoint=e_deep_keyset=/api/v1/registries/bench/items?limit=100&cursor=$2
--csv=d_csv_road_works=/api/v1/registries/bench/items.csv?registry=road-works
EOF
}

measure_ours() {  # database-url label
  local url=$1 label=$2 cursor
  start_server "$url" "$WORK/server-$label.log"
  cursor=$(python3 "$BENCH/helpers.py" deep-cursor "$BASE" "$DEEP_AFTER")
  write_args "$WORK/opengov-$label.args" "$cursor"
  log "verifying endpoints ($label)"
  python3 "$BENCH/helpers.py" verify "$BASE" "$WORK/opengov-$label.args" "$KIT/data/registry_items.csv" | tee "$WORK/verify-$label.txt" >&2
  wait_quiet "opengov-$label"
  log "measuring opengov-api on $label"
  (cd "$KIT" && cmd python3 measure.py @"$WORK/opengov-$label.args" --base "$BASE" --pid "$SERVER_PID" \
      --rounds "$ROUNDS" --threads "$THREADS" --conns "$CONNS" --duration "$DURATION" --warmup "$WARMUP" \
      --csv-repeats "$CSV_REPEATS" --id-max "$ROWS" \
      --json-out "$WORK/opengov-$label.json" --md-out "$WORK/opengov-$label.md" > /dev/null)
  stop_server
}

step_kit() {
  log "copying the kit to $KIT (keeping its .venv) and generating $ROWS rows"
  mkdir -p "$KIT"
  cmd cp -r "$KIT_SRC/." "$KIT/"
  chmod -R u+w "$KIT"
  (cd "$KIT" && cmd python3 gen_data.py --rows "$ROWS")
}

step_datasette() {
  log "measuring Datasette with the kit"
  rm -f "$KIT/results/datasette.json"
  (cd "$KIT" && cmd env PEERS=datasette OUT=results-peers.md RESDIR=results LOGDIR=logs ROWS="$ROWS" ROUNDS="$ROUNDS" DURATION="$DURATION" CONNS="$CONNS" \
      THREADS="$THREADS" WARMUP="$WARMUP" CSV_REPEATS="$CSV_REPEATS" ./run_peers.sh > "$WORK/datasette-run.log" 2>&1) \
    || { tail -30 "$WORK/datasette-run.log" >&2; exit 1; }
  cp "$KIT/results/datasette.json" "$KIT/results/datasette.md" "$WORK/"
  cp "$KIT/results-peers.md" "$WORK/results-peers.md"
}

step_sqlite() {
  local db="$WORK/sqlite-200k.db"
  rm -f "$db" "$db-wal" "$db-shm"
  load_db "sqlite://$db" "$KIT/data/registry_items.csv" 200k-sqlite
  measure_ours "sqlite://$db" sqlite
}

# A before/after comparison in one run: BASELINE_BIN serves the database step_sqlite loaded, with
# the same endpoints and harness; the report shows it as its own column.
step_baseline() {
  local db="$WORK/sqlite-200k.db" current=$BIN
  [ -x "$BASELINE_BIN" ] || { log "step baseline needs BASELINE_BIN (an executable)"; exit 2; }
  [ -f "$db" ] || load_db "sqlite://$db" "$KIT/data/registry_items.csv" 200k-sqlite
  printf 'baseline: %s (sha256 %s)\n' "$BASELINE_BIN" "$(sha256sum "$BASELINE_BIN" | cut -c1-12)" >> "$WORK/commands.txt"
  BIN=$BASELINE_BIN
  measure_ours "sqlite://$db" sqlite-baseline
  BIN=$current
}

step_pg() {
  fresh_pg
  load_db "$PG_URL" "$KIT/data/registry_items.csv" 200k-pg
  measure_ours "$PG_URL" pg
}

step_big() {
  local db="$WORK/sqlite-1m.db" csvpath="/api/v1/registries/bench/items.csv"
  log "generating $BIG_ROWS rows"
  (cd "$KIT" && cmd python3 gen_data.py --rows "$BIG_ROWS" --out-dir data-1m)
  rm -f "$db" "$db-wal" "$db-shm"
  load_db "sqlite://$db" "$KIT/data-1m/registry_items.csv" 1m-sqlite
  fresh_pg
  load_db "$PG_URL" "$KIT/data-1m/registry_items.csv" 1m-pg
  for label in sqlite pg; do
    local url="sqlite://$db"
    [ "$label" = pg ] && url=$PG_URL
    start_server "$url" "$WORK/server-1m-$label.log"
    wait_quiet "export-1m-$label"
    log "exporting $BIG_ROWS rows as CSV from $label while sampling RSS"
    cmd python3 "$BENCH/helpers.py" export-rss "$BASE" "$csvpath" "$SERVER_PID" "$WORK/export-1m-$label.json" --repeats "$EXPORT_REPEATS"
    stop_server
  done
}

# Conditional GET: the same list page answered in full (200) and revalidated (If-None-Match -> 304),
# wrk rounds interleaved, medians and the ratio written to $REVALIDATE_OUT.
revalidate_backend() {  # database-url label
  local url=$1 label=$2 name path etag code mode r rps
  start_server "$url" "$WORK/server-revalidate-$label.log"
  wait_quiet "revalidate-$label"
  for endpoint in "items_page=/api/v1/registries/bench/items?limit=100" "plan_page=/api/v1/commitments?expand=milestones"; do
    name=${endpoint%%=*}; path=${endpoint#*=}
    etag=$(curl -s -D - -o /dev/null "$BASE$path" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE$path")
    [ "$code" = 304 ] || { log "expected 304 for $path, got $code"; exit 1; }
    for r in $(seq 1 "$ROUNDS"); do
      for mode in full revalidate; do
        local header=()
        [ "$mode" = revalidate ] && header=(-H "If-None-Match: $etag")
        cmd timeout $((DURATION + 30)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "${header[@]}" "$BASE$path" > "$WORK/wrk-reval.txt"
        rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-reval.txt")
        # Bytes per response from wrk's totals: proves the revalidations really were 304s.
        per=$(awk '/requests in/ {n=$1; b=$5; u=substr(b, length(b)-1); v=substr(b, 1, length(b)-2);
                  m = (u=="KB") ? 1024 : (u=="MB") ? 1048576 : (u=="GB") ? 1073741824 : 1;
                  if (u !~ /B$/ || u == "B") { v = b; m = 1 } printf "%.0f", v*m/n}' "$WORK/wrk-reval.txt")
        if [ "$mode" = revalidate ] && [ "$per" -gt 1024 ]; then log "revalidations were not 304s ($per bytes each)"; exit 1; fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$name" "$mode" "$r" "$rps" "$per" >> "$WORK/revalidate.tsv"
        log "$label $name $mode round $r: $rps req/s, $per bytes/response"
      done
    done
  done
  stop_server
}

step_revalidate() {
  : > "$WORK/revalidate.tsv"
  local db="$WORK/sqlite-200k.db"
  if [ ! -f "$db" ]; then load_db "sqlite://$db" "$KIT/data/registry_items.csv" 200k-sqlite; fi
  revalidate_backend "sqlite://$db" sqlite
  fresh_pg
  load_db "$PG_URL" "$KIT/data/registry_items.csv" 200k-pg
  revalidate_backend "$PG_URL" pg
  python3 - "$WORK/revalidate.tsv" "$REVALIDATE_OUT" "$THREADS" "$CONNS" "$DURATION" "$ROUNDS" "$(cat "$WORK/provenance.txt")" <<'PY'
import statistics, sys
tsv, out, threads, conns, duration, rounds, provenance = sys.argv[1:8]
runs = {}
for line in open(tsv):
    label, name, mode, _, rps, per = line.rstrip("\n").split("\t")
    runs.setdefault((label, name), {}).setdefault(mode, []).append(float(rps))
    runs[(label, name)].setdefault(mode + "_bytes", []).append(int(per))
lines = [
    "# Conditional GET: 304 revalidation vs full 200, same page, same run",
    "",
    f"wrk -t{threads} -c{conns} -d{duration}s, {rounds} rounds per mode, rounds interleaved (full, revalidate, full, …); medians. Binary: {provenance}.",
    "",
    "| backend | page | full 200 req/s | 304 req/s | ratio 304 / 200 | bytes per 200 / 304 (headers included) | rounds (200) | rounds (304) |",
    "|---|---|---:|---:|---:|---|---|---|",
]
for (label, name), modes in sorted(runs.items()):
    full, reval = statistics.median(modes["full"]), statistics.median(modes["revalidate"])
    fmt = lambda xs: ", ".join(f"{x:.0f}" for x in xs)
    sizes = f"{statistics.median(modes['full_bytes']):.0f} / {statistics.median(modes['revalidate_bytes']):.0f}"
    lines.append(f"| {label} | {name} | {full:.0f} | {reval:.0f} | {reval / full:.2f}x | {sizes} | {fmt(modes['full'])} | {fmt(modes['revalidate'])} |")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
}

# HTML pages: Datasette's table view and our registry browser, 100 rows each, first page and the
# filtered page; every page verified (200, text/html, the expected 100 rows in order) before wrk.
# Our JSON items call with the same parameters is measured beside the page: the page runs that
# query, so the difference is the page's own work.
write_html_args() {  # file
  cat > "$1" <<EOF
--name=opengov-api-html
--endpoint=h1_first_page=/registries/bench?limit=100&lang=en
--endpoint=h2_filtered=/registries/bench?registry=road-works&year__gt=2000&limit=100&lang=en
--endpoint=j1_json_first_page=/api/v1/registries/bench/items?limit=100&lang=en
--endpoint=j2_json_filtered=/api/v1/registries/bench/items?registry=road-works&year__gt=2000&limit=100&lang=en
EOF
}

measure_html() {  # name base pid args label
  python3 "$BENCH/helpers.py" verify-html "$2" "$4" "$KIT/data/registry_items.csv" "$WORK/html-pages.json" "$1" \
    | tee -a "$WORK/verify-html.txt" >&2
  wait_quiet "html-$5"
  log "measuring the HTML pages of $1"
  (cd "$KIT" && cmd python3 measure.py @"$4" --base "$2" --pid "$3" \
      --rounds "$ROUNDS" --threads "$THREADS" --conns "$CONNS" --duration "$DURATION" --warmup "$WARMUP" \
      --id-max "$ROWS" --json-out "$WORK/html-$5.json" --md-out "$WORK/html-$5.md" > /dev/null)
}

step_html() {
  local ds_base="http://127.0.0.1:$DS_PORT" label url
  rm -f "$WORK"/html-*.json "$WORK/verify-html.txt"
  if [ ! -x "$KIT/.venv/bin/datasette" ]; then
    log "installing $DATASETTE_SPEC into $KIT/.venv (as the kit's run_peers.sh does)"
    (cd "$KIT" && python3 -m venv .venv && .venv/bin/pip install -q "$DATASETTE_SPEC")
  fi
  # The kit's own command line (run_peers.sh: run_datasette).
  log "starting Datasette on $ds_base"
  printf '(cd %s) %s\n' "$KIT" ".venv/bin/datasette serve -i data/registry.db -h 127.0.0.1 -p $DS_PORT --setting suggest_facets off &" >> "$WORK/commands.txt"
  (cd "$KIT" && exec .venv/bin/datasette serve -i data/registry.db -h 127.0.0.1 -p "$DS_PORT" --setting suggest_facets off) \
    > "$WORK/datasette-html.log" 2>&1 &
  SERVER_PID=$!
  wait_http "$ds_base/-/versions.json" 60
  cat > "$WORK/datasette-html.args" <<EOF
--name=datasette-html
--endpoint=h1_first_page=/registry/registry_items?_size=100
--endpoint=h2_filtered=/registry/registry_items?_size=100&registry=road-works&year__gt=2000
EOF
  measure_html Datasette "$ds_base" "$SERVER_PID" "$WORK/datasette-html.args" datasette
  stop_server
  write_html_args "$WORK/opengov-html.args"
  for label in $HTML_BACKENDS; do
    case "$label" in
      sqlite)
        url="sqlite://$WORK/sqlite-200k.db"
        rm -f "$WORK/sqlite-200k.db" "$WORK/sqlite-200k.db-wal" "$WORK/sqlite-200k.db-shm"
        load_db "$url" "$KIT/data/registry_items.csv" 200k-sqlite ;;
      pg)
        url=$PG_URL
        fresh_pg
        load_db "$url" "$KIT/data/registry_items.csv" 200k-pg ;;
      *) log "unknown HTML backend $label"; continue ;;
    esac
    start_server "$url" "$WORK/server-html-$label.log"
    measure_html "opengov-api-$label" "$BASE" "$SERVER_PID" "$WORK/opengov-html.args" "$label"
    stop_server
  done
  write_meta
  python3 "$BENCH/helpers.py" html-report "$HTML_OUT" "$WORK" > /dev/null
  log "wrote $HTML_OUT"
}

write_meta() {
  python3 - "$WORK" <<EOF
import json, os, subprocess, sys
w = sys.argv[1]
def sh(c):
    return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
imports = {}
for line in open(os.path.join(w, "imports.tsv")):
    l, rows, secs, rps = line.split("\t")
    imports["import-" + l] = {"rows": int(rows), "seconds": float(secs), "rows_per_s": int(rps)}
meta = {
  "date": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
  "machine": "$MACHINE",
  "machine_detail": sh("nproc") + " cores (" + sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'") + "), "
      + sh("awk '/MemTotal/ {printf \"%.1f GiB\", \$2/1048576}' /proc/meminfo") + " RAM, kernel " + sh("uname -r"),
  "binary": open(os.path.join(w, "provenance.txt")).read().strip(),
  "wrk": sh("wrk --version 2>&1 | head -1 | awk '{print \$1, \$2}'") + ", on the same machine (wrk and the server share the 2 cores)",
  "datasette": sh("$KIT/.venv/bin/datasette --version") + " (SQLite " + sh("$KIT/.venv/bin/python -c 'import sqlite3;print(sqlite3.sqlite_version)'") + "), run by the kit's run_peers.sh: datasette serve -i data/registry.db --setting suggest_facets off",
  "config": "wrk -t$THREADS -c$CONNS -d${DURATION}s x $ROUNDS rounds per endpoint (medians), ${WARMUP}s warm-up; CSV: $CSV_REPEATS downloads (median); $ROWS rows; opengov-api workers: ${WORKERS:-default (one per core)}; PostgreSQL " + sh("psql -h $PG_HOST -p $PG_PORT -U $PG_USER -qtAX -c 'show server_version' postgres"),
  "quiet": "; ".join(l.strip() for l in open(os.path.join(w, "quiet.txt"))) if os.path.exists(os.path.join(w, "quiet.txt")) else "n/a",
  "imports": imports,
  "commands": ["# MACHINE=$MACHINE STEPS=\"$STEPS\" ROUNDS=$ROUNDS DURATION=$DURATION QUIET_BUSY_PCT=$QUIET_BUSY_PCT QUIET_MAX_S=$QUIET_MAX_S bench/run.sh ran, from $REPO:"] + [l.rstrip("\n") for l in open(os.path.join(w, "commands.txt"))],
}
json.dump(meta, open(os.path.join(w, "meta.json"), "w"), indent=2)
EOF
}

rm -f "$WORK"/*.json "$WORK/quiet.txt"
command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
ensure_binary
# What was measured: the binary's time stamp and the sources it was built from (read now, before
# the run, since the tree may change while the benchmark runs).
{
  printf '%s built %s; HEAD %s' "target/release/opengov-api" "$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)" "$(cd "$REPO" && git rev-parse --short HEAD)"
  dirty=$(cd "$REPO" && git status --short -- src migrations fixtures build.rs Cargo.toml Cargo.lock | awk '{print $2}' | tr '\n' ' ' || true)
  if [ -n "$dirty" ]; then printf ' + uncommitted changes in: %s' "$dirty"; else printf ' (sources clean)'; fi
  echo
} > "$WORK/provenance.txt"
step_kit
for s in $STEPS; do
  case "$s" in
    datasette) step_datasette ;;
    sqlite) step_sqlite ;;
    pg) step_pg ;;
    baseline) step_baseline ;;
    big) step_big ;;
    revalidate) step_revalidate ;;
    html) step_html ;;
    *) log "unknown step $s" ;;
  esac
done
# Datasette's quiet note lives in its own results file.
grep -h 'Machine busy before run' "$WORK/datasette.md" 2>/dev/null | sed 's/^Machine busy before run: /datasette /' >> "$WORK/quiet.txt" || true
case " $STEPS " in
  *" datasette "*|*" sqlite "*|*" pg "*|*" big "*|*" baseline "*)
    write_meta
    python3 "$BENCH/helpers.py" report "$OUT" "$WORK" > /dev/null
    log "wrote $OUT"
    cat "$OUT" ;;
esac
