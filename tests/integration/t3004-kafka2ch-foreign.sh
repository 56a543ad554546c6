#!/usr/bin/env bash
# kafka2ch --schema-registry on topics that a producer nobody here wrote
# filled: confluent-kafka-python's AvroSerializer with Debezium-shaped
# envelopes (debezium_produce.py: snapshot reads, inserts, updates,
# deletes with tombstones, a key change, a keyless table with duplicate
# rows, a column added mid-stream, and a keyed table over 3 partitions).
# Its records have no cdc headers and its schemas no cdc.* attributes;
# kafka2ch | chload must leave in ClickHouse exactly the rows the producer
# says the tables hold, and a second run from the first offset (a replay)
# must change nothing.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"
need_confluent
CHDB=${PFX}_shop
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
trap 'ch "DROP DATABASE IF EXISTS \`$CHDB\`" >/dev/null 2>&1; rm -rf "$T"' EXIT

rc=0
timeout 120 "$PY" "$ROOT/tests/integration/debezium_produce.py" \
    "$CDC_KAFKA_BROKERS" "$REG" "$PFX" shop 3 >"$T/want.tsv" \
    2>"$T/py.err" || rc=$?
check_eq "confluent-kafka-python produces Debezium envelopes" "$rc" 0
[ "$rc" = 0 ] || { sed 's/^/# /' "$T/py.err" | tail -n 5; exit 1; }

# load NAME GROUP: kafka2ch from the first offset of a new group, to the
# end, into chload.
load() {
	set +e
	timeout 180 "$K2C" -p "$PFX" -g "$2" -e -U "$REG" 2>"$T/$1.k2c" |
	    tee "$T/$1.avro" |
	    "$BIN/chload" --db-prefix "${PFX}_" >"$T/$1.out" 2>"$T/$1.err"
	local st=("${PIPESTATUS[@]}")
	set -e
	check_eq "$1: kafka2ch | chload exit 0 0 $(grep -v ': info: ' \
	    "$T/$1.k2c" "$T/$1.err" | tail -n 2 | tr '\n' ' ')" \
	    "${st[0]} ${st[2]}" "0 0"
}

# got: the tables' rows as debezium_produce.py renders them.
got() {
	local cols="id, name, toString(price), toString(created),
	    toString(updated), flag, qty"
	{
		ch "SELECT 'items', $cols, note FROM \`$CHDB\`.\`items_current\`"
		ch "SELECT 'log', $cols FROM \`$CHDB\`.\`log_current\`"
		ch "SELECT 'many', $cols FROM \`$CHDB\`.\`many_current\`"
	} | LC_ALL=C sort
}

load first "$PFX-g1"
check "every change came through" sh -c \
    '[ "$("$1" "$2" | grep -c "\"kind\":\"change\"")" -ge 130 ]' \
    sh "$BIN/streamcat" "$T/first.avro"
check "positions are the records' Kafka coordinates" grep -q \
    "\"position\":\"kafka:$PFX.shop.many/2@" <("$BIN/streamcat" "$T/first.avro")
check "the envelope got cdc.database, cdc.table and cdc.key" grep -q \
    '"cdc.key":1' <("$BIN/streamcat" "$T/first.avro")
got >"$T/got.tsv"
LC_ALL=C sort "$T/want.tsv" >"$T/want.sorted"
check "ClickHouse holds what the producer sent ($(wc -l <"$T/want.tsv") rows)" \
    diff "$T/want.sorted" "$T/got.tsv"
check_eq "the column added mid-stream is there" \
    "$(ch "SELECT note FROM \`$CHDB\`.\`items_current\` WHERE id = 5")" "fünf"

# A replay (a new group reads everything again) changes nothing.
load replay "$PFX-g2"
got >"$T/got2.tsv"
check "a replay leaves the same rows" diff "$T/want.sorted" "$T/got2.tsv"
# 6 schemas: items' key and two values, log's value, many's key and value.
check_eq "the registry was asked once per schema, not per record" \
    "$(grep -o 'registry=[0-9]*' "$T/replay.k2c" | tail -n 1)" "registry=6"
