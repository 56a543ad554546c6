#!/usr/bin/env bash
# avro2kafka --schema-registry on a pipeline run of MariaDB (inserts,
# updates, deletes, a key change, tombstones, ADD COLUMN mid-stream):
# confluent-kafka-python's Avro deserializer decodes every record to the
# key and value streamcat prints for the same change, the subjects are
# TOPIC-key and TOPIC-value, and kafka2ch --schema-registry gives back the
# stream it was given. Then the same through the pipeline script,
# scripts/cdc-source --schema-registry, on a table of every type (t4005's
# edge rows) with updates, a key change, deletes and their tombstones and
# a column added mid-stream: every record decodes to streamcat's key and
# value of binlog2avro's run over the same binlog range.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"
need_confluent

db=$PFX
sql() { MYSQL_PWD=$CDC_MYSQL_PASSWORD mariadb --no-defaults -h "$CDC_MYSQL_HOST" \
    -P "$CDC_MYSQL_PORT" -u "$CDC_MYSQL_USER" "$@"; }
start=$(sql -N -B -e 'SHOW MASTER STATUS' | awk '{print $1 ":" $2}')
sql <<SQL
CREATE DATABASE $db;
CREATE TABLE $db.t (id INT PRIMARY KEY, name VARCHAR(20), n BIGINT NOT NULL);
INSERT INTO $db.t VALUES (1, 'one', 1), (2, 'two', 2), (3, NULL, 3);
UPDATE $db.t SET name = 'uno', n = n + 10 WHERE id = 1;
DELETE FROM $db.t WHERE id = 2;
UPDATE $db.t SET id = 30 WHERE id = 3;
ALTER TABLE $db.t ADD COLUMN extra INT NULL;
INSERT INTO $db.t VALUES (4, 'four', 4, 44);
UPDATE $db.t SET extra = 1 WHERE id = 1;
DELETE FROM $db.t WHERE id = 4;
SQL
"$BIN/binlog2avro" -q -i 4711 -p "$PFX" --include "$db.*" --start "$start" \
    -e >"$T/in.avro" 2>"$T/b2a.err" ||
    { t_fail binlog2avro "$(head -c 300 "$T/b2a.err")"; exit 1; }
topic=$PFX.$db.t

rc=0
"$A2K" -p "$PFX" -U "$REG" <"$T/in.avro" 2>"$T/a2k.err" || rc=$?
check_eq "avro2kafka --schema-registry exits 0" "$rc" 0
check "one registration per schema (1 key, 2 values)" \
    grep -q 'registered=3$' "$T/a2k.err"

rc=0
timeout 120 "$PY" "$ROOT/tests/integration/confluent_read.py" \
    "$CDC_KAFKA_BROKERS" "$REG" "$topic" "$PFX-py" >"$T/py.json" \
    2>"$T/py.err" || rc=$?
check_eq "confluent-kafka-python reads the topic" "$rc" 0
# changes STREAM: its changes' keys and values as confluent_read.py prints
# them.
changes() {
	"$BIN/streamcat" "$1" | "$PY" -c '
import json, sys
for line in sys.stdin:
    f = json.loads(line)
    if f["kind"] == "change":
        print(json.dumps({"key": f["key"], "value": f["value"]}, sort_keys=True))
'
}
changes "$T/in.avro" >"$T/sc.json"
n=$(wc -l <"$T/sc.json")
check "the run has changes, tombstones and both schemas" sh -c \
    '[ "$1" -ge 12 ] && grep -q "\"value\": null" "$2" && grep -q "\"extra\"" "$2"' \
    sh "$n" "$T/sc.json"
check_eq "records decoded" "$(wc -l <"$T/py.json")" "$n"
check "every key and value equals streamcat's, record for record" \
    cmp "$T/sc.json" "$T/py.json"

subjects=$(curl -sf "$REG/subjects")
check "subjects TOPIC-key and TOPIC-value" sh -c \
    'case $1 in *"\"$2-key\""*"\"$2-value\""*|*"\"$2-value\""*"\"$2-key\""*) ;; *) exit 1;; esac' \
    sh "$subjects" "$topic"
# (This registry lists them newest first.)
check_eq "the value subject has 2 versions" \
    "$(curl -sf "$REG/subjects/$topic-value/versions" | tr -d '[]' |
    tr , '\n' | sort -n | paste -sd,)" "1,2"

rc=0
consume_all "$T/out.avro" -U "$REG" "$topic" || rc=$?
check_eq "kafka2ch --schema-registry exits 0" "$rc" 0
perkey "$T/in.avro" >"$T/in.keys"
perkey "$T/out.avro" >"$T/out.keys"
check "kafka2ch gives back the same changes" cmp "$T/in.keys" "$T/out.keys"
check_eq "and the same schemas" "$(kinds "$T/out.avro" schema)" \
    "$(kinds "$T/in.avro" schema)"

