#!/usr/bin/env bash
# Which of the project's schema changes the stack's registry (Hortonworks
# 0.9.1, default compatibility BACKWARD, which it enforces) accepts, table
# by table: binlog2avro's schemas of each ALTER TABLE, before and after,
# registered by avro2kafka --schema-registry. docs/kafka.md
# ("Compatibility") lists the same cases. A refused change stops avro2kafka
# with exit 65, the subject and the registry's message, and nothing of the
# refused schema is produced.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"
need_confluent
db=${PFX}_c
sql() { MYSQL_PWD=$CDC_MYSQL_PASSWORD mariadb --no-defaults -h "$CDC_MYSQL_HOST" \
    -P "$CDC_MYSQL_PORT" -u "$CDC_MYSQL_USER" "$@"; }
trap 'sql -e "DROP DATABASE IF EXISTS $db" 2>/dev/null; rm -rf "$T"' EXIT
sql -e "CREATE DATABASE $db"

# case NAME WANT COLUMNS ALTER: a table NAME (id, COLUMNS), a row, the
# ALTER TABLE clause, a row; avro2kafka must exit WANT.
case_() {
	local name=$1 want=$2 cols=$3 alter=$4 start rc=0
	start=$(sql -N -B -e 'SHOW MASTER STATUS' | awk '{print $1 ":" $2}')
	sql "$db" -e "CREATE TABLE $name (id INT PRIMARY KEY, $cols);
	    INSERT INTO $name (id) VALUES (1);
	    ALTER TABLE $name $alter;
	    INSERT INTO $name (id) VALUES (2);"
	"$BIN/binlog2avro" -q -i 4714 -p "$PFX" --include "$db.$name" --start "$start" \
	    -e >"$T/$name.avro" 2>"$T/$name.b2a" ||
	    { t_fail "$name" "binlog2avro: $(head -c 300 "$T/$name.b2a")"; return; }
	"$A2K" -q -p "$PFX" -U "$REG" -w 10 <"$T/$name.avro" \
	    2>"$T/$name.err" || rc=$?
	check_eq "$name: $alter: exit $want $(head -c 200 "$T/$name.err")" \
	    "$rc" "$want"
	if [ "$want" = 65 ]; then
		check "$name: names the subject and the registry's message" \
		    grep -q "$PFX.$db.$name-value.*ncompatible" "$T/$name.err"
		# (A new group can take longer to join than the reader waits.)
		for try in 1 2 3 4 5; do
			timeout 120 "$PY" "$ROOT/tests/integration/confluent_read.py" \
			    "$CDC_KAFKA_BROKERS" "$REG" "$PFX.$db.$name" \
			    "$PFX-$name-$try" >"$T/$name.json" 2>"$T/$name.py" || true
			[ -s "$T/$name.json" ] && break
		done
		check "$name: the row before is in Kafka, the one after not" \
		    sh -c 'grep -q "\"id\": 1" "$1" && ! grep -q "\"id\": 2" "$1"' \
		    sh "$T/$name.json"
	fi
}

case_ add_null 0 "v INT" "ADD COLUMN w VARCHAR(10) NULL"
case_ add_default 65 "v INT" "ADD COLUMN w INT NOT NULL DEFAULT 5"
case_ drop_col 0 "v INT, w INT" "DROP COLUMN w"
case_ int_bigint 0 "v INT" "MODIFY v BIGINT"
case_ float_double 0 "v FLOAT" "MODIFY v DOUBLE"
case_ nullable 0 "v INT NOT NULL DEFAULT 0" "MODIFY v INT NULL"
case_ bigint_int 65 "v BIGINT" "MODIFY v INT"
case_ int_varchar 65 "v INT" "MODIFY v VARCHAR(10)"
case_ not_null 65 "v INT NULL DEFAULT 3" "MODIFY v INT NOT NULL DEFAULT 0"
