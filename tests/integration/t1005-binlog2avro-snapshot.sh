#!/usr/bin/env bash
# binlog2avro's consistent initial snapshot on the local MariaDB:
#  1. every column type (b2a_diff.py's tables with FULL row images, plus
#     MariaDB's UUID/INET/virtual/invisible columns, other charsets, and
#     tables keyed by every kind of primary key): the snapshot's op=r rows
#     are byte for byte the rows the binlog path decodes for the same table
#     (the binlog's changes replayed), with the same schemas (text and
#     fingerprints); small chunks walk every key type in key order;
#  2. a writer (a shell loop of inserts, updates, key changes and deletes)
#     runs while a 200 000-row table is snapshotted in small chunks and the
#     binlog followed: snapshot + binlog replayed per key (latest version
#     wins) equals the table at the end (a snapshot taken then);
#  3. the same with binlog2avro killed (-9) mid-snapshot and restarted from
#     the last snapshot: position it printed;
#  4. the server kills the snapshot's connection and a table not read yet
#     is altered: binlog2avro takes new snapshots from its last commit mark;
#  and the command line: --snapshot values, conflicts, a bad position.
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
HERE=$ROOT/tests/integration
DB=t1s_$$
SNAP=$HERE/b2a_snap.py
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
export CDC_MYSQL_SERVER_ID=$((1200000000 + $$ % 100000))
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
pids=()
cleanup() {
	local p
	touch "$T/stop"
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

b2a() { "$BIN/binlog2avro" -I "$DB.*" "$@"; }
# cat2 STREAM: streamcat's raw and plain output next to it (a stream cut by
# kill -9 may end in a torn block: what came before it counts)
cat2() {
	"$BIN/streamcat" -r "$1" >"$1.json" 2>/dev/null || true
	"$BIN/streamcat" "$1" >"$1.json.plain" 2>/dev/null || true
}
master() { sql -N -B -e "SHOW MASTER STATUS" | cut -f1,2; }

# ---- 1. every type: the snapshot against the binlog ------------------------

$PY "$HERE/b2a_diff.py" sql 1005 "$DB" 400 |
	sed "s/binlog_row_image = '[A-Z]*'/binlog_row_image = 'FULL'/" >"$T/types.sql"
cat >>"$T/types.sql" <<'EOF'
SET SESSION sql_mode = '';
CREATE TABLE x_maria (id INT PRIMARY KEY, u UUID, i4 INET4, i6 INET6,
  v INT AS (id * 2) VIRTUAL, s VARCHAR(10) AS (CONCAT('s', id)) STORED,
  inv INT INVISIBLE DEFAULT 7,
  el ENUM('é','x y','it''s','a\\b') CHARACTER SET latin1,
  sl SET('ä','b','c') CHARACTER SET latin1,
  cb CHAR(3) CHARACTER SET binary, tc TEXT CHARACTER SET cp1251,
  vk VARCHAR(10) CHARACTER SET koi8r, js JSON, g GEOMETRY,
  dz DATE NOT NULL DEFAULT '0000-00-00') ENGINE=InnoDB;
INSERT INTO x_maria (id, u, i4, i6, el, sl, cb, tc, vk, js, g, dz) VALUES
 (1, '123e4567-e89b-12d3-a456-426655440000', '1.2.3.4', '::1', 'é', 'ä,b',
  'a', 'Привет', 'Мир', '{"a": [1, 2.5, "x"]}', POINT(1, 2), '2024-02-29'),
 (2, 'ffffffff-ffff-4fff-bfff-ffffffffffff', '255.255.255.255',
  'ffff::ffff:1.2.3.4', 'x y', '', X'00FF', '', '', '[]', NULL, '0000-00-00'),
 (3, '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::', 'it''s', 'c,ä',
  NULL, NULL, NULL, NULL, ST_GeomFromText('LINESTRING(0 0,1 1)', 4326),
  '2024-00-10'),
 (4, NULL, NULL, NULL, 'a\\b', NULL, 'abc', 'ё', 'ё', 'null', NULL,
  '1000-01-01');
CREATE TABLE x_uuidpk (u UUID PRIMARY KEY, n INT);
INSERT INTO x_uuidpk VALUES ('123e4567-e89b-12d3-a456-426655440000', 1),
 ('ffffffff-ffff-1fff-bfff-ffffffffffff', 2),
 ('00000000-0000-0000-0000-000000000001', 3),
 ('6ccd780c-baba-1026-9564-5b8c656024db', 4),
 ('6ccd780c-baba-4026-9564-5b8c656024db', 5),
 ('01234567-89ab-1cde-8f01-23456789abcd', 6),
 ('11111111-2222-1333-8444-555555555555', 7),
 ('f1111111-2222-1333-8444-555555555555', 8);
CREATE TABLE x_strpk (k VARCHAR(20) CHARACTER SET latin1
  COLLATE latin1_swedish_ci PRIMARY KEY, n INT);
INSERT INTO x_strpk VALUES ('a', 1), ('B', 2), ('c', 3), ('Ä', 4), ('å', 5),
 ('', 6), ('z ', 7), ('Zz', 8), ('y', 9), ('_', 10);
CREATE TABLE x_comppk (d DATETIME(6), m DECIMAL(10,3),
  s VARCHAR(10) COLLATE utf8mb4_unicode_ci, n INT, PRIMARY KEY (d, m, s));
INSERT INTO x_comppk VALUES ('2024-01-01 00:00:00.000001', -1.5, 'a', 1),
 ('2024-01-01 00:00:00.000001', -1.5, 'B', 2),
 ('2024-01-01 00:00:00.000001', 2.25, 'a', 3), ('2024-01-01', 0, 'é', 4),
 ('2024-01-01', 0, 'f', 5), ('0000-00-00', 0, 'x', 6),
 ('9999-12-31 23:59:59.999999', 9999999.999, '日本', 7),
 ('2024-01-01 00:00:00.000001', -1.5, 'c', 8);
CREATE TABLE x_enumpk (e ENUM('z','a','m') NOT NULL, n INT NOT NULL,
  PRIMARY KEY (e, n));
INSERT INTO x_enumpk VALUES ('z', 1), ('z', 2), ('a', 1), ('m', 5), ('a', 3),
 ('m', 1), ('z', 9);
CREATE TABLE x_setpk (s SET('p','q','r') NOT NULL PRIMARY KEY, n INT);
INSERT INTO x_setpk VALUES ('', 0), ('p', 1), ('q', 2), ('p,q', 3), ('r', 4),
 ('p,q,r', 7), ('q,r', 6);
CREATE TABLE x_bitpk (b BIT(12) PRIMARY KEY, n INT);
INSERT INTO x_bitpk VALUES (b'0', 1), (b'1', 2), (b'111111111111', 3),
 (b'100000000000', 4), (b'10000000', 5), (b'11111111', 6), (b'100000000', 7);
CREATE TABLE x_dblpk (f DOUBLE PRIMARY KEY, g FLOAT, n INT);
INSERT INTO x_dblpk VALUES
 (-1.7976931348623157e308, -3.4028234663852886e38, 1), (-0.1, -0.1, 2),
 (0, 0, 3), (5e-324, 1.401298464324817e-45, 4), (0.1, 0.1, 5),
 (1e23, 1e23, 6), (9007199254740993, 16777217, 7),
 (1.7976931348623157e308, 3.4028234663852886e38, 8),
 (-2.2250738585072014e-308, 1.1754943508222875e-38, 9);
CREATE TABLE x_timepk (t TIME(3) PRIMARY KEY, n INT);
INSERT INTO x_timepk VALUES ('-838:59:59', 1), ('-00:00:00.001', 2),
 ('00:00:00', 3), ('-01:00:00.5', 4), ('23:59:59.999', 5), ('24:00:00', 6),
 ('838:59:59', 7), ('-00:00:01.5', 8);
CREATE TABLE x_tspk (ts TIMESTAMP(2) NOT NULL PRIMARY KEY, n INT);
INSERT INTO x_tspk VALUES ('1970-01-01 00:00:01', 1),
 ('2038-01-19 03:14:07.99', 2), ('2000-02-29 12:00:00.5', 3),
 ('2024-03-31 02:30:00', 4), ('1999-12-31 23:59:59.01', 5);
CREATE TABLE x_datepk (d DATE PRIMARY KEY, n INT);
INSERT INTO x_datepk VALUES ('0000-00-00', 1), ('0000-01-01', 2),
 ('2024-00-10', 3), ('1000-01-01', 4), ('9999-12-31', 5), ('2024-05-00', 6);
CREATE TABLE x_uniq (a INT NOT NULL, b VARCHAR(5) NOT NULL, c INT,
  d INT NOT NULL, UNIQUE KEY (c), KEY (d), UNIQUE KEY ab (a, b));
INSERT INTO x_uniq VALUES (1, 'x', NULL, 1), (1, 'y', 5, 1), (0, 'z', NULL, 2),
 (2, '', 7, 3);
CREATE TABLE x_yearpk (n INT, y YEAR PRIMARY KEY);
INSERT INTO x_yearpk VALUES (1, 0), (2, 1901), (3, 2155), (4, 1999), (5, 2000);
CREATE TABLE x_binpk (b BINARY(4) PRIMARY KEY, vb VARBINARY(4), n INT);
INSERT INTO x_binpk VALUES (X'00', X'00', 1), (X'0001', X'', 2),
 (X'61000000', X'6100', 3), (X'ff', X'ff00', 4), (X'20', X'20', 5),
 (X'7f7f7f7f', X'7f', 6), ('x', NULL, 7);
CREATE TABLE x_myisam (id INT PRIMARY KEY, v VARCHAR(5)) ENGINE=MyISAM;
INSERT INTO x_myisam VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');
CREATE TABLE zz_empty (id INT PRIMARY KEY);
EOF

first=$(sql -N -B -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
rc=0
sql <"$T/types.sql" >"$T/sql.out" 2>"$T/sql.err" || rc=$?
last=$(sql -N -B -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
if [ "$rc" != 0 ]; then
	t_fail "the all-types workload runs" "exit $rc: $(tail -n 2 "$T/sql.err")"
	exit 1
fi
mapfile -t files < <(binlog_files "$first" "$last")
rc=0
b2a -q "${files[@]}" >"$T/bin.avro" 2>"$T/bin.err" || rc=$?
check_eq "the binlog of the workload decodes (exit)" "$rc" 0
rc=0
b2a --snapshot=only --snapshot-chunk 3 >"$T/snap.avro" 2>"$T/snap.err" || rc=$?
check_eq "--snapshot=only with 3-row chunks (exit) $(grep error "$T/snap.err")" "$rc" 0
cat2 "$T/bin.avro"
cat2 "$T/snap.avro"
sql -N -B -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$DB'" |
	while read -r t; do
		printf 'cdc.%s.%s\t%s\n' "$DB" "$t" "$(sql -N -B -e "SELECT COUNT(*) FROM \`$DB\`.\`$t\`")"
	done >"$T/counts"
$PY "$SNAP" same "$TNAME" "$T/bin.avro.json" "$T/snap.avro.json" "$T/counts"
if grep -q "warning: snapshot: table '$DB.x_myisam' uses MyISAM" "$T/snap.err"; then
	t_ok "a non-transactional table is named in a warning"
else
	t_fail "MyISAM warning" "$(grep -c . "$T/snap.err") lines on stderr"
fi
marks=$(grep -c '"position":"snapshot:[^;]*;table=[^;]*;after=' "$T/snap.avro.json.plain" || true)
finalmark=$(grep '"kind":"commit"' "$T/snap.avro.json.plain" | tail -n 1 | grep -o '"position":"[^"]*"')
snappos=$(grep -o '"position":"snapshot:[^;"]*' "$T/snap.avro.json.plain" | head -n 1 | cut -d: -f3-)
if [ "$marks" -gt 100 ] && [ "$finalmark" = "\"position\":\"binlog:$snappos\"" ]; then
	t_ok "a commit mark per chunk ($marks with after=), the last at binlog:$snappos"
else
	t_fail "commit marks" "$marks chunk marks, last $finalmark, snapshot at $snappos"
fi
sql -e "DROP DATABASE \`$DB\`"

# ---- 2. a writer during the snapshot ---------------------------------------

sql -e "CREATE DATABASE \`$DB\`"
sql "$DB" -e "CREATE TABLE big (id INT PRIMARY KEY, v INT NOT NULL,
	s VARCHAR(40), t DATETIME(6)) ENGINE=InnoDB;
	INSERT INTO big SELECT seq, seq % 1000, CONCAT('row ', seq), NOW(6)
	FROM seq_1_to_200000"

# writer SEED: inserts, updates (of the key too), deletes and transactions
# on big until $T/stop appears
writer() {
	local i=$1 k
	rm -f "$T/stop"
	while [ ! -e "$T/stop" ]; do
		i=$((i + 1))
		k=$(((i * 7919) % 200000 + 1))
		echo "UPDATE big SET v = v + 1, s = 'u$i' WHERE id = $k;"
		echo "DELETE FROM big WHERE id = $(((i * 104729) % 200000 + 1));"
		echo "INSERT INTO big VALUES ($((300000 + i)), $i, 'n$i', NOW(6));"
		echo "INSERT IGNORE INTO big VALUES ($(((i * 1299709) % 200000 + 1)), $i, 'r$i', NOW(6));"
		echo "BEGIN; UPDATE IGNORE big SET id = id + 1000000 WHERE id = $(((i * 15485863) % 200000 + 1));"
		echo "UPDATE big SET v = -v, t = NOW(6) WHERE id = $((300000 + i / 2)); COMMIT;"
	done | sql --force "$DB" >/dev/null 2>"$T/writer.err"
}

# slow: passes stdin to stdout at about 8 MB/s, so the snapshot takes seconds
slow() {
	$PY -c '
import os, sys, time
while True:
    b = os.read(0, 65536)
    if not b:
        break
    os.write(1, b)
    time.sleep(0.008)'
}

# until_reached STREAM FILE POS: waits (30 s at most) for a commit mark or
# heartbeat of STREAM at or after FILE:POS
until_reached() {
	local i
	for i in $(seq 1 150); do
		"$BIN/streamcat" -r "$1" >"$1.json" 2>/dev/null || true
		if $PY "$SNAP" reached "$1.json" "$2" "$3"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# until_grep FILE PATTERN: waits (60 s at most) for PATTERN in FILE
until_grep() {
	local i
	for i in $(seq 1 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# run NAME ARGS...: binlog2avro ARGS in the background through slow into
# $T/NAME.avro, stderr in $T/NAME.err; its process id in $bpid
run() {
	local name=$1
	shift
	rm -f "$T/$name.fifo"
	mkfifo "$T/$name.fifo"
	slow <"$T/$name.fifo" >"$T/$name.avro" &
	pids+=($!)
	spid=$!
	(exec "$BIN/binlog2avro" -I "$DB.*" "$@" >"$T/$name.fifo" \
		2>"$T/$name.err") &
	bpid=$!
	pids+=($bpid)
}

writer 0 &
pids+=($!)
wpid=$!
sleep 0.5
run run --snapshot-chunk 500 --heartbeat 200
until_grep "$T/run.err" "replicating from" ||
	t_fail "the snapshot ends and replication starts" "$(tail -n 2 "$T/run.err")"
touch "$T/stop"
wait "$wpid" || true
read -r efile epos < <(master)
if until_reached "$T/run.avro" "$efile" "$epos"; then
	t_ok "snapshot + binlog reach the end of the writer's work ($efile:$epos)"
else
	t_fail "the stream reaches $efile:$epos" "$(tail -n 2 "$T/run.err")"
fi
kill -TERM "$bpid" 2>/dev/null || true
rc=0
wait "$bpid" || rc=$?
wait "$spid" || true
check_eq "SIGTERM while replicating (exit)" "$rc" 0
rc=0
b2a --snapshot=only --snapshot-chunk 100000 >"$T/final.avro" 2>"$T/final.err" || rc=$?
check_eq "a snapshot of the end state (exit)" "$rc" 0
cat2 "$T/run.avro"
cat2 "$T/final.avro"
$PY "$SNAP" state "$TNAME" "writer during the snapshot" "$T/final.avro.json" "$T/run.avro.json"
$PY "$SNAP" order "$TNAME" "writer during the snapshot" "$T/run.avro.json"

# ---- 3. kill -9 mid-snapshot, restart from its last snapshot: position -----

writer 500000 &
pids+=($!)
wpid=$!
sleep 0.3
run k1 --snapshot-chunk 200
until_grep "$T/k1.err" "snapshot at" >/dev/null
# let a few chunks through, then kill -9
for i in $(seq 1 100); do
	[ "$(stat -c %s "$T/k1.avro" 2>/dev/null || echo 0)" -gt 3000000 ] && break
	sleep 0.1
done
kill -KILL "$bpid" 2>/dev/null || true
wait "$bpid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
cat2 "$T/k1.avro"
pos=$($PY "$SNAP" lastpos "$T/k1.avro.json")
case $pos in
snapshot:*after=*) t_ok "killed mid-snapshot; its last commit mark: ${pos%%;after=*};after=..." ;;
*) t_fail "killed mid-snapshot" "last commit mark '$pos'" ;;
esac
run k2 --start "$pos" --snapshot-chunk 200 --heartbeat 200
until_grep "$T/k2.err" "replicating from" ||
	t_fail "the restarted snapshot ends" "$(tail -n 2 "$T/k2.err")"
if grep -q "snapshot resumed after $DB.big" "$T/k2.err"; then
	t_ok "the restart resumes the snapshot after its last chunk"
else
	t_fail "resumed snapshot" "$(grep snapshot "$T/k2.err" | head -n 2)"
fi
touch "$T/stop"
wait "$wpid" || true
read -r efile epos < <(master)
if until_reached "$T/k2.avro" "$efile" "$epos"; then
	t_ok "the restarted run reaches the end of the writer's work"
else
	t_fail "the restarted stream reaches $efile:$epos" "$(tail -n 2 "$T/k2.err")"
fi
kill -TERM "$bpid" 2>/dev/null || true
wait "$bpid" || true
wait "$spid" || true
rc=0
b2a --snapshot=only --snapshot-chunk 100000 >"$T/final2.avro" 2>"$T/final2.err" || rc=$?
check_eq "a snapshot of the end state after the restart (exit)" "$rc" 0
cat2 "$T/k2.avro"
cat2 "$T/final2.avro"
$PY "$SNAP" state "$TNAME" "killed and restarted" "$T/final2.avro.json" "$T/k1.avro.json" "$T/k2.avro.json"
$PY "$SNAP" order "$TNAME" "killed and restarted" "$T/k1.avro.json" "$T/k2.avro.json"

# ---- 4. the connection lost and a table altered mid-snapshot ---------------

sql "$DB" -e "CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(10));
	INSERT INTO t2 SELECT seq, CONCAT('v', seq) FROM seq_1_to_1000"
run r1 --snapshot-chunk 500 --heartbeat 200
until_grep "$T/r1.err" "snapshot at" >/dev/null
sleep 1
# the server ends the snapshot's connection (found by its client port)
port=$(ss -tnpH "dport = :$CDC_MYSQL_PORT" | grep "pid=$bpid," |
	awk '{print $4}' | sed 's/.*://' | head -n 1)
cid=$(sql -N -B -e "SELECT ID FROM information_schema.PROCESSLIST WHERE
	HOST = '127.0.0.1:$port'")
if [ -n "$port" ] && [ -n "$cid" ] && sql -e "KILL CONNECTION $cid"; then
	t_ok "the server kills the snapshot's connection mid-snapshot"
else
	t_fail "killing the snapshot's connection" "port '$port', id '$cid'"
fi
until_grep "$T/r1.err" "snapshot resumed" >/dev/null
# t2 is read after big: altered now, it is newer than the new snapshot
sql "$DB" -e "ALTER TABLE t2 ADD COLUMN w INT DEFAULT 7, ALGORITHM=COPY"
until_grep "$T/r1.err" "replicating from" ||
	t_fail "the snapshot ends after the retries" "$(tail -n 2 "$T/r1.err")"
if grep -q "(error 2013); a new snapshot resumes at the last commit mark" "$T/r1.err" &&
	grep -q "(error 1412); a new snapshot resumes at the last commit mark" "$T/r1.err" &&
	[ "$(grep -c "snapshot resumed after $DB.big;after=\|snapshot resumed after $DB.big" "$T/r1.err")" -ge 2 ]; then
	t_ok "the lost connection, then the altered table: a new snapshot resumes each time"
else
	t_fail "new snapshot after an error" "$(grep -i snapshot "$T/r1.err" | head -n 3)"
fi
read -r efile epos < <(master)
until_reached "$T/r1.avro" "$efile" "$epos" ||
	t_fail "the stream reaches $efile:$epos" "$(tail -n 2 "$T/r1.err")"
kill -TERM "$bpid" 2>/dev/null || true
wait "$bpid" || true
wait "$spid" || true
b2a --snapshot=only --snapshot-chunk 100000 >"$T/final3.avro" 2>/dev/null || true
cat2 "$T/r1.avro"
cat2 "$T/final3.avro"
$PY "$SNAP" state "$TNAME" "retried" "$T/final3.avro.json" "$T/r1.avro.json"

# SIGTERM mid-snapshot: exit 0, the stream ends at the last commit mark
run term --snapshot=only --snapshot-chunk 300
for i in $(seq 1 100); do
	[ "$(stat -c %s "$T/term.avro" 2>/dev/null || echo 0)" -gt 2000000 ] && break
	sleep 0.1
done
kill -TERM "$bpid" 2>/dev/null || true
rc=0
wait "$bpid" || rc=$?
wait "$spid" || true
crc=0
"$BIN/streamcat" "$T/term.avro" >"$T/term.json" 2>"$T/term.cat" || crc=$?
if [ "$rc" = 0 ] && [ "$crc" = 0 ] &&
	tail -n 1 "$T/term.json" | grep -q '"kind":"commit","seq":[0-9]*,"position":"snapshot:'; then
	t_ok "SIGTERM mid-snapshot: exit 0, the stream ends at a snapshot commit mark"
else
	t_fail "SIGTERM mid-snapshot" "exit $rc, streamcat $crc, last $(tail -n 1 "$T/term.json" | cut -c1-60)"
fi

# ---- the command line -------------------------------------------------------

check_fails "--snapshot=sometimes" 64 "invalid --snapshot 'sometimes'" "$BIN/binlog2avro" --snapshot=sometimes
check_fails "--snapshot with files" 64 "cannot use --snapshot" "$BIN/binlog2avro" --snapshot=only "$T/bin.avro"
check_fails "--snapshot=only at a binlog position" 64 "cannot start at" "$BIN/binlog2avro" --snapshot=only --start end
check_fails "--snapshot=never with a snapshot position" 64 "with --snapshot=never" "$BIN/binlog2avro" \
	--snapshot=never --start "snapshot:x.000001:4;table=a.b;done"
check_fails "a malformed snapshot position" 64 "invalid snapshot position" "$BIN/binlog2avro" \
	--start "snapshot:x.000001:4;table=ab;done"
check_fails "--snapshot-chunk 0" 64 "invalid --snapshot-chunk '0'" "$BIN/binlog2avro" --snapshot-chunk 0
check_fails "a snapshot position whose binlog is gone" 65 "is not on the server (purged?)" "$BIN/binlog2avro" \
	--start "snapshot:nosuch-bin.000001:4;table=$DB.big;done"
