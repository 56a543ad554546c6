#!/usr/bin/env bash
# chload: the command line and exit codes of STYLE.md, rows ClickHouse
# rejects reaching the dead-letter file, the secret staying out of sight,
# flushes while the input is quiet, and SIGTERM mid-stream; on ClickHouse
# 18.16 and 26.9: a URL with default_format, async_insert=0 on the wire and
# the deduplication of a replayed insert (26.9).
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
db=t4_cli_$$
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
trap 'ch "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; ch "DROP DATABASE IF EXISTS x_$db" >/dev/null 2>&1; rm -rf "$T"' EXIT
CL=$BIN/chload

check_rc "--help exits 0" 0 "$CL" --help
cp "$T/check.out" "$T/help"
check "--help names the options" grep -q -- '--dead-letter' "$T/help"
check_rc "--version exits 0" 0 "$CL" --version
cp "$T/check.out" "$T/version"
check "--version names libcurl" grep -q 'libcurl' "$T/version"
check_rc "bad flag exits 64" 64 "$CL" --no-such-flag
check_rc "bad number exits 64" 64 "$CL" --batch-rows 0
cp "$T/check.out" "$T/badnum"
check "bad number says why" grep -q "invalid --batch-rows '0': must be 1..1000000" "$T/badnum"
check_rc "--ack with --ack-fd exits 64" 64 "$CL" --ack x --ack-fd 3
check_rc "bad URL in the environment exits 78" 78 env CDC_CLICKHOUSE_URL=ftp://x "$CL" </dev/null
check_rc "no URL exits 78" 78 env -u CDC_CLICKHOUSE_URL "$CL" </dev/null
check_rc "missing password file exits 78" 78 "$CL" --password-file "$T/nope" </dev/null
check_rc "bad server version exits 78" 78 "$CL" -S banana </dev/null

gen() {
PYTHONPATH=$ROOT/tests/integration $PY - "$db" "$@" <<'PYEOF'
import sys, time
import envstream as es
db, what = sys.argv[1], sys.argv[2]
t = es.Table(db, "t", [es.Col("id", "int", key=1), es.Col("s", "varchar(10)", True)])
s = es.Stream(sys.stdout.buffer)
if what == "rows":
    for i in range(1, 11):
        s.insert(t, {"id": i, "s": "bad" if i == 7 else "ok%d" % i})
    s.commit()
elif what == "slow":
    s.insert(t, {"id": 1, "s": "first"})
    s.commit()
    sys.stdout.flush()
    time.sleep(float(sys.argv[3]))
    s.insert(t, {"id": 2, "s": "second"})
    s.commit()
s.close()
PYEOF
}

# Malformed input: 65, nothing loaded.
printf 'Obj\001garbage' >"$T/bad.avro"
check_rc "malformed input exits 65" 65 "$CL" <"$T/bad.avro"
gen rows 2>/dev/null | head -c 300 >"$T/short.avro"
check_rc "truncated stream exits 65" 65 "$CL" <"$T/short.avro"