# Without a registry kafka2ch names what it cannot read.
rc=0
timeout 60 "$K2C" -q -g "$PFX-noreg" -e -s 1 "$topic" >/dev/null \
    2>"$T/noreg.err" </dev/null || rc=$?
check_eq "without --schema-registry: exit 65" "$rc" 65
check "and says why" grep -q 'needs --schema-registry' "$T/noreg.err"
sql -e "DROP DATABASE $db"

# ---- 2. scripts/cdc-source --schema-registry, every type -----------------
db2=${PFX}_types
topic2=$PFX.$db2.t_edge
export CDC_BIN=$BIN
setsid "$ROOT/scripts/cdc-source" --id "$PFX-src" --schema-registry "$REG" \
    -- --server-id 4712 -p "$PFX" --include "$db2.*" --avro2kafka -p "$PFX" -w 20 \
    >/dev/null 2>"$T/src.err" &
src=$!
trap 'kill -TERM -- -$src 2>/dev/null; sql -e "DROP DATABASE IF EXISTS $db2" 2>/dev/null; rm -rf "$T"' EXIT
for ((i = 0; i < 200; i++)); do
	grep -q "replicating from" "$T/src.err" && break
	sleep 0.1
done
check "cdc-source --schema-registry runs" grep -q "replicating from" "$T/src.err"
start=$(sql -N -B -e 'SHOW MASTER STATUS' | awk '{print $1 ":" $2}')
sed -n '/^CREATE TABLE t_edge/,/^UPDATE t_edge SET id = 5/p' \
    "$ROOT/tests/integration/t4005-chload-e2e.sh" | sed 's/70000/700/' >"$T/edge.sql"
sql --default-character-set=utf8mb4 <<SQL
SET SESSION sql_mode = '';
SET SESSION time_zone = '+00:00';
CREATE DATABASE $db2 CHARACTER SET utf8mb4;
USE $db2;
source $T/edge.sql
DELETE FROM t_edge WHERE id = 3;
ALTER TABLE t_edge ADD COLUMN extra VARCHAR(10) NULL;
INSERT INTO t_edge (id, vc, extra) VALUES (6, 'six', 'x');
UPDATE t_edge SET extra = 'one' WHERE id = 1;
DELETE FROM t_edge WHERE id = 5;
SQL
"$BIN/binlog2avro" -q -i 4713 -p "$PFX" --include "$db2.*" --start "$start" \
    -e >"$T/in2.avro" 2>"$T/b2a2.err" ||
    { t_fail binlog2avro "$(head -c 300 "$T/b2a2.err")"; exit 1; }
changes "$T/in2.avro" >"$T/sc2.json"
n=$(wc -l <"$T/sc2.json")
# The source is behind binlog2avro's run by its transaction commits.
for ((i = 0; i < 30; i++)); do
	timeout 120 "$PY" "$ROOT/tests/integration/confluent_read.py" \
	    "$CDC_KAFKA_BROKERS" "$REG" "$topic2" "$PFX-py2-$i" \
	    >"$T/py2.json" 2>"$T/py2.err" || true
	[ "$(wc -l <"$T/py2.json")" -ge "$n" ] && break
	sleep 1
done
kill -TERM -- -"$src" 2>/dev/null || true
check "the run has 10+ changes, tombstones and both schemas" sh -c \
    '[ "$1" -ge 10 ] && grep -q "\"value\": null" "$2" && grep -q "\"extra\"" "$2"' \
    sh "$n" "$T/sc2.json"
check_eq "cdc-source: records decoded" "$(wc -l <"$T/py2.json")" "$n"
# FLOAT columns: streamcat prints 9 digits, fastavro the float's double.
# The envelope's ts_ms is when the tool processed the change: the two runs
# of binlog2avro differ there, and only there.
check "cdc-source: every key and value equals streamcat's" "$PY" -c '
import json, struct, sys
def norm(v):
    if isinstance(v, float):
        try:
            return struct.unpack("f", struct.pack("f", v))[0]
        except OverflowError:
            return v
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v
def load(path):
    out = []
    for line in open(path):
        r = norm(json.loads(line))
        if r["value"] is not None:
            del r["value"]["ts_ms"]
        out.append(r)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
for i, (x, y) in enumerate(zip(a, b)):
    if x != y:
        diff = [k for k in x["value"] or {} if x["value"][k] != y["value"][k]]
        sys.exit("record %d differs in %s" % (i, diff or "key"))
sys.exit(0 if len(a) == len(b) else "counts differ")
' "$T/sc2.json" "$T/py2.json"
check "cdc-source: subject $topic2-value has 2 versions" sh -c \
    '[ "$(curl -sf "$1/subjects/$2-value/versions" | tr -d "[]" | tr , "\n" | grep -c .)" = 2 ]' \
    sh "$REG" "$topic2"
sql -e "DROP DATABASE $db2"
