#!/usr/bin/env bash
# binlog2avro's output read by an independent decoder: Apache Avro's Python
# library (python3-avro) reads the container in each codec, checks the
# announced fingerprints and decodes every single-object key and value with
# its announced schema (b2a_python.py); each frame must equal streamcat's.
# Fixtures with many types: MariaDB's all-types table (DECIMAL(65,30), BIT(64),
# fractional DATETIME/TIME/TIMESTAMP, GEOMETRY, 70 KB BLOB), its compressed
# events and partial images, MySQL JSON, VECTOR, zstd transaction payloads,
# and the 47 000-row Sakila binlog.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
HERE=$ROOT/tests/integration

need_fixture "$FIX"

# one LABEL CODEC FILE: decode, read with streamcat and with python3-avro
one() {
	local label=$1 codec=$2 f=$3 rc=0
	"$BIN/binlog2avro" -q -Z "$codec" "$f" >"$T/s.avro" 2>"$T/err" || rc=$?
	if [ "$rc" != 0 ]; then
		t_fail "$label ($codec): binlog2avro" "exit $rc: $(tail -n 1 "$T/err")"
		return
	fi
	rc=0
	"$BIN/streamcat" "$T/s.avro" >"$T/s.json" 2>"$T/err" || rc=$?
	if [ "$rc" != 0 ]; then
		t_fail "$label ($codec): streamcat" "exit $rc: $(tail -n 1 "$T/err")"
	fi
	$PY "$HERE/b2a_python.py" "$TNAME" "$label ($codec)" "$T/s.avro" "$T/s.json" || true
}

L=$FIX/local-mariadb-10.11.19
for codec in null deflate zstandard; do
	one "local-mariadb-10.11.19/mariadb-bin.000001" "$codec" "$L/mariadb-bin.000001"
done
one "local-mariadb-10.11.19/mariadb-bin.000003" deflate "$L/mariadb-bin.000003"
one "local-mariadb-10.11.19/mariadb-bin.000005" zstandard "$L/mariadb-bin.000005"
one "MySqlCdc/mysql-bin.000001" null "$FIX/MySqlCdc/mysql-bin.000001"
one "rust_mysql_common/json-opaque.binlog" null "$FIX/rust_mysql_common/json-opaque.binlog"
one "rust_mysql_common/vector.binlog" deflate "$FIX/rust_mysql_common/vector.binlog"
one "rust_mysql_common/mysql-enum-string-set.000001" null "$FIX/rust_mysql_common/mysql-enum-string-set.000001"
one "mysql-binlog-connector-rust/mysql-bin.000057" zstandard "$FIX/mysql-binlog-connector-rust/mysql-bin.000057"
one "go-mysql/tcb-eval002c-bin.003320" null "$FIX/go-mysql/tcb-eval002c-bin.003320"
gzip -dc "$FIX/mysql-binlog-connector-java/mysql-bin.sakila.gz" >"$T/mysql-bin.sakila"
one "mysql-binlog-connector-java/mysql-bin.sakila" deflate "$T/mysql-bin.sakila"
