#!/usr/bin/env bash
# binlog2avro live on table maps without column names: with the local
# MariaDB's binlog_row_metadata set to MINIMAL, then NO_LOG (a GLOBAL
# variable: restored in the trap, whatever happens), the names, the key,
# signedness, charsets and ENUM/SET values come from information_schema:
#  1. one workload of every type (b2a_diff.py's tables: signed and unsigned
#     integers, latin1 and utf8mb4 text, ENUM/SET, DECIMAL, DATETIME(6),
#     JSON, a composite key, no key; plus MariaDB's UUID/INET6 and a unique
#     key standing in for the primary key) written under FULL, MINIMAL and
#     NO_LOG gives the same changes and the same schemas, byte for byte,
#     read live from the start of each phase; information_schema is asked
#     once per table and phase, not per transaction; offline and with
#     --no-schema-lookup, columns are named by position as before;
#  2. a column added after the rows were written: the column count
#     disagrees, exit 65 with one line naming the table and both counts;
#     a column whose type changed: exit 65, DDL racing the stream;
#  3. a table dropped since, and a system-versioned table (hidden columns):
#     named by position, with a warning;
#  4. the server kills the lookup's connection: the next lookup reconnects.
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
HERE=$ROOT/tests/integration
DB=t1009_is_$$
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
export CDC_MYSQL_SERVER_ID=$((1300000000 + $$ % 100000))
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
orig=$(sql -N -B -e "SELECT @@global.binlog_row_metadata")
[ -n "$orig" ] || orig=FULL
# metadata VALUE: sets binlog_row_metadata for every session of the server
metadata() { sql -e "SET GLOBAL binlog_row_metadata = $1"; }
bpid=
cleanup() {
	local i
	# The shared server must get its setting back, even after a failure.
	for i in 1 2 3 4 5; do
		metadata "$orig" 2>/dev/null && break
		sleep 1
	done
	if [ -n "$bpid" ]; then
		kill "$bpid" 2>/dev/null || true
	fi
	sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

b2a() { "$BIN/binlog2avro" -I "$DB.*" "$@"; }
master() { sql -N -B -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' :; }

# ---- 1. the same workload under FULL, MINIMAL and NO_LOG -------------------

$PY "$HERE/b2a_infoschema.py" workload 1007 "$DB" 200 "$T/ddl.sql" "$T/dml.sql"
ntables=$(grep -c '^CREATE TABLE' "$T/ddl.sql")
tables=$(sed -n 's/^CREATE TABLE `\([^`]*\)`.*/\1/p' "$T/ddl.sql")
truncate() {
	local t
	for t in $tables; do
		echo "TRUNCATE TABLE \`$t\`;"
	done | sql "$DB"
}
sql <"$T/ddl.sql"
b1=$(master)
sql "$DB" <"$T/dml.sql"
truncate
b2=$(master)
metadata MINIMAL
sql "$DB" <"$T/dml.sql"
metadata "$orig"
truncate
b3=$(master)
metadata NO_LOG
sql "$DB" <"$T/dml.sql"
metadata "$orig"
b4=$(master)

for run in full:"$b1" minimal:"$b2" nolog:"$b3"; do
	name=${run%%:*}
	rc=0
	b2a -v --start "${run#*:}" --stop-at-end >"$T/$name.avro" 2>"$T/$name.err" || rc=$?
	check_eq "live from the $name phase (exit)$(grep error: "$T/$name.err" | head -n 1)" "$rc" 0
	"$BIN/streamcat" "$T/$name.avro" >"$T/$name.json"
done
$PY "$HERE/b2a_infoschema.py" same "$TNAME" "$b1 $b2 $b3 $b4" \
	0="$T/full.json" 1="$T/minimal.json" 2="$T/nolog.json" || true

# Column rules apply to the names information_schema gives: a run with
# rules from the FULL phase on equals one from the NO_LOG phase.
RULES=(--exclude-column "$DB.t_int.bigint*" --hash-column "$DB.t_str.id"
	--hash-column "$DB.t_str.c" --hash-column "$DB.t_comp.b")
for run in full:"$b1" nolog:"$b3"; do
	name=${run%%:*}-rules
	rc=0
	CDC_MASK_SALT=t1009 b2a --start "${run#*:}" --stop-at-end "${RULES[@]}" \
		>"$T/$name.avro" 2>"$T/$name.err" || rc=$?
	check_eq "live with column rules from the ${name%-rules} phase (exit)$(grep error: "$T/$name.err" | head -n 1)" "$rc" 0
	"$BIN/streamcat" "$T/$name.avro" >"$T/$name.json"
done
check_eq "the rules' schemas say what they masked" \
	"$(grep -c '"cdc.masked":"sha256"' "$T/nolog-rules.json" | sed 's/^0$/none/;s/^[1-9][0-9]*$/some/')" some
$PY "$HERE/b2a_infoschema.py" same "$TNAME: with column rules" "$b1 $b2 $b3 $b4" \
	0="$T/full-rules.json" 2="$T/nolog-rules.json" || true

# information_schema asked once per table and phase (TRUNCATE, a DDL,
# comes between the phases), not per transaction; DDL of other sessions on
# the shared server can add a few reads.
asked=$(grep -c "': columns read from information_schema" "$T/minimal.err" || true)
commits=$(grep -c '"kind":"commit"' "$T/minimal.json" || true)
if [ "$asked" -ge $((2 * ntables)) ] && [ "$asked" -le $((4 * ntables)) ] &&
	[ "$commits" -gt 300 ]; then
	t_ok "information_schema read $asked times for $ntables tables in 2 phases ($commits transactions)"
else
	t_fail "information_schema read once per table and phase" "$asked reads, $ntables tables, $commits transactions"
fi
warned=$(grep -c "DDL racing the stream can mislabel its columns" "$T/minimal.err" || true)
check_eq "one warning per table that DDL racing the stream can mislabel columns" "$warned" "$ntables"
if grep -q "columns named by position" "$T/minimal.err"; then
	t_fail "no table named by position live" "$(grep -m1 'by position' "$T/minimal.err")"
else
	t_ok "no table named by position live"
fi

# Offline, the same binlog: named by position, as before.
files() { # FROM TO: the binlog files from FROM's to TO's
	local f
	for f in $(ls "$CDC_MYSQL_BINLOG_DIR" | grep -E '\.[0-9]+$' | sort); do
		[[ "$f" < "${1%:*}" || "$f" > "${2%:*}" ]] && continue
		echo "$CDC_MYSQL_BINLOG_DIR/$f"
	done
}
rc=0
# shellcheck disable=SC2046
b2a -j "${b2##*:}" -k "${b3##*:}" $(files "$b2" "$b3") >"$T/offline.avro" \
	2>"$T/offline.err" || rc=$?
if [ "$rc" = 0 ] && "$BIN/streamcat" "$T/offline.avro" | grep -q '"cdc.name":"col_1"' &&
	[ "$(grep -c "named by position" "$T/offline.err")" = "$ntables" ]; then
	t_ok "offline, the MINIMAL phase is named by position (one warning per table)"
else
	t_fail "offline names by position" "exit $rc, $(grep -c "named by position" "$T/offline.err") warnings"
fi
rc=0
b2a --no-schema-lookup --start "$b3" --stop-at-end >"$T/nolookup.avro" \
	2>"$T/nolookup.err" || rc=$?
if [ "$rc" = 0 ] && "$BIN/streamcat" "$T/nolookup.avro" | grep -q '"cdc.name":"col_1"' &&
	! "$BIN/streamcat" "$T/nolookup.avro" | grep -q '"cdc.type":"[a-z]* unsigned"' &&
	! grep -q information_schema "$T/nolookup.err"; then
	t_ok "--no-schema-lookup: the NO_LOG phase by position, without signedness"
else
	t_fail "--no-schema-lookup" "exit $rc: $(head -n 2 "$T/nolookup.err")"
fi
check_fails "--no-schema-lookup with files" 64 "cannot use --no-schema-lookup" "$BIN/binlog2avro" \
	--no-schema-lookup "$T/offline.avro"

# ---- 2. DDL racing the stream: refused -------------------------------------

sql "$DB" -e "CREATE TABLE r_count (id INT PRIMARY KEY, v VARCHAR(10));
	CREATE TABLE r_type (id BIGINT PRIMARY KEY, v INT)"
b5=$(master)
metadata MINIMAL
sql "$DB" -e "INSERT INTO r_count VALUES (1, 'a'), (2, 'b')"
metadata "$orig"
sql "$DB" -e "ALTER TABLE r_count ADD COLUMN w INT"
b6=$(master)
metadata MINIMAL
sql "$DB" -e "INSERT INTO r_type VALUES (1, 1)"
metadata "$orig"
sql "$DB" -e "ALTER TABLE r_type MODIFY id VARCHAR(20)"
check_fails "a column added since the rows" 65 \
	"table '$DB.r_count' has 2 columns in its table map but 3 in information_schema: the table changed after this event (DDL racing the stream)" "$BIN/binlog2avro" \
	-I "$DB.r_count" --start "$b5" --stop-at-end
check_eq "the refusal is one line (errors/warnings)" \
	"$(grep -c 'error:' "$T/check.out")/$(grep -c 'warning:' "$T/check.out")" "1/0"
check_fails "a column's type changed since the rows" 65 \
	"table '$DB.r_type': column 1 is bigint in the table map but 'id' varchar(20) in information_schema: the table changed after this event (DDL racing the stream)" "$BIN/binlog2avro" \
	-I "$DB.r_type" --start "$b6" --stop-at-end
rc=0
"$BIN/binlog2avro" --no-schema-lookup -I "$DB.r_count" --start "$b5" \
	--stop-at-end >/dev/null 2>&1 || rc=$?
check_eq "--no-schema-lookup reads them by position (exit)" "$rc" 0

# ---- 3. not in information_schema: by position, with a warning -------------

sql "$DB" -e "CREATE TABLE gone (id INT PRIMARY KEY, v INT);
	CREATE TABLE sv (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING"
b7=$(master)
metadata MINIMAL
sql "$DB" -e "INSERT INTO gone VALUES (1, 1); INSERT INTO sv VALUES (1, 1)"
metadata "$orig"
sql "$DB" -e "DROP TABLE gone"
rc=0
"$BIN/binlog2avro" -I "$DB.gone" -I "$DB.sv" --start "$b7" --stop-at-end >"$T/pos.avro" \
	2>"$T/pos.err" || rc=$?
if [ "$rc" = 0 ] &&
	grep -q "table '$DB.gone' is not in information_schema (dropped since" "$T/pos.err" &&
	grep -q "table '$DB.sv' is system-versioned: its hidden columns are not in information_schema" "$T/pos.err" &&
	[ "$("$BIN/streamcat" "$T/pos.avro" | grep -c '"kind":"change".*"col_1":1')" = 2 ]; then
	t_ok "a dropped and a system-versioned table: by position, with a warning"
else
	t_fail "dropped and system-versioned tables" "exit $rc: $(grep -v info: "$T/pos.err" | head -n 2)"
fi

# ---- 4. the lookup's connection dropped: reopened at the next lookup -------

sql "$DB" -e "CREATE TABLE k1 (id INT PRIMARY KEY, v VARCHAR(5))"
b8=$(master)
metadata MINIMAL
sql "$DB" -e "INSERT INTO k1 VALUES (1, 'a')"
metadata "$orig"
"$BIN/binlog2avro" -v -I "$DB.k*" --start "$b8" --heartbeat 200 \
	>"$T/k.avro" 2>"$T/k.err" &
bpid=$!
# until_stream PATTERN: waits (30 s at most) for PATTERN in the stream
until_stream() {
	local i
	for i in $(seq 1 150); do
		"$BIN/streamcat" "$T/k.avro" 2>/dev/null | grep -q "$1" && return 0
		sleep 0.2
	done
	return 1
}
until_stream '"after":{"id":1,"v":"a"}' || true
# The server ends the lookup's connection (the idle one of binlog2avro's).
cid=
for port in $(ss -tnpH "dport = :$CDC_MYSQL_PORT" | grep "pid=$bpid," |
	awk '{print $4}' | sed 's/.*://'); do
	cid=$cid$(sql -N -B -e "SELECT ID FROM information_schema.PROCESSLIST
		WHERE HOST = '127.0.0.1:$port' AND COMMAND = 'Sleep'")
done
if [ -n "$cid" ] && sql -e "KILL CONNECTION $cid"; then
	t_ok "the server kills the lookup's connection"
else
	t_fail "killing the lookup's connection" "id '$cid'"
fi
sql "$DB" -e "CREATE TABLE k2 (id INT PRIMARY KEY, w INT UNSIGNED)"
metadata MINIMAL
sql "$DB" -e "INSERT INTO k2 VALUES (1, 4000000000)"
metadata "$orig"
until_stream '"after":{"id":1,"w":4000000000}' || true
kill -TERM "$bpid"
rc=0
wait "$bpid" || rc=$?
if [ "$rc" = 0 ] && until_stream '"after":{"id":1,"w":4000000000}' &&
	grep -q "information_schema connection: .*; reconnecting" "$T/k.err" &&
	! grep -q "connection lost\|error:" "$T/k.err"; then
	t_ok "the next lookup reconnects; the stream goes on"
else
	t_fail "reconnecting the lookup" "exit $rc: $(grep -v 'debug: .*unknown event' "$T/k.err" | tail -n 3 | tr '\n' ' ')"
fi
