#!/usr/bin/env bash
# binlog2avro against mariadb-binlog on the local MariaDB: a random workload
# (b2a_diff.py, seed B2A_SEED) over tables of every column type runs between
# two FLUSH BINARY LOGS; the binlog files in between are decoded by
# `mariadb-binlog --verbose --base64-output=decode-rows` and by
# `binlog2avro | streamcat`, and every row value, the row order and the op
# kinds must agree (a primary-key change is a delete and a create). Our
# changes replayed in order must then give the tables as SELECT shows them.
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
DIFF=$ROOT/tests/integration/b2a_diff.py
SEED=${B2A_SEED:-1002}
NOPS=${B2A_OPS:-700}
DB=t1_diff_$$
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
cleanup() {
	sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

MBL=$(command -v mariadb-binlog || command -v mysqlbinlog || true)
if [ -z "$MBL" ]; then
	t_fail mariadb-binlog "not installed"
	exit 1
fi

active() { sql -N -B -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1; }

$PY "$DIFF" sql "$SEED" "$DB" "$NOPS" >"$T/workload.sql"
first=$(active)
rc=0
sql <"$T/workload.sql" >"$T/sql.out" 2>"$T/sql.err" || rc=$?
last=$(active)
if [ "$rc" != 0 ]; then
	t_fail "workload (seed $SEED) runs" "exit $rc: $(tail -n 2 "$T/sql.err")"
	exit 1
fi
t_ok "workload of seed $SEED: $NOPS operations on $DB"

# The closed files from the one made active by the first flush up to the one
# before the file active after the second.
mapfile -t files < <(binlog_files "$first" "$last")

# step NAME OUT CMD...: CMD, with stdout in OUT and stderr in OUT.err, exits 0
step() {
	local name=$1 out=$2 rc=0
	shift 2
	"$@" >"$out" 2>"$out.err" || rc=$?
	if [ "$rc" = 0 ]; then
		t_ok "$name"
	else
		t_fail "$name" "exit $rc: $(grep -v ': info: ' "$out.err" | tail -n 2 | tr '\n' ' ')"
	fi
}
step "binlog2avro decodes the ${#files[@]} binlog file(s)" "$T/out.avro" "$BIN/binlog2avro" --include-query --query-max-bytes 16777216 "${files[@]}"
step "streamcat reads the stream" "$T/out.json" "$BIN/streamcat" "$T/out.avro"
step "mariadb-binlog decodes them" "$T/vv.txt" \
	"$MBL" --verbose --verbose --base64-output=decode-rows "${files[@]}"
$PY "$DIFF" selects "$DB" | sql -N -B >"$T/dump.tsv"

$PY "$DIFF" check "$TNAME" "$DB" "$T/workload.sql" "$T/vv.txt" "$T/out.json" "$T/dump.tsv" || true
# B2A_KEEP=DIR keeps the workload, the decodings and the dump for a look
if [ -n "${B2A_KEEP:-}" ]; then
	mkdir -p "$B2A_KEEP" && cp "$T"/* "$B2A_KEEP"/
fi
