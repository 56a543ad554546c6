#!/usr/bin/env bash
# avro2kafka --schema-registry on a pipeline run of MariaDB (inserts,
# updates, deletes, a key change, tombstones, ADD COLUMN mid-stream):
# confluent-kafka-python's Avro deserializer decodes every record to the
# key and value streamcat prints for the same change, the subjects are
# TOPIC-key and TOPIC-value, and kafka2ch --schema-registry gives back the
# stream it was given.
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
"$BIN/binlog2avro" -q -i 4711 --include "$db.*" --start "$start" \
    -e >"$T/in.avro" 2>"$T/b2a.err" ||
    { t_fail binlog2avro "$(head -c 300 "$T/b2a.err")"; exit 1; }
topic=cdc.$db.t

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
"$BIN/streamcat" "$T/in.avro" | "$PY" -c '
import json, sys
for line in sys.stdin:
    f = json.loads(line)
    if f["kind"] == "change":
        print(json.dumps({"key": f["key"], "value": f["value"]}, sort_keys=True))
' >"$T/sc.json"
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
