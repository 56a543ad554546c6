#!/usr/bin/env bash
# binlog2avro against Debezium itself (its MariaDB connector, 3.5.0.Final,
# in its embedded engine: bench/DebeziumRunner.java, installed by
# scripts/deps) on one workload of every column type (b2a_diff.py's, full
# row images), both reading the same binlog range of the local MariaDB:
#  1. every change's op, before, after (column by column, in one canonical
#     form) and source coordinates agree, with Debezium's defaults and with
#     bigint.unsigned.handling.mode=precise; every difference is one that
#     docs/binlog2avro.md ("Debezium") explains (dbz_compare.py's KNOWN),
#     any other fails;
#  2. as many tombstones on both sides;
#  3. a MINIMAL row image: binlog2avro decodes it, Debezium stops;
#  4. MariaDB's UUID, INET4 and INET6 columns: binlog2avro needs no DDL
#     parser and decodes them, Debezium's parser refuses the CREATE TABLE.
. "$(dirname "$0")/lib.sh"
need_stack
. "$ROOT/bench/debezium-lib.sh"
PY=/usr/bin/python3
DB=t6001_$$
SEED=${T6001_SEED:-6001}
NOPS=${T6001_OPS:-300}
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
trap 'sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
master() { sql -N -B -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' :; }

if ! dbz_ready; then
	t_fail debezium "not installed in $DBZ_HOME (scripts/deps installs it)"
	exit 1
fi

sql -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4"
id=$((1600000000 + $$ % 100000))
dbz_setup "$T/defaults" "$DB" "$id"
DBZ_EXTRA="bigint.unsigned.handling.mode=precise" dbz_setup "$T/precise" "$DB" $((id + 1))
for s in defaults precise; do
	check "Debezium ($s) starts on the binlog's end" dbz_prime "$T/$s"
done
START=$(master)
# Debezium reads the tables' DDL from the binlog, with its parser.
$PY "$ROOT/tests/integration/b2a_diff.py" sql "$SEED" "$DB" "$NOPS" full |
	grep -v '^CREATE DATABASE' >"$T/workload.sql"
check "workload of seed $SEED, every column type" sql -e "source $T/workload.sql"
stop=$(dbz_stop_row)

"$BIN/binlog2avro" --start "$START" --stop-at-end -I "$DB.*" -x "$DB.$DBZ_STOP_TABLE" \
	2>"$T/b2a.err" | "$BIN/streamcat" >"$T/ours.json"
check_eq "binlog2avro reads the range" "${PIPESTATUS[0]}" 0
for s in defaults precise; do
	rc=0
	dbz_read "$T/$s" "$T/dbz-$s.json" "$stop" 2>"$T/$s.err" || rc=$?
	check_eq "Debezium ($s) reads the range: $(tail -n 1 "$T/$s.err" | cut -c1-60)" "$rc" 0
	$PY "$ROOT/tests/integration/dbz_compare.py" "$T/ours.json" "$T/dbz-$s.json" "$s" ||
		true # its lines are the checks
done

# A partial row image, as binlog_row_image=MINIMAL writes it.
START=$(master)
sql "$DB" -e "SET SESSION binlog_row_image = 'MINIMAL'; UPDATE t_int SET nn = nn + 1 LIMIT 1"
stop=$(dbz_stop_row)
n=$("$BIN/binlog2avro" --start "$START" --stop-at-end -I "$DB.t_int" 2>/dev/null |
	"$BIN/streamcat" | grep -c '"op":"u"')
check_eq "binlog2avro decodes a MINIMAL image" "$n" 1
rc=0
DBZ_TIMEOUT=120 dbz_read "$T/defaults" /dev/null "$stop" >"$T/minimal.err" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q 'row size' "$T/minimal.err"; then
	t_ok "Debezium stops on a MINIMAL image (exit $rc: it needs binlog_row_image=FULL)"
else
	t_fail "Debezium on a MINIMAL image" "exit $rc: $(grep -m 1 -i 'error' "$T/minimal.err")"
fi

# MariaDB's own types: binlog2avro reads the table map, Debezium parses DDL
# (a Debezium of its own: the others stopped at the MINIMAL image).
dbz_setup "$T/maria" "$DB" $((id + 2))
check "Debezium (defaults, again) starts on the binlog's end" dbz_prime "$T/maria"
START=$(master)
sql "$DB" -e "CREATE TABLE t_maria (id INT PRIMARY KEY, u UUID, i4 INET4, i6 INET6);
	INSERT INTO t_maria VALUES (1, '123e4567-e89b-12d3-a456-426614174000',
	'192.168.0.1', '2001:db8::ff00:42:8329')"
stop=$(dbz_stop_row)
got=$("$BIN/binlog2avro" --start "$START" --stop-at-end -I "$DB.t_maria" 2>/dev/null |
	"$BIN/streamcat" | $PY -c 'import json, sys
for l in sys.stdin:
    f = json.loads(l)
    if f["kind"] == "change" and f["value"]:
        a = f["value"]["after"]
        print(" ".join(a[k].encode("latin-1").hex() for k in ("u", "i4", "i6")))')
check_eq "binlog2avro decodes UUID, INET4 and INET6 (their stored bytes)" "$got" \
	"123e4567e89b12d3a456426614174000 c0a80001 20010db8000000000000ff0000428329"
rc=0
DBZ_TIMEOUT=120 dbz_read "$T/maria" /dev/null "$stop" >"$T/maria.err" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q "couldn't be parsed" "$T/maria.err"; then
	t_ok "Debezium's DDL parser refuses UUID/INET4/INET6 columns (exit $rc)"
else
	t_fail "Debezium on UUID/INET4/INET6" "exit $rc: $(grep -m 1 -i 'error' "$T/maria.err")"
fi