# Rows ClickHouse rejects: a column whose default throws for one value.
ch "CREATE DATABASE $db"
# _ts as chload makes it on each engine.
ts_type=$(on 18.16 && echo "DateTime('UTC')" || echo "DateTime64(3, 'UTC')")
ch "CREATE TABLE $db.t (id Int32, s Nullable(String), _version UInt64, _deleted UInt8, _ts $ts_type, chk UInt8 DEFAULT throwIf(s = 'bad')) ENGINE = ReplacingMergeTree(_version) ORDER BY id"
gen rows >"$T/rows.avro"
rc=0
"$CL" --dead-letter "$T/dead" --ack "$T/ack" <"$T/rows.avro" >"$T/out" 2>"$T/err" || rc=$?
check_eq "rejected rows: exit 0" "$rc" 0
check_eq "the rejected row is in the dead-letter file" "$(sed -E 's/"error":"[^"]*"/"error":E/' "$T/dead")" \
    "{\"database\":\"$db\",\"table\":\"t\",\"version\":107,\"error\":E,\"row\":{\"id\":7,\"s\":\"bad\",\"_version\":107,\"_deleted\":0,\"_ts\":\"2023-11-14 22:13:20$(on 18.16 || echo .000)\"}}"
check "with the server's error" grep -q "throwIf" "$T/dead"
check_eq "the others are loaded" "$(ch "SELECT count() FROM $db.t")" 9
check "the count is in the info line" grep -q "dead=1" "$T/err"
check_eq "acknowledged" "$(cat "$T/ack")" "ack 1 binlog:mysql-bin.000001:1100"
ch "TRUNCATE TABLE $db.t"
rc=0
"$CL" <"$T/rows.avro" >"$T/out" 2>"$T/err" || rc=$?
check_eq "without --dead-letter a rejected row exits 65" "$rc" 65
check "and says so" grep -q "no --dead-letter file" "$T/err"
ch "DROP TABLE $db.t"

# The password goes over HTTP only: not in argv, not in messages.
printf 's3cret-pw\n' >"$T/pw"
rc=0
"$CL" --password-file "$T/pw" -v <"$T/rows.avro" >"$T/out" 2>"$T/err" || rc=$?
check_eq "a wrong password is a configuration error (78)" "$rc" 78
check "the password is never printed" sh -c "! grep -q s3cret '$T/err'"

# Quiet input: the first row is in ClickHouse, and acknowledged, long
# before the stream goes on.
mkfifo "$T/fifo"
rc=0
( gen slow 3 >"$T/fifo" 2>/dev/null ) &
"$CL" --ack "$T/ack2" <"$T/fifo" >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
check_eq "a quiet stream is flushed within the linger time" "$(ch "SELECT count() FROM $db.t" 2>&1)" 1
check_eq "and acknowledged" "$(cut -d' ' -f1,2 "$T/ack2")" "ack 1"
# SIGTERM mid-stream: drain, then exit 0.
kill -TERM "$pid"
wait "$pid" || rc=$?
check_eq "SIGTERM mid-stream exits 0" "$rc" 0
wait || true

# --dry-run prints and touches nothing.
rc=0
"$CL" --dry-run <"$T/rows.avro" >"$T/dry" 2>"$T/err" || rc=$?
check_eq "--dry-run exits 0" "$rc" 0
check "--dry-run prints the DDL" grep -q "^CREATE TABLE IF NOT EXISTS \`$db\`.\`t\`" "$T/dry"
check_eq "--dry-run prints the rows" "$(grep -c '^{"id":' "$T/dry")" 10
"$BIN/../tests/chload_benchgen" 20000 "$db" >"$T/big.avro"
check_rc "--dry-run | head -c1 exits 141" 141 bash -c "'$CL' -q --dry-run <'$T/big.avro' | head -c1 >/dev/null; exit \${PIPESTATUS[0]}"
check "silently" test ! -s "$T/check.out"
rc=0
"$CL" --dry-run <"$T/rows.avro" >/dev/full 2>"$T/err" || rc=$?
check_eq "--dry-run > /dev/full exits 74" "$rc" 74
check "with a message" grep -q "cannot write to stdout" "$T/err"

# A server or URL with a default_format: chload asks for the formats it
# reads, so it still loads (it exited 78 on the JSON answer of version()).
ch "DROP TABLE IF EXISTS $db.t"
rc=0
"$CL" -u "${CDC_CLICKHOUSE_URL}?default_format=JSON" <"$T/rows.avro" >"$T/out" 2>"$T/err" || rc=$?
check_eq "a URL with default_format=JSON loads (exit) $(tail -n 1 "$T/err")" "$rc" 0
check_eq "every row" "$(ch "SELECT count() FROM $db.t_current")" 10

# The same stream again with merges stopped: on 26.9 its inserts carry the
# same insert_deduplication_token and are stored once; 18.16 has no tokens
# and stores them twice (the view shows them once either way).
ch "SYSTEM STOP MERGES $db.t"
rc=0
"$CL" <"$T/rows.avro" >"$T/out" 2>"$T/err" || rc=$?
check_eq "a replay loads (exit)" "$rc" 0
check_eq "the replayed insert is stored $(on 18.16 && echo twice || echo once) ($ENGINE)" "$(ch "SELECT count() FROM $db.t")" "$(on 18.16 && echo 20 || echo 10)"
check_eq "the view shows each row once" "$(ch "SELECT count() FROM $db.t_current")" 10
ch "SYSTEM START MERGES $db.t"

# Inserts are synchronous whatever the server's default (26.9's is
# async_insert=1): chload sends async_insert=0, so an acknowledgement means
# the rows are in the table. 18.16 has no such setting (21.11 brought it).
if on current; then
	log=$CDC_STACK_DIR/clickhouse-current/requests.log
	grep -F "query=INSERT INTO \`$db\`.\`t\`" "$log" >"$T/inserts"
	check "inserts were logged" test -s "$T/inserts"
	check_eq "every insert says async_insert=0" "$(grep -vc 'settings=\(.*&\)\?async_insert=0\(&\|$\| \)' "$T/inserts")" 0
else
	t_skip "async_insert=0 on the wire" "18.16 has no async_insert setting; chload sends it to 21.11 and later"
fi

# The spellings of docs/options.md: -A PATH and -a N as in the Kafka tools,
# -W, -T; the old -a PATH, -P and -L still work and warn.
ack1="ack 1 binlog:mysql-bin.000001:1100"
rc=0
"$CL" -p x_ -A "$T/ackA" <"$T/rows.avro" 2>/dev/null || rc=$?
check_eq "-A PATH acknowledges on the fifo or file" "$(cat "$T/ackA")" "$ack1"
rc=0
"$CL" -p x_ -a 3 <"$T/rows.avro" 3>"$T/ackfd" 2>/dev/null || rc=$?
check_eq "-a N acknowledges on fd N" "$(cat "$T/ackfd")" "$ack1"
rc=0
"$CL" -p x_ -a "$T/ackold" <"$T/rows.avro" 2>"$T/errold" || rc=$?
check_eq "-a PATH, deprecated, still writes PATH" "$(cat "$T/ackold")" "$ack1"
check "-a PATH warns" grep -q -- '-a PATH is deprecated: use -A PATH (--ack)' "$T/errold"
check_rc "-W with a missing file exits 78" 78 "$CL" -W "$T/nope" </dev/null
check_rc "-P, deprecated, too" 78 "$CL" -P "$T/nope" </dev/null
cp "$T/check.out" "$T/errP"
check "-P warns" grep -q -- '-P is deprecated: use -W (--password-file)' "$T/errP"
"$CL" -T -p x_ <"$T/rows.avro" 2>"$T/errT" || true
check "-T stamps the log lines" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z chload: ' "$T/errT"
"$CL" -L -p x_ <"$T/rows.avro" 2>"$T/errL" || true
check "-L, deprecated, too" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z chload: ' "$T/errL"
check "-L warns" grep -q -- '-L is deprecated: use -T (--log-time)' "$T/errL"
