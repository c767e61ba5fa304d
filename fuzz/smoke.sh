#!/usr/bin/env bash
# Builds every fuzz target once and runs each for SECONDS (default 20), seeded from the shared
# corpus (../../shared/corpus beside the clone) and from dumps the tests wrote
# (corpus/from-tests, see README.md). Exits non-zero if any target crashes, leaks, times out or
# runs out of memory; the offending input is left under fuzz/artifacts/<target>/.
#
#   bash fuzz/smoke.sh            # 20 s per target (CI)
#   bash fuzz/smoke.sh 600        # 10 minutes per target
#   JOBS=2 bash fuzz/smoke.sh 600 # two targets at a time (one per core on this machine)
#   TARGETS="dump archive" bash fuzz/smoke.sh 60
set -euo pipefail
secs=${1:-20}
jobs=${JOBS:-1}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# cargo-fuzz passes -Z flags to rustc (sanitizers); the stable toolchain accepts them with
# RUSTC_BOOTSTRAP=1, so no nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never
# A reader thread still ending when libFuzzer looks for leaks is not a leak: see lsan.supp.
export LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

targets=${TARGETS:-$(cargo fuzz list)}
echo "smoke: building $(echo $targets | wc -w) targets"
mkdir -p artifacts
if ! cargo fuzz build >artifacts/build.log 2>&1; then
  tail -n 40 artifacts/build.log >&2
  echo "smoke: cargo fuzz build failed" >&2
  exit 1
fi
for t in $targets; do
  [ -x "target/x86_64-unknown-linux-gnu/release/$t" ] || { echo "smoke: $t did not build" >&2; exit 1; }
done

# --- Seeds -------------------------------------------------------------------------------------
# (head and grep close pipes early: no pipefail while seeding)
set +o pipefail
shared=$(cd "$here/../.." && pwd)/shared/corpus
[ -d "$shared" ] || shared=$(cd "$here/.." && pwd)/../shared/corpus
seed() { # seed TARGET NAME < bytes
  mkdir -p "corpus/$1"
  cat > "corpus/$1/seed-$2"
}
if [ -d "$shared" ]; then
  echo "smoke: seeding from $shared"
  for f in "$shared"/*; do
    name=$(basename "$f")
    case "$name" in README*) continue ;; esac
    # Readers: the head of each file as is, gzip'd, and (SQL) zipped as a backup.
    head -c 200000 "$f" | seed dump "$name"
    head -c 200000 "$f" | seed odoo "$name"
    case "$name" in
      *.sql)
        head -c 100000 "$f" | gzip -c | seed dump "$name.gz"
        head -c 100000 "$f" | gzip -c | seed odoo "$name.gz"
        for off in 0 30000 90000 400000; do
          tail -c +$((off + 1)) "$f" | head -c 16000 | seed split "$name.$off"
          tail -c +$((off + 1)) "$f" | head -c 16000 | seed schema "$name.$off"
        done
        grep -a -m 40 '^COPY ' "$f" | head -c 4000 | seed copy_statement "$name" || true
        n=0
        grep -a -P '\t' "$f" | awk 'NR % 97 == 1' | head -n 60 | while IFS= read -r line; do
          n=$((n + 1)); printf '%s' "$line" | seed copy_row "$name.$n"
        done || true
        if command -v python3 >/dev/null 2>&1; then
          python3 - "$f" "corpus/dump/seed-$name.zip" <<'PY'
import sys, zipfile
sql = open(sys.argv[1], 'rb').read()[:100000]
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('dump.sql', sql)
    z.writestr('manifest.json', '{"odoo_dump": "1", "version": "17.0"}')
    z.writestr('filestore/ab/ab12', b'x' * 100)
PY
        fi
        ;;
    esac
  done
else
  echo "smoke: no shared corpus beside the clone; built-in seeds only"
fi
for v in 8.0 17.0 saas~17.2 saas-17.2 10.saas~15 19.1 17.0.1.3 saas~17.2.1.3 10.saas~15.1.3 \
  19.1.1.3 17.0+e 17.0-20240101 17.0+e-20240101 18.0rc1; do
  printf '%s\0%s' "$v" 18.0 | seed version "$(printf '%s' "$v" | tr -c 'a-z0-9.' _)"
done
printf 'COPY public.res_partner (id, name, "Weird ""x""") FROM stdin;' | seed copy_statement builtin
printf '1\t\\N\ta\\tb\\\\c\\101\\x42\t' | seed copy_row builtin
printf -- '--\n-- PostgreSQL database dump\n--\n\nSET x = 1;\nCOPY public.t (a, b) FROM stdin;\n1\t\\N\n\\.\n\n-- PostgreSQL database dump complete\n' | seed dump builtin
if [ -d corpus/from-tests ]; then
  echo "smoke: seeding from corpus/from-tests"
  for f in corpus/from-tests/*; do
    name=$(basename "$f")
    head -c 300000 "$f" | seed dump "t-$name"
    head -c 300000 "$f" | seed odoo "t-$name"
    if [ "$(head -c 5 "$f")" = PGDMP ]; then
      { printf '\000'; head -c 300000 "$f"; } | seed archive "t0-$name"
      { printf '\001'; head -c 300000 "$f"; } | seed archive "t1-$name"
    fi
    case "$name" in *.sql) head -c 16000 "$f" | seed schema "t-$name"; head -c 16000 "$f" | seed split "t-$name" ;; esac
  done
  # Directory dumps the tests saved as toc.dat + one data file: mode 2, toc length, toc, data.
  for toc in corpus/from-tests/*.toc.dat; do
    [ -e "$toc" ] || continue
    data=${toc%.toc.dat}.data
    [ -e "$data" ] || continue
    len=$(stat -c %s "$toc")
    le32=""
    for shift in 0 8 16 24; do le32="$le32\\$(printf %03o $(((len >> shift) & 255)))"; done
    { printf '\002'; printf "$le32"; cat "$toc"; head -c 100000 "$data"; } \
      | seed archive "t2-$(basename "$toc")"
  done
fi

set -o pipefail

# --- Runs --------------------------------------------------------------------------------------
max_len() {
  case "$1" in
    dump | odoo | archive) echo 300000 ;;
    split | schema) echo 65536 ;;
    *) echo 4096 ;;
  esac
}
run_one() {
  local t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  # -rss_limit_mb: the readers must stream, whatever the input says about its own size.
  if cargo fuzz run "$t" "corpus/$t" -- \
      -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 >"artifacts/$t.log" 2>&1; then
    local last
    last=$(grep -E '^#[0-9]+' "artifacts/$t.log" | tail -n 1 || true)
    echo "smoke: $t ok: ${last}"
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "artifacts/$t.log" | sed "s/^/smoke: $t /" || true
  else
    echo "smoke: $t FAILED (see fuzz/artifacts/$t.log and fuzz/artifacts/$t/)" >&2
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "artifacts/$t.log" | head -n 20 >&2 || true
    return 1
  fi
}
failed=0
running=0
for t in $targets; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1 # whichever ends first frees its core
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
  echo "smoke: a fuzz target failed" >&2
  exit 1
fi
echo "smoke: all targets ran ${secs}s without a crash"
