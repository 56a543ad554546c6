#!/usr/bin/env bash
# binlog2avro's command line: help, version, usage errors, missing files,
# corrupt and truncated binlogs (the stream ends at the last commit mark),
# closed and full outputs, a terminal, SIGTERM, and the selection options
# --start-position/--stop-position (on a recorded binlog, against
# mariadb-binlog with the same options) and --start-datetime/--stop-datetime
# (on the local MariaDB).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
VV=$ROOT/tests/integration/b2a_vv.py
B2A=$BIN/binlog2avro
CAT=$BIN/streamcat
MBL=$(command -v mariadb-binlog || command -v mysqlbinlog || true)

# run CMD...: stdout in $T/out, stderr in $T/err, exit code in $rc
run() {
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
}
err() { tr '\n' ' ' <"$T/err" | cut -c1-300; }
# expect NAME RC TEXT: the last run exited RC with TEXT on stderr
expect() {
	if [ "$rc" = "$2" ] && grep -qF -- "$3" "$T/err"; then
		t_ok "$1: exit $2, '$3'"
	else
		t_fail "$1" "exit $rc (want $2), stderr: $(err)"
	fi
}
# Without the server variables, so that no file means no input at all.
nolive() {
	env -u CDC_MYSQL_HOST -u CDC_MYSQL_SOCKET -u CDC_MYSQL_PORT -u CDC_MYSQL_USER \
		-u CDC_MYSQL_PASSWORD -u MYSQL_PWD "$@"
}

run "$B2A" --help
if [ "$rc" = 0 ] && grep -q '^usage: binlog2avro' "$T/out" && [ ! -s "$T/err" ]; then
	t_ok "--help: exit 0, usage on stdout"
else
	t_fail "--help" "exit $rc, stdout $(head -c 80 "$T/out"), stderr $(err)"
fi
run "$B2A" --version
if [ "$rc" = 0 ] && grep -qE '^binlog2avro [0-9]+\.[0-9]+\.[0-9]+' "$T/out" && [ ! -s "$T/err" ]; then
	t_ok "--version: exit 0, '$(head -c 30 "$T/out")...' on stdout"
else
	t_fail "--version" "exit $rc, stdout $(head -c 80 "$T/out"), stderr $(err)"
fi
run "$B2A" --bogus x
expect "a bad flag" 64 "try 'binlog2avro --help'"
[ -s "$T/out" ] && t_fail "a bad flag writes nothing on stdout" "$(head -c 40 "$T/out" | od -c | head -1)"
run "$B2A" --codec lz4 x
expect "--codec lz4" 64 "invalid --codec 'lz4'"
run "$B2A" --start-position abc x
expect "--start-position abc" 64 "--start-position"
run "$B2A" --stop-datetime yesterday x
expect "--stop-datetime yesterday" 64 "invalid --stop-datetime 'yesterday'"
run nolive "$B2A"
expect "no file (and no server)" 64 "no binlog file"
run nolive env CDC_MYSQL_HOST=127.0.0.1 CDC_MYSQL_PORT=notaport "$B2A"
expect "a bad CDC_MYSQL_PORT" 78 "CDC_MYSQL_PORT"
run "$B2A" "$T/no-such.000001"
expect "a missing file" 66 "$T/no-such.000001"

need_fixture "$FIX/local-mariadb-10.11.19/mariadb-bin.000001"
L=$FIX/local-mariadb-10.11.19
F1=$L/mariadb-bin.000001

# The changes of a stream, without the processing time (envelope ts_ms).
changes() { "$CAT" "$1" | grep '"kind":"change"' | sed 's/"ts_ms":[0-9]*,"transaction"/"transaction"/'; }
"$B2A" "$F1" >"$T/full.avro" 2>/dev/null
changes "$T/full.avro" >"$T/full.changes"

# stream_ends NAME N FILE.avro: streamcat reads it, its last frame is a
# commit mark and its changes are the first N of the whole file's.
stream_ends() {
	local crc=0 last
	"$CAT" "$3" >"$T/se.json" 2>"$T/se.err" || crc=$?
	last=$(tail -n 1 "$T/se.json" | cut -c1-17)
	changes "$3" >"$T/se.changes"
	if [ "$crc" = 0 ] && [ "$last" = '{"kind":"commit",' ] &&
		[ "$(wc -l <"$T/se.changes")" = "$2" ] &&
		cmp -s "$T/se.changes" <(head -n "$2" "$T/full.changes"); then
		t_ok "$1: the stream ends at the last commit mark, with the first $2 changes"
	else
		t_fail "$1: the stream ends at the last commit mark" "streamcat exit $crc ($(tail -n 1 "$T/se.err")), last frame $last, $(wc -l <"$T/se.changes") changes (want the first $2)"
	fi
}

