#!/usr/bin/env bash
# avro2kafka -> Kafka -> kafka2ch gives back the stream's changes byte for
# byte, in order per key, with their schemas, over several tables and
# partitions: 100k row changes (and their tombstones) and DDL statements.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"

"$GEN" -n 100000 -t 4 -k 2000 -x 20 -d 500 -p "$PFX" >"$T/in.avro"

rc=0
timeout 120 "$A2K" -p "$PFX" -P 3 <"$T/in.avro" >"$T/a.out" 2>"$T/a.err" ||
    rc=$?
check_eq "avro2kafka exits 0" "$rc" 0
check "avro2kafka writes nothing on stdout" test ! -s "$T/a.out"
check "avro2kafka reports its counts" grep -q ' info: in=' "$T/a.err"

rc=0
consume_all "$T/out.avro" || rc=$?
check_eq "kafka2ch --exit-at-end exits 0" "$rc" 0
perkey "$T/in.avro" >"$T/in.keys"
perkey "$T/out.avro" >"$T/out.keys"
check "more than 100k changes" test "$(wc -l <"$T/in.keys")" -gt 100000
check "same changes, same order per key" cmp -s "$T/in.keys" "$T/out.keys"
check_eq "same schemas" "$(kinds "$T/out.avro" schema | sort -u | md5sum)" \
    "$(kinds "$T/in.avro" schema | sort -u | md5sum)"
check "output decodes with its schemas" \
    sh -c '"$1" "$2" >/dev/null' sh "$BIN/streamcat" "$T/out.avro"
got=$(kinds "$T/out.avro" ddl | sed 's/"position".*//' | md5sum)
check_eq "ddl statements come through" "$got" \
    "$(kinds "$T/in.avro" ddl | sed 's/"position".*//' | md5sum)"
ddls=$(kinds "$T/in.avro" ddl | wc -l)
check "ddl statements in the input" test "$ddls" -gt 10
check_eq "ddl count" "$(kinds "$T/out.avro" ddl | wc -l)" "$ddls"

# Commit marks carry kafka: positions whose last offsets sum to the number
# of records consumed (one record per change, and the DDL records).
last=$("$BIN/streamcat" "$T/out.avro" | grep '^{"kind":"commit"' | tail -n 1)
check "commit marks carry kafka positions" \
    sh -c 'printf "%s" "$1" | grep -q "\"position\":\"kafka:$2\.db\.t1/0@"' \
    sh "$last" "$PFX"
sum=$(printf '%s' "$last" | sed 's/.*"position":"kafka:\([^"]*\)".*/\1/' |
    tr ',' '\n' | sed 's/.*@//' | paste -sd+ | bc)
check_eq "positions count every record" "$sum" \
    $(($(wc -l <"$T/in.keys") + ddls))
[ "$sum" = $(($(wc -l <"$T/in.keys") + ddls)) ] || echo "$last" >&2

# A group that read to the end has nothing more to read.
rc=0
timeout 60 "$K2C" -q -p "$PFX" -g "$PFX-again" -e >"$T/first.avro" 2>&1 || rc=$?
timeout 60 "$K2C" -q -p "$PFX" -g "$PFX-again" -e >"$T/again.avro" 2>&1 || rc=$?
check_eq "rerun exits 0" "$rc" 0
check_eq "a finished group reads nothing again" \
    "$("$BIN/streamcat" "$T/again.avro" | grep -c '"kind":"change"')" 0

# Headers carry position and version.
hdr=$(kcat -b "$CDC_KAFKA_BROKERS" -C -t "$PFX.db.t1" -p 0 -o beginning \
    -c 1 -e -q -f '%h' 2>/dev/null)
check "headers carry position and version" sh -c \
    'printf "%s" "$1" | grep -Eq "^cdc.vp=[0-9]+ binlog:gen.000001:[0-9.]+$"' \
    sh "$hdr"
