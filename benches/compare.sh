#!/usr/bin/env bash
# Whole-program comparison: odoo-dump against the tools people would use instead, in one run on
# the same files, with medians, spread, ratios and peak memory.
#
#   benches/compare.sh [--quick|--full]
#
#   --quick (default)  small.sql.gz / small.dump (~200 MB of SQL), 5 runs per command
#   --full             big.sql.gz / big.dump (~2 GB of SQL), 3 runs per command
#
# What it times (each command reads the same file; the reference for ratios is a bare decode of
# it with the default backend, crates/odump-io/examples/decode.rs):
#   decode (bare, zlib-rs | isa-l)   the gzip decoder alone, one thread, bytes thrown away
#   decode --stream                  the same through odump_io::open (reader thread + channel)
#   odoo-dump inspect|version|diff   default build (zlib-rs) and the `isal` feature build
#   odoo-dump version X.dump         custom archive written to a file (seeks to base's row)
#   gzip -dc, zcat | wc -l, zcat | grep -m1 "base.*17\.0", pigz -dc, igzip -dc
#   pg_restore -a -t ir_module_module X.dump | grep -m1 base
#   the restore route (small dump): createdb, zcat | psql, SELECT latest_version … WHERE name='base'
#     on a throwaway PostgreSQL cluster (fsync off: a best case for the restore route)
#
# Environment:
#   ODUMP_BENCH_DATA  bench data directory (default /work/benchdata). Missing dumps are made
#                     there with ../shared/bench/make-dumps.sh (MAKE_DUMPS overrides its path);
#                     the modified copy for `diff` (X.mod.sql.gz) is made there too. Never commit
#                     any of them.
#   RUNS, WARMUP      runs and warm-up runs per command (defaults: quick 5/1, full 3/1)
#   RESTORE_RUNS      runs of the restore route (default 3; 0 leaves it out)
#   ONLY              run only these rows, by id (e.g. ONLY="ref ref_isal inspect inspect_isal wc");
#                     ids: ref ref_isal stream inspect inspect_isal version version_isal
#                     version_dump diff diff_isal gzip wc grep pigz igzip pg_restore
#                     version_small restore
#   CARGO_TARGET_DIR  where cargo builds (default: the repository's target/)
#   SKIP_BUILD=1      reuse the binaries of the last run (in $BENCH_OUT/bin) instead of building
#   NO_ISAL=1         skip the ISA-L build (needs nasm, autoconf, automake, libtool)
#   BENCH_OUT         results directory (default $ODUMP_BENCH_DATA/results): binaries, JSON, the
#                     table as Markdown (table-MODE.md)
#
# Uses hyperfine when installed (apt-get install -y hyperfine), else a plain timing loop; peak
# memory with GNU time (`/usr/bin/time -f %M`, package `time`): for pipelines it is the largest
# process of the pipeline. Missing pigz/igzip/time/hyperfine are installed with apt-get when
# running as root, else their rows are left out. Build with `nice` and check that the machine is
# quiet: the load average is printed with the table.
set -euo pipefail

MODE=quick
for arg in "$@"; do
  case $arg in
    --quick) MODE=quick ;;
    --full) MODE=full ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $arg (use --quick or --full)" >&2; exit 2 ;;
  esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
DATA=${ODUMP_BENCH_DATA:-/work/benchdata}
MAKE_DUMPS=${MAKE_DUMPS:-$REPO/../shared/bench/make-dumps.sh}
OUT=${BENCH_OUT:-$DATA/results}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
if [ "$MODE" = quick ]; then
  NAME=small RUNS=${RUNS:-5} WARMUP=${WARMUP:-1}
else
  NAME=big RUNS=${RUNS:-3} WARMUP=${WARMUP:-1}