# The event that holds byte 100000 of F1 (the 144 KB UPDATE of GTID 0-1-5).
ev=$($PY - "$F1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 4
while off < len(d):
    size = struct.unpack_from("<I", d, off + 9)[0]
    if off <= 100000 < off + size:
        print(off)
        break
    off += size
EOF
)
# (the damaged copies keep the file name: positions and versions name it)
mkdir "$T/corrupt" "$T/trunc" "$T/open"
cp "$F1" "$T/corrupt/"
printf '\125' | dd of="$T/corrupt/mariadb-bin.000001" bs=1 seek=100000 conv=notrunc 2>/dev/null
run "$B2A" "$T/corrupt/mariadb-bin.000001"
cp "$T/out" "$T/corrupt.avro"
expect "a flipped byte" 65 "mariadb-bin.000001 at $ev: CRC32 mismatch"
stream_ends "a flipped byte" 3 "$T/corrupt.avro"

head -c 150000 "$F1" >"$T/trunc/mariadb-bin.000001"
run "$B2A" "$T/trunc/mariadb-bin.000001"
cp "$T/out" "$T/trunc.avro"
expect "a file cut inside an event" 65 "mariadb-bin.000001 at $ev: truncated event"
stream_ends "a file cut inside an event" 3 "$T/trunc.avro"

# Cut between two events of a transaction (the one that follows GTID
# 0-1-5's first event): not corrupt, the transaction is left out.
head -c 75750 "$F1" >"$T/open/mariadb-bin.000001"
run "$B2A" "$T/open/mariadb-bin.000001"
cp "$T/out" "$T/open.avro"
expect "a file that ends inside a transaction" 0 "ends inside a transaction"
stream_ends "a file that ends inside a transaction" 3 "$T/open.avro"

# A closed stdout, a full disk, a terminal.
gzip -dc "$FIX/mysql-binlog-connector-java/mysql-bin.sakila.gz" >"$T/sakila.000001"
"$B2A" -q "$T/sakila.000001" 2>"$T/err" | head -c1 >/dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" = 141 ] && [ ! -s "$T/err" ]; then
	t_ok "binlog2avro -q FILE | head -c1: exit 141, silent"
else
	t_fail "binlog2avro FILE | head -c1" "exit $rc (want 141), stderr: $(err)"
fi
rc=0
"$B2A" "$F1" >/dev/full 2>"$T/err" || rc=$?
expect "> /dev/full" 74 "No space left on device"
if command -v script >/dev/null 2>&1; then
	rc=0
	script -qec "'$B2A' '$L/mariadb-bin.000002'" /dev/null >"$T/err" 2>&1 </dev/null || rc=$?
	expect "stdout a terminal" 64 "refusing to write a binary stream to a terminal"
	rc=0
	script -qec "'$B2A' --force '$L/mariadb-bin.000002'" /dev/null >"$T/tty.out" 2>&1 </dev/null || rc=$?
	if [ "$rc" = 0 ] && [ "$(head -c4 "$T/tty.out" | od -An -tx1 | tr -d ' \n')" = 4f626a01 ]; then
		t_ok "stdout a terminal with --force: exit 0, the stream"
	else
		t_fail "stdout a terminal with --force" "exit $rc, $(head -c 16 "$T/tty.out" | od -An -c | head -1)"
	fi
else
	t_skip "stdout a terminal" "no script(1)"
fi

# SIGTERM while the output is blocked: the block is finished, the stream
# ends at a commit mark, exit 0.
mkfifo "$T/fifo"
"$B2A" -q "$T/sakila.000001" >"$T/fifo" 2>"$T/err" &
pid=$!
exec 3<"$T/fifo"
sleep 0.3
kill -TERM "$pid"
cat <&3 >"$T/term.avro"
exec 3<&-
rc=0
wait "$pid" || rc=$?
crc=0
"$CAT" "$T/term.avro" >"$T/term.json" 2>/dev/null || crc=$?
n=$(grep -c '"kind":"change"' "$T/term.json" || true)
all=$("$B2A" "$T/sakila.000001" 2>/dev/null | "$CAT" | grep -c '"kind":"change"' || true)
if [ "$rc" = 0 ] && [ "$crc" = 0 ] && [ "$(tail -n 1 "$T/term.json" | cut -c1-17)" = '{"kind":"commit",' ] &&
	[ "$n" -lt "$all" ]; then
	t_ok "SIGTERM mid-stream: exit 0, the stream ends at a commit mark ($n of $all changes)"
else
	t_fail "SIGTERM mid-stream" "exit $rc, streamcat $crc, $n of $all changes, last frame $(tail -n 1 "$T/term.json" | cut -c1-40), stderr $(err)"
fi

