#!/usr/bin/env bash
# chload end to end on real binlog2avro output, compared value by value with
# MariaDB by scripts/cdc-verify (row counts, a checksum per row over every
# column, each type rendered alike on both sides):
#
# 1. The recorded binlogs of tests/fixtures/binlog/local-mariadb-10.11.19
#    (every MariaDB type at its edges, MINIMAL column metadata, MINIMAL and
#    NOBLOB row images, a keyless table, truncate, drop), loaded in two runs
#    (files 1-4, then 5-6), against the same statements of the fixture's .sql
#    run here. t_stmt is left out: its rows were written by statement-based
#    replication, which binlog2avro reports and does not decode.
# 2. A live workload on the local MariaDB between two FLUSH BINARY LOGS: a
#    table of every type at its edges, keys of every kind completed under
#    MINIMAL images (key changes too), a keyless table with duplicate rows,
#    then b2a_diff.py's random workload (seed T4005_SEED, T4005_OPS
#    operations); decoded with --include, loaded, compared; loaded again
#    (a replay) and compared again. Keyless changes must have a version each.
#
# Both on ClickHouse 18.16 and 26.9; the types differ (DateTime64 on 26.9),
# the values compared by cdc-verify do not.
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
SEED=${T4005_SEED:-4005}
NOPS=${T4005_OPS:-700}
FX=$FIX/local-mariadb-10.11.19
need_fixture "$FX/01_row_full_metadata_crc32.sql"
MYDB=t4x_fx_$$
LIVE=t4x_e2e_$$
PFX=t4x_$$_
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
cleanup() {
	sql -e "DROP DATABASE IF EXISTS \`$MYDB\`; DROP DATABASE IF EXISTS \`$LIVE\`" >/dev/null 2>&1 || true
	ch "DROP DATABASE IF EXISTS \`${PFX}fx\`" >/dev/null 2>&1 || true
	ch "DROP DATABASE IF EXISTS \`$PFX$LIVE\`" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
verify() { "$ROOT/scripts/cdc-verify" "$@"; }

# The statements of the fixture's .sql that make the row tables, in database
# $MYDB: no server settings, binlog flushes, statement-based t_stmt or
# sequence.
fx_sql() {
	$PY - "$MYDB" "$@" <<'PYEOF'
import re, sys
db, paths = sys.argv[1], sys.argv[2:]
text = "\n".join(open(p, encoding="utf-8").read() for p in paths)
text = "\n".join(l for l in text.splitlines() if not l.startswith("--"))
keep = re.compile(r"^(SET timestamp=|BEGIN$|COMMIT$|ROLLBACK$|"
                  r"CREATE TABLE (t_types|t_nopk|t_myisam|t_comp)\b|"
                  r"(INSERT INTO|UPDATE|DELETE FROM) (t_types|t_nopk|t_myisam|t_comp)\b|"
                  r"TRUNCATE TABLE t_nopk$|DROP TABLE t_myisam$)", re.S)
print("SET time_zone = '+00:00';\nCREATE DATABASE IF NOT EXISTS `%s` "
      "CHARACTER SET utf8mb4;\nUSE `%s`;" % (db, db))
for st in re.split(r";\s*\n|;\s*(?=BEGIN|XA|INSERT|ROLLBACK)", text):
    st = st.strip()
    for part in re.split(r";\s+", st) if st.startswith("BEGIN;") else [st]:
        part = part.strip().rstrip(";")
        if part and keep.match(part):
            print(part + ";")
PYEOF
}

# load NAME FILE...: binlog2avro FILE... | chload, both exits checked.
load() {
	local name=$1 rc=0
	shift
	set +e
	"$BIN/binlog2avro" "$@" 2>"$T/$name.b2a" | "$BIN/chload" --db-prefix "$PFX" \
		--apply-drops --dead-letter "$T/$name.dead" >"$T/$name.out" 2>"$T/$name.err"
	local st=("${PIPESTATUS[@]}")
	set -e
	check_eq "$name: binlog2avro | chload exits 0 0 $(grep -v ': info: ' "$T/$name.err" | tail -n 2 | tr '\n' ' ')" "${st[*]}" "0 0"
}

# ---- 1. The recorded fixture --------------------------------------------

fx_sql "$FX/01_row_full_metadata_crc32.sql" "$FX/02_compressed_nochecksum_minimal.sql" >"$T/fx12.sql"
fx_sql "$FX/03_statement_mixed_xa_minimal_image.sql" >"$T/fx3.sql"
check "fixture statements of phases 1-2 run" sql -e "source $T/fx12.sql"
load fx1 "$FX"/mariadb-bin.00000{1,2,3,4}
verify --ch-database "${PFX}fx" "$MYDB" >"$T/v1" 2>&1 || true
check_eq "files 1-4 equal MariaDB" "$(cat "$T/v1")" "ok $MYDB.t_comp: 1 rows equal (ClickHouse columns named by position)
ok $MYDB.t_myisam: 2 rows equal
ok $MYDB.t_nopk: 2 rows equal
ok $MYDB.t_types: 3 rows equal"
dt0_type=$(on 18.16 && echo "DateTime('UTC')" || echo "DateTime64(0, 'UTC')")
check "out-of-range DATETIME and DATE widen the columns" \
	grep -q "column 'dt0': 1000-01-01 00:00:00.000000 is outside the range of Nullable($dt0_type).*widening" "$T/fx1.err"
check "positional columns of file 3 are read by name" \
	grep -q "'fx.t_types': columns named by position in the binlog are read as the columns of" "$T/fx1.err"
# 18.16: Decimal(18, p) seconds; 26.9: DateTime64(p), except dt6, which a
# value outside 1900..2299 widened to Decimal(18, 6).
check_eq "fractional DATETIME/TIMESTAMP are exact ($ENGINE)" \
	"$(ch "SELECT dt3, dt6, ts4, toDateTime(toUInt32(dt6), 'UTC') FROM \`${PFX}fx\`.t_types_current WHERE id = 2 FORMAT TabSeparated")" \
	"$(if on 18.16; then printf '951825600.500\t951825600.000001\t951825600.0001\t2000-02-29 12:00:00'
	else printf '2000-02-29 12:00:00.500\t951825600.000001\t2000-02-29 12:00:00.0001\t2000-02-29 12:00:00'; fi)"

check "fixture statements of phase 3 run" sql -e "source $T/fx3.sql"
load fx2 "$FX"/mariadb-bin.00000{5,6}
verify --ch-database "${PFX}fx" "$MYDB" >"$T/v2" 2>&1 || true
check_eq "files 5-6 (a second run) equal MariaDB" "$(cat "$T/v2")" "ok $MYDB.t_comp: 1 rows equal (ClickHouse columns named by position)
ok $MYDB.t_nopk: 0 rows equal
ok $MYDB.t_types: 3 rows equal"
check "the NOBLOB update of t_types is completed from ClickHouse" \
	grep -q ' completed=1 ' "$T/fx2.err"
check_eq "t_myisam dropped as the source did" "$(ch "EXISTS TABLE \`${PFX}fx\`.t_myisam")" 0
# The one rejected row: a MINIMAL update of a t_stmt row that statement-based
# replication wrote, so it was never loaded.
check_eq "dead letters: the update of a row never loaded" "$(sed -E 's/,"row":.*//' "$T/fx2.dead")" \
	'{"database":"fx","table":"t_stmt","version":21990235080704,"error":"a partial row image (columns absent) of a row that is not in ClickHouse"'
check "no dead letters in the first run" test ! -s "$T/fx1.dead"

# ---- 2. A live workload ------------------------------------------------------

cat >"$T/edge.sql" <<EOF
SET NAMES utf8mb4;
SET SESSION sql_mode = '';
SET SESSION time_zone = '+00:00';
CREATE DATABASE \`$LIVE\` CHARACTER SET utf8mb4;
USE \`$LIVE\`;
CREATE TABLE t_edge (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  d1 DECIMAL(10,2), d2 DECIMAL(38,10), d3 DECIMAL(65,30), du DECIMAL(5,0) UNSIGNED,
  f FLOAT, db DOUBLE, b1 BIT(1), b64 BIT(64), y YEAR,
  dte DATE, dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  tm0 TIME, tm6 TIME(6),
  c CHAR(5), vc VARCHAR(40), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(20), bl BLOB,
  e ENUM('a','b''c','x y'), s SET('p','q','r'), js JSON,
  g GEOMETRY, pt POINT, ls LINESTRING, pg POLYGON,
  uu UUID, i4 INET4, i6 INET6
) ENGINE=InnoDB;
INSERT INTO t_edge VALUES
 (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 18446744073709551615,
  -99999999.99, 9999999999999999999999999999.9999999999,
  -99999999999999999999999999999999999.999999999999999999999999999999, 99999,
  -3.40282e38, 1.7976931348623157e308, 1, b'1111111111111111111111111111111111111111111111111111111111111111', 2155,
  '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999', '1969-12-31 23:59:59.999999',
  '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',
  '-838:59:59', '838:59:59.000000',
  'ab  ', 'héllo € 😀', 'tab\there\nnl \\\\ ''q''', 'café',
  0x00FF, 0x0001FEFF, REPEAT(0xAB, 70000),
  'b''c', 'p,r', '{"k": [1, 2.5, null, true], "s": "é"}',
  ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0))', 4326), ST_GeomFromText('POINT(1.5 -2)'),
  ST_GeomFromText('LINESTRING(0 0,1 1)'), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'),
  '123e4567-e89b-12d3-a456-426614174000', '255.255.255.255', 'ffff::1'),
 (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0,
  0.01, -0.0000000001, 0, 0, 1.17549e-38, 5e-324, 0, 0, 0,
  '9999-12-31', '9999-12-31 23:59:59', '1970-01-01 00:00:00.001', '9999-12-31 23:59:59.999999',
  '2038-01-19 03:14:07', '1970-01-01 00:00:00.000001',
  '838:59:59', '-00:00:00.000001',
  '', '', '', '', 0x00000000, '', '', '', '', '[]',
  ST_GeomFromText('GEOMETRYCOLLECTION(POINT(0 0))'), ST_GeomFromText('POINT(0 0)', 3857), NULL, NULL,
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '0.0.0.0', '::'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1901,
  '0000-00-00', '0000-00-00 00:00:00', '2024-00-10 00:00:00', '0000-01-01 00:00:00.5',
  '0000-00-00 00:00:00', NULL, '00:00:00', '00:00:00', 'x', 'y', 'z', 'w',
  0x01, 0x02, 0x03, '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE t_edge SET f = -0.0, db = -0.0, vc = 'updated', dt6 = '2106-02-07 06:28:16.000001' WHERE id = 2;
UPDATE t_edge SET id = 5 WHERE id = 4;
CREATE TABLE t_keys (d DATE NOT NULL, dt DATETIME(6) NOT NULL, ts TIMESTAMP NOT NULL DEFAULT '2000-01-01',
  b VARBINARY(8) NOT NULL, c CHAR(3) CHARACTER SET latin1 NOT NULL, n DECIMAL(20,4) NOT NULL,
  e ENUM('x','y z') NOT NULL, u BIGINT UNSIGNED NOT NULL, fl DOUBLE NOT NULL, bt BIT(3) NOT NULL,
  v VARCHAR(20), w TEXT, PRIMARY KEY (d, dt, ts, b, c, n, e, u, fl, bt)) ENGINE=InnoDB;
INSERT INTO t_keys VALUES
 ('2000-02-29', '2024-01-02 03:04:05.123456', '2001-01-01', 0x00FF27, 'ab\'', -12345678.9012, 'y z', 18446744073709551615, -1.5, b'101', 'one', 'blob one'),
 ('1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:01', '', '', 0, 'x', 0, 0.1, 0, 'two', 'blob two'),
 ('2105-12-31', '2105-12-31 23:59:59.999999', '2038-01-19 03:14:07', 0x5C5C, '\\\\', 99.5, 'x', 1, 1e300, b'111', 'three', 'blob three');
CREATE TABLE t_nk (a INT, b VARCHAR(10), c DOUBLE) ENGINE=InnoDB;
INSERT INTO t_nk VALUES (1, 'x', 0.5), (1, 'x', 0.5), (1, 'x', 0.5), (2, NULL, NULL), (2, NULL, NULL);
DELETE FROM t_nk WHERE a = 1 LIMIT 1;
UPDATE t_nk SET c = 1.5 WHERE a = 2 LIMIT 1;
SET SESSION binlog_row_image = 'MINIMAL';
UPDATE t_edge SET vc = 'minimal', tm6 = '01:02:03.000004' WHERE id = 1;
UPDATE t_keys SET v = CONCAT(v, ' minimal');
UPDATE t_keys SET b = 0x01, w = 'key changed' WHERE c = '';
UPDATE t_keys SET n = n + 1 WHERE e = 'y z';
UPDATE t_nk SET b = 'minimal' WHERE a = 2;
INSERT INTO t_nk (a) VALUES (3);
DELETE FROM t_nk WHERE a = 1 LIMIT 1;
SET SESSION binlog_row_image = 'NOBLOB';
UPDATE t_edge SET vc = 'noblob' WHERE id IN (1, 2);
UPDATE t_keys SET v = 'noblob' WHERE u = 1;
SET SESSION binlog_row_image = 'FULL';
EOF
$PY "$ROOT/tests/integration/b2a_diff.py" sql "$SEED" "$LIVE" "$NOPS" |
	sed "s/^CREATE DATABASE \`$LIVE\`/USE \`$LIVE\`; -- /" >"$T/random.sql"

active() { sql -N -B -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1; }
first=$(active)
rc=0
{ cat "$T/edge.sql" "$T/random.sql"; } | sql >"$T/sql.out" 2>"$T/sql.err" || rc=$?
last=$(active)
check_eq "the workload runs (seed $SEED, $NOPS operations) $(tail -n 2 "$T/sql.err")" "$rc" 0
mapfile -t files < <(binlog_files "$first" "$last")

rc=0
"$BIN/binlog2avro" --include "$LIVE.*" "${files[@]}" >"$T/live.avro" 2>"$T/live.b2a" || rc=$?
check_eq "binlog2avro decodes ${#files[@]} file(s)" "$rc" 0
rc=0
"$BIN/chload" --db-prefix "$PFX" --dead-letter "$T/live.dead" <"$T/live.avro" >"$T/live.out" 2>"$T/live.err" || rc=$?
check_eq "chload loads them $(grep -v ': info: ' "$T/live.err" | grep -v widening | tail -n 2 | tr '\n' ' ')" "$rc" 0
check "no dead letters" test ! -s "$T/live.dead"
rc=0
verify --db-prefix "$PFX" "$LIVE" >"$T/vlive" 2>&1 || rc=$?
check_eq "every table equals MariaDB (cdc-verify exit) $(grep -v '^ok' "$T/vlive" | head -n 6 | tr '\n' ' ')" "$rc" 0
check_eq "tables compared" "$(grep -c '^ok' "$T/vlive")" 10
check "partial images were completed" grep -Eq ' completed=[1-9][0-9]* ' "$T/live.err"
check_eq "the keyless multiset" "$(ch "SELECT a, b, c FROM \`$PFX$LIVE\`.t_nk_current ORDER BY a, b, c FORMAT CSV" | tr '\n' ' ')" \
	'1,"x",0.5 2,"minimal",1.5 2,"minimal",\N 3,\N,\N '

# Versions: one per change of a keyless table (the multiset needs it); a
# key change's delete and create share one, in keyed tables only.
"$BIN/streamcat" "$T/live.avro" >"$T/live.json" 2>"$T/cat.err"
check_eq "keyless changes have a version each" "$($PY - "$T/live.json" <<'PYEOF'
import collections, json, sys
seen, dup, shared = collections.Counter(), 0, 0
for line in open(sys.argv[1]):
    f = json.loads(line)
    if f["kind"] != "change" or f["value"] is None:
        continue
    t = f["topic"]
    seen[(t, f["version"], f["key"] is None)] += 1
for (t, v, keyless), n in seen.items():
    if n > 1:
        dup += keyless
        shared += not keyless
print("keyless repeats %d, keyed key changes %s" % (dup, "yes" if shared else "no"))
PYEOF
)" "keyless repeats 0, keyed key changes yes"

# A replay of the whole stream changes nothing and rejects nothing.
rc=0
"$BIN/chload" --db-prefix "$PFX" --dead-letter "$T/replay.dead" <"$T/live.avro" >"$T/replay.out" 2>"$T/replay.err" || rc=$?
check_eq "a replay loads (exit)" "$rc" 0
check "a replay widens nothing" test "$(grep -c ': widening' "$T/replay.err")" = 0
check "a replay rejects nothing" test ! -s "$T/replay.dead"
rc=0
verify -q --db-prefix "$PFX" "$LIVE" >"$T/vreplay" 2>&1 || rc=$?
check_eq "still equal after the replay $(head -n 4 "$T/vreplay" | tr '\n' ' ')" "$rc" 0

# cdc-verify finds what differs: a value, a missing row, an extra row.
ch "INSERT INTO \`$PFX$LIVE\`.t_edge (id, vc, _version, _deleted) VALUES (1, 'tampered', 18000000000000000000, 0), (77, 'extra', 18000000000000000000, 0)" >/dev/null
ch "INSERT INTO \`$PFX$LIVE\`.t_edge (id, _version, _deleted) VALUES (2, 18000000000000000000, 1)" >/dev/null
rc=0
verify -q --db-prefix "$PFX" "$LIVE.t_edge" "$LIVE.t_nk" >"$T/vbad" 2>&1 || rc=$?
check_eq "cdc-verify exits 1 on a difference" "$rc" 1
check_eq "cdc-verify names the differing keys" "$(grep -v '^  id=1:' "$T/vbad")" \
"not ok $LIVE.t_edge: MySQL 4 rows, ClickHouse 4 rows, 3 keys differ
  id=2: only in MySQL
  id=77: only in ClickHouse"
check "cdc-verify names the differing columns" grep -q \
	"^  id=1: ti: MySQL -128, ClickHouse NULL; .*; vc: MySQL 6E6F626C6F62, ClickHouse 74616D7065726564; " "$T/vbad"