fi
RESTORE_RUNS=${RESTORE_RUNS:-3}
mkdir -p "$DATA" "$OUT/bin" "$OUT/json"
DATA=$(cd "$DATA" && pwd)
OUT=$(cd "$OUT" && pwd)
log() { printf '== %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------
need() {  # command apt-package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $2"
    apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$2" >/dev/null 2>&1; } || true
  fi
  command -v "$1" >/dev/null 2>&1
}
HAVE_HYPERFINE=0; need hyperfine hyperfine && HAVE_HYPERFINE=1
HAVE_TIME=0; [ -x /usr/bin/time ] || need /usr/bin/time time || true; [ -x /usr/bin/time ] && HAVE_TIME=1
HAVE_PIGZ=0; need pigz pigz && HAVE_PIGZ=1
HAVE_IGZIP=0; need igzip isal && HAVE_IGZIP=1
command -v python3 >/dev/null || { echo "compare.sh needs python3 (for the table)" >&2; exit 2; }

# --- data --------------------------------------------------------------------------------------
make_dumps() {  # stage
  [ -x "$MAKE_DUMPS" ] || [ -f "$MAKE_DUMPS" ] || { echo "no $MAKE_DUMPS to make the $1 dumps" >&2; exit 2; }
  log "making the $1 dumps in $DATA (make-dumps.sh; small ~1 min, big ~5 min)"
  STAGES=$1 bash "$MAKE_DUMPS" "$DATA" >&2
}
for n in small $NAME; do
  [ -f "$DATA/$n.sql.gz" ] && [ -f "$DATA/$n.dump" ] || make_dumps "$n"
done
GZ=$DATA/$NAME.sql.gz
DUMP=$DATA/$NAME.dump
MOD=$DATA/$NAME.mod.sql.gz
if [ ! -f "$MOD" ]; then
  # The "after" dump for diff: one column added to res_partner, base's version bumped, a tenth of
  # mail_message's rows gone (a data-loss hazard) — the same size otherwise.
  log "making $MOD (a modified copy of $NAME.sql.gz, for diff)"
  compress() { if [ $HAVE_PIGZ = 1 ]; then pigz -6; else gzip -6; fi; }
  gzip -dc "$GZ" | sed \
    -e '/^CREATE TABLE public.res_partner (/,/^);/ s/^    id integer NOT NULL,$/&\n    x_bench_note text,/' \
    -e 's/^\([0-9]*\tbase\tOdoo S\.A\.\t.*\t\)17\.0\.1\.0\t/\117.0.1.5\t/' \
    -e '/^COPY public.mail_message /,/^\\\.$/ { /^[0-9]*7\t/d }' \
    | compress > "$MOD.tmp" && mv "$MOD.tmp" "$MOD"
fi

# --- builds ------------------------------------------------------------------------------------
build() {  # suffix cargo-feature-args...
  local suffix=$1; shift
  if [ "${SKIP_BUILD:-0}" = 1 ] && [ -x "$OUT/bin/odoo-dump-$suffix" ] && [ -x "$OUT/bin/decode-$suffix" ]; then
    log "reusing $OUT/bin/*-$suffix (SKIP_BUILD=1)"
    return 0
  fi
  log "building odoo-dump and the decode example ($suffix)"
  (cd "$REPO" && nice -n 10 cargo build -q --release -p odoo-dump "$@" \
    && nice -n 10 cargo build -q --release -p odump-io --example decode "${@/odump-io\//}") >&2 || return 1
  cp "$CARGO_TARGET_DIR/release/odoo-dump" "$OUT/bin/odoo-dump-$suffix"
  cp "$CARGO_TARGET_DIR/release/examples/decode" "$OUT/bin/decode-$suffix"
}
build zlibrs
HAVE_ISAL=0
if [ "${NO_ISAL:-0}" != 1 ]; then
  if build isal --features odump-io/isal; then HAVE_ISAL=1; else
    log "the isal build failed (needs: apt-get install -y nasm autoconf automake libtool): its rows are left out"
  fi
fi
BIN=$OUT/bin
HAVE_DIFF=0
"$BIN/odoo-dump-zlibrs" diff --help >/dev/null 2>&1 && HAVE_DIFF=1

# --- the commands ------------------------------------------------------------------------------
# Each entry: id, label, shell command, allowed exit codes (space separated); US-separated.
SEP=$'\x1f'
CMDS=()
add() {
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $1 "* ]]; then return 0; fi
  CMDS+=("$1$SEP$2$SEP$3$SEP${4:-0}")
}
q() { printf '%q' "$1"; }
add ref "decode, bare (zlib-rs) [reference]" "$(q "$BIN/decode-zlibrs") $(q "$GZ")"
[ $HAVE_ISAL = 1 ] && add ref_isal "decode, bare (isa-l)" "$(q "$BIN/decode-isal") $(q "$GZ")"
add stream "decode --stream (reader thread, idle consumer; zlib-rs)" "$(q "$BIN/decode-zlibrs") --stream $(q "$GZ")"
add inspect "odoo-dump inspect (zlib-rs)" "$(q "$BIN/odoo-dump-zlibrs") inspect $(q "$GZ") >/dev/null"
[ $HAVE_ISAL = 1 ] && add inspect_isal "odoo-dump inspect (isa-l)" "$(q "$BIN/odoo-dump-isal") inspect $(q "$GZ") >/dev/null"
add version "odoo-dump version (zlib-rs)" "$(q "$BIN/odoo-dump-zlibrs") version $(q "$GZ") >/dev/null"
[ $HAVE_ISAL = 1 ] && add version_isal "odoo-dump version (isa-l)" "$(q "$BIN/odoo-dump-isal") version $(q "$GZ") >/dev/null"
add version_dump "odoo-dump version $NAME.dump (custom)" "$(q "$BIN/odoo-dump-zlibrs") version $(q "$DUMP") >/dev/null"
if [ $HAVE_DIFF = 1 ]; then
  add diff "odoo-dump diff A A.mod (zlib-rs)" "$(q "$BIN/odoo-dump-zlibrs") diff $(q "$GZ") $(q "$MOD") >/dev/null" "0 1"
  [ $HAVE_ISAL = 1 ] && add diff_isal "odoo-dump diff A A.mod (isa-l)" "$(q "$BIN/odoo-dump-isal") diff $(q "$GZ") $(q "$MOD") >/dev/null" "0 1"
fi
add gzip "gzip -dc > /dev/null" "gzip -dc $(q "$GZ") >/dev/null"
add wc "zcat | wc -l" "zcat $(q "$GZ") | wc -l >/dev/null"
add grep "zcat | grep -m1 \"base.*17\\.0\"" "zcat $(q "$GZ") | grep -m1 'base.*17\\.0' >/dev/null"
[ $HAVE_PIGZ = 1 ] && add pigz "pigz -dc > /dev/null" "pigz -dc $(q "$GZ") >/dev/null"
[ $HAVE_IGZIP = 1 ] && add igzip "igzip -dc > /dev/null" "igzip -dc $(q "$GZ") >/dev/null"
command -v pg_restore >/dev/null && add pg_restore "pg_restore -a -t ir_module_module $NAME.dump | grep -m1 base" \
  "pg_restore -f - -a -t ir_module_module $(q "$DUMP") | grep -m1 -P '^\\d+\\tbase\\t' >/dev/null"
if [ "$NAME" != small ]; then
  add version_small "odoo-dump version small.sql.gz (zlib-rs)" "$(q "$BIN/odoo-dump-zlibrs") version $(q "$DATA/small.sql.gz") >/dev/null"
fi

# --- the restore route: a throwaway cluster ------------------------------------------------------
PG=""
cleanup() {
  if [ -n "$PG" ] && [ -f "$PG/data/PG_VERSION" ]; then
    su "$RUNAS" -c "pg_ctl -D '$PG/data' -m immediate -w stop" >/dev/null 2>&1 || true
  fi
  [ -n "$PG" ] && rm -rf "$PG"
}
trap cleanup EXIT
if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" restore "* ]]; then RESTORE_RUNS=0; fi
if [ "$RESTORE_RUNS" -gt 0 ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  RUNAS=${RUNAS:-odumpbench}
  PG=$(mktemp -d /tmp/odump-restore.XXXXXX)
  PGPORT_R=${RESTORE_PORT:-55441}
  if [ "$(id -u)" = 0 ]; then
    id "$RUNAS" >/dev/null 2>&1 || useradd -m "$RUNAS"
    chown "$RUNAS" "$PG"; chmod 755 "$PG"
    as() { su "$RUNAS" -c "$1"; }
  else
    RUNAS=$(id -un); as() { bash -c "$1"; }
  fi
  log "starting a throwaway PostgreSQL cluster in $PG"
  if as "initdb -D '$PG/data' -U postgres --auth=trust -E UTF8 --locale=C >/dev/null" \
    && as "pg_ctl -D '$PG/data' -l '$PG/server.log' -w start -o \"-p $PGPORT_R -k $PG -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=4GB -c shared_buffers=512MB -c maintenance_work_mem=256MB\"" >/dev/null; then
    CONN="-h $PG -p $PGPORT_R -U postgres"
    SMALL=$(q "$DATA/small.sql.gz")
    RESTORE="createdb $CONN odump_restore && zcat $SMALL | psql -X -q $CONN -d odump_restore >/dev/null 2>&1 && psql -X -tA $CONN -d odump_restore -c \"SELECT latest_version FROM ir_module_module WHERE name='base'\""
    PREPARE="dropdb $CONN --if-exists odump_restore"
    got=$(bash -c "$PREPARE; $RESTORE" 2>/dev/null || true)
    if [ -n "$got" ]; then
      log "restore route answers $got"
      add restore "restore route, small: createdb + zcat | psql + SELECT" "$RESTORE >/dev/null"
    else
      log "the restore route gave no answer; left out (see $PG/server.log)"
    fi
  else
    log "could not start PostgreSQL; the restore route is left out"
  fi
fi

# --- run ---------------------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $LOAD_BEFORE ($(nproc) CPUs); hyperfine: $HAVE_HYPERFINE"
cat /dev/null > "$OUT/json/$MODE.list"
for entry in "${CMDS[@]}"; do
  IFS=$SEP read -r id label cmd codes <<<"$entry"
  runs=$RUNS warmup=$WARMUP prepare=""
  if [ "$id" = restore ]; then runs=$RESTORE_RUNS warmup=0 prepare=$PREPARE; fi
  json=$OUT/json/$MODE-$id.json
  log "$label"
  wrapped="$cmd; rc=\$?; case ' $codes ' in *\" \$rc \"*) exit 0;; *) exit \$rc;; esac"
  if [ $HAVE_HYPERFINE = 1 ]; then
    args=(--shell bash --style none --runs "$runs" --warmup "$warmup" --export-json "$json")
    [ -n "$prepare" ] && args+=(--prepare "$prepare")
    hyperfine "${args[@]}" "$wrapped" >/dev/null
  else
    times=()
    for ((i = 0; i < warmup + runs; i++)); do
      [ -n "$prepare" ] && bash -c "$prepare" >/dev/null 2>&1
      t0=$(date +%s%N)
      bash -c "$wrapped" >/dev/null 2>&1 || { echo "failed: $cmd" >&2; exit 2; }
      t1=$(date +%s%N)
      [ "$i" -ge "$warmup" ] && times+=("$(( (t1 - t0) / 1000 ))")
    done
    python3 -c 'import json,sys; t=[int(x)/1e6 for x in sys.argv[2:]]; json.dump({"results":[{"command":sys.argv[1],"times":t}]}, open(sys.argv[1],"w"))' "$json" "${times[@]}"
  fi
  rss=""
  if [ $HAVE_TIME = 1 ] && [ "$id" != restore ]; then
    rss=$(/usr/bin/time -f %M bash -c "$wrapped" 2>&1 >/dev/null | tail -1)
  fi
  printf '%s\t%s\t%s\t%s\n' "$id" "$label" "$json" "$rss" >> "$OUT/json/$MODE.list"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ---------------------------------------------------------------------------------
python3 - "$OUT/json/$MODE.list" "$MODE" "$GZ" "$LOAD_BEFORE" "$LOAD_AFTER" "$OUT/table-$MODE.md" <<'PY'
import json, os, statistics, sys
listing, mode, gz, load_before, load_after, md_path = sys.argv[1:7]
rows = {}
order = []
for line in open(listing):
    id_, label, path, rss = line.rstrip("\n").split("\t")
    times = json.load(open(path))["results"][0]["times"]
    rows[id_] = dict(label=label, median=statistics.median(times), lo=min(times), hi=max(times),
                     n=len(times), rss=int(rss) if rss.isdigit() else None)
    order.append(id_)
if "ref" not in rows:
    sys.exit("compare.sh: the reference row (ref) is needed for the ratios")
ref = rows["ref"]["median"]
size = os.path.getsize(gz)
lines = [f"odoo-dump benchmark, {mode} ({os.path.basename(gz)}, {size / 1e6:.0f} MB), "
         f"load average {load_before} before / {load_after} after, {os.cpu_count()} CPUs", "",
         "| command | median | min–max | ratio to bare decode | peak RSS |",
         "|---|---:|---:|---:|---:|"]
def secs(t):
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"
for id_ in order:
    r = rows[id_]
    rss = f"{r['rss'] / 1024:.1f} MB" if r["rss"] else "–"
    lines.append(f"| {r['label'].replace('|', chr(92) + '|')} | {secs(r['median'])} | {secs(r['lo'])}–{secs(r['hi'])} | "
                 f"{r['median'] / ref:.2f}× | {rss} |")
def m(i):
    return rows[i]["median"] if i in rows else None
checks = []
def check(text, ok, value):
    checks.append(f"- {'PASS' if ok else 'FAIL'}: {text} ({value})")
if m("inspect"):
    v = m("inspect") / ref
    check("inspect ≤ 1.15× bare decode (zlib-rs)", v <= 1.15, f"{v:.2f}×")
if m("inspect_isal") and m("wc"):
    v = m("wc") / m("inspect_isal")
    check("inspect (isa-l) ≥ 4.5× faster than zcat | wc -l", v >= 4.5, f"{v:.2f}×")
if m("inspect_isal") and m("ref_isal"):
    v = m("inspect_isal") / m("ref_isal")
    check("inspect (isa-l) vs bare decode (isa-l), for information", True, f"{v:.2f}×")
if m("version") and m("inspect"):
    v = m("version") / m("inspect")
    check("version ≤ 0.65× inspect", v <= 0.65, f"{v:.2f}×")
if m("version_dump"):
    v = m("version_dump")
    check(f"version on the custom dump < 100 ms", v < 0.1, secs(v))
if m("diff") and m("inspect"):
    v = m("diff") / m("inspect")
    check("diff ≤ 1.2× inspect", v <= 1.2, f"{v:.2f}×")
for i, limit in (("inspect", 64), ("version", 64), ("inspect_isal", 64), ("diff", 256)):
    if i in rows and rows[i]["rss"]:
        v = rows[i]["rss"] / 1024
        check(f"peak RSS of {rows[i]['label']} < {limit} MB", v < limit, f"{v:.1f} MB")
if m("restore"):
    version_small = m("version_small") or m("version")
    v = m("restore") / version_small
    check("version ≥ 20× faster than the restore route (small dump)", v >= 20, f"{v:.0f}×")
lines += ["", "Targets (issue 6; they are set for --full):", *checks]
text = "\n".join(lines)
print(text)
open(md_path, "w").write(text + "\n")
PY
log "table written to $OUT/table-$MODE.md"