# --start-position / --stop-position against mariadb-binlog with the same
# options: the same rows. GTID 0-1-4 starts at 75170; 0-1-5 at 75708.
positions() { # NAME WANT_CHANGES OPTIONS... -- FILES...
	local name=$1 want=$2 opts=() n
	shift 2
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	run "$B2A" "${opts[@]}" "$@"
	if [ "$rc" != 0 ]; then
		t_fail "$name" "exit $rc: $(err)"
		return
	fi
	"$CAT" "$T/out" >"$T/pos.json"
	# tombstones (a null value after each delete) are not row changes
	n=$(grep '"kind":"change"' "$T/pos.json" | grep -vc '"value":null' || true)
	check_eq "$name: $want changes" "$n" "$want"
	if [ -n "$MBL" ]; then
		TZ=UTC "$MBL" -vv --base64-output=decode-rows "${opts[@]}" "$@" >"$T/pos.vv" 2>/dev/null
		$PY "$VV" compare "$TNAME" "$name: the rows of mariadb-binlog ${opts[*]}" "$T/pos.vv" "$T/pos.json" || true
	fi
}
positions "--start-position 75170" 14 --start-position=75170 -- "$F1"
positions "--stop-position 75708" 3 --stop-position=75708 -- "$F1"
positions "--start-position 221513 --stop-position 1414 over two files" 12 \
	--start-position=221513 --stop-position=1414 -- "$F1" "$L/mariadb-bin.000003"
# A stop inside GTID 0-1-4 (before its XID at 75677): that transaction is
# left out, as a transaction the file ends in.
run "$B2A" --stop-position=75677 "$F1"
cp "$T/out" "$T/stop.avro"
expect "--stop-position inside a transaction" 0 "ends inside a transaction"
stream_ends "--stop-position inside a transaction" 2 "$T/stop.avro"

# --start-datetime / --stop-datetime: three transactions on the local
# MariaDB, 100 s apart in binlog time (SET timestamp).
need_stack
DB=t1_cli_$$
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
sql() { mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$@"; }
trap 'sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
base=$(($(date +%s) + 1000))
first=$(sql -N -B -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
sql -e "CREATE DATABASE \`$DB\`; USE \`$DB\`;
CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10));
SET timestamp = $((base + 100)); INSERT INTO t VALUES (1, 'one');
SET timestamp = $((base + 200)); BEGIN; INSERT INTO t VALUES (2, 'two'), (3, 'three'); COMMIT;
SET timestamp = $((base + 300)); UPDATE t SET v = 'uno' WHERE id = 1;"
last=$(sql -N -B -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
mapfile -t files < <(binlog_files "$first" "$last")
at() { date -u -d "@$1" '+%Y-%m-%d %H:%M:%S'; }
dt() { # NAME WANT OPTION
	run "$B2A" "$3" "${files[@]}"
	"$CAT" "$T/out" >"$T/dt.json" 2>/dev/null || true
	got=$($PY - "$T/dt.json" "$DB" <<'EOF'
import json, sys
out = []
for line in open(sys.argv[1]):
    fr = json.loads(line)
    if fr["kind"] == "change" and fr["value"]["source"]["db"] == sys.argv[2]:
        v = fr["value"]
        out.append("%s%s" % (v["op"], (v["after"] or v["before"])["id"]))
print(" ".join(out))
EOF
)
	check_eq "$1 (exit $rc)" "$got" "$2"
	if [ -n "$MBL" ]; then
		TZ=UTC "$MBL" -vv --base64-output=decode-rows "$3" "${files[@]}" >"$T/dt.vv" 2>/dev/null
		$PY "$VV" compare "$TNAME" "$1: the rows of mariadb-binlog" "$T/dt.vv" "$T/dt.json" --db "$DB" || true
	fi
}
dt "no datetime option" "c1 c2 c3 u1" --start-position=4
dt "--start-datetime at the second transaction" "c2 c3 u1" "--start-datetime=$(at $((base + 200)))"
dt "--start-datetime a second after it" "u1" "--start-datetime=$(at $((base + 201)))"
dt "--stop-datetime at the second transaction" "c1" "--stop-datetime=$(at $((base + 200)))"
dt "--stop-datetime a second after it" "c1 c2 c3" "--stop-datetime=$(at $((base + 201)))"

# -x/--exclude (docs/options.md); -X, its old spelling, warns and still
# excludes. -T stamps the log lines.
topics() { "$BIN/streamcat" "$1" | grep -o '"topic":"[^"]*"' | sort -u | tr '\n' ' '; }
run "$B2A" -q "$L/mariadb-bin.000003"
check_eq "both tables without a filter" "$(topics "$T/out")" \
    '"topic":"cdc.fx.t_comp" "topic":"cdc.fx.t_types" '
run "$B2A" -q -x 'fx.t_comp' "$L/mariadb-bin.000003"
check_eq "-x leaves the table out" "$(topics "$T/out")" '"topic":"cdc.fx.t_types" '
run "$B2A" -X 'fx.t_comp' "$L/mariadb-bin.000003"
check_eq "-X, deprecated, still leaves it out" "$(topics "$T/out")" '"topic":"cdc.fx.t_types" '
check "-X warns" grep -q -- '-X is deprecated: use -x (--exclude)' "$T/err"
run "$B2A" -T -x 'fx.*' "$L/mariadb-bin.000003"
check "-T stamps the log lines" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z binlog2avro: ' "$T/err"
