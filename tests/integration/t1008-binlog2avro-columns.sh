#!/usr/bin/env bash
# binlog2avro's column rules on the local MariaDB: --exclude-column,
# --hash-column and --mask-column change exactly what they should.
#  1. a workload (inserts, updates, a key change, deletes, MINIMAL images)
#     on a table with rules and a table without: every masked value in
#     every change has its rule's form, and the state replayed from the
#     stream equals the tables with their values hashed independently by
#     Python's hashlib (SHA-256 of salt and the UTF-8 text or the bytes);
#     excluded columns are in no schema and no image; the schemas say
#     cdc.masked; a hashed key column keys the changes by its hash;
#     source.query is null for tables with rules, kept for the others;
#  2. the snapshot path gives the same schemas (fingerprints) and values;
#  3. the salt from a file equals the salt from CDC_MASK_SALT;
#  4. chload takes the stream: no excluded column in ClickHouse, hashes there;
#  5. refusals: a key column excluded or masked, an INT column masked (78),
#     --hash-column without a salt (64), a libcrypto without SHA-256 (78).
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
DB=t1008_$$
PFX=t1008_$$_
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
export CDC_MYSQL_SERVER_ID=$((1300000000 + $$ % 100000))
export CDC_MASK_SALT='pepper é'
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
ch() { curl -sS --fail --data-binary @- "$CDC_CLICKHOUSE_URL"; }
cleanup() {
	sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true
	echo "DROP DATABASE IF EXISTS \`${PFX}$DB\`" | ch >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

RULES=(--exclude-column "$DB.u.age" --exclude-column "$DB.*.secret*"
	--hash-column "$DB.u.email" --hash-column "$DB.u.bin"
	--hash-column "$DB.k.a" --mask-column "$DB.u.ssn"
	--mask-column "$DB.u.doc" --mask-column "$DB.u.e")
b2a() { "$BIN/binlog2avro" -I "$DB.*" --include-query "$@"; }
master() { sql -N -B -e "SHOW MASTER STATUS" | awk '{print $1 ":" $2}'; }

sql <<EOF
CREATE DATABASE \`$DB\`;
USE \`$DB\`;
CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(100),
  ssn CHAR(11) NOT NULL DEFAULT '', note TEXT CHARACTER SET latin1,
  bin VARBINARY(20), doc JSON, age INT, secret_pin INT,
  e ENUM('red', 'grün'));
CREATE TABLE k (a VARCHAR(20), b INT, v VARCHAR(10), secret_x TEXT,
  PRIMARY KEY (a, b));
CREATE TABLE plain (id INT PRIMARY KEY, email VARCHAR(100), age INT);
EOF
START=binlog:$(master)
sql "$DB" <<'EOF'
INSERT INTO u VALUES
 (1, 'a@b.c', '123-45-6789', 'café', X'0102', '{"a": 1}', 30, 1234, 'red'),
 (2, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 'Zoë@example.org', '987-65-4321', 'x', X'', '[]', 41, 7, 'grün');
UPDATE u SET email = 'new@b.c', age = 31 WHERE id = 1;
UPDATE u SET id = 4 WHERE id = 3;
DELETE FROM u WHERE id = 2;
INSERT INTO k VALUES ('alice', 1, 'v1', 's1'), ('bob', 2, 'v2', NULL);
UPDATE k SET a = 'carol' WHERE a = 'bob';
UPDATE k SET v = 'v3' WHERE a = 'alice';
INSERT INTO plain VALUES (1, 'p@q.r', 5);
SET SESSION binlog_row_image = 'MINIMAL';
UPDATE u SET email = 'min@b.c' WHERE id = 1;
UPDATE u SET age = 99 WHERE id = 4;
UPDATE k SET v = 'v4' WHERE a = 'carol';
DELETE FROM k WHERE a = 'alice';
SET SESSION binlog_row_image = 'FULL';
INSERT INTO u VALUES (5, 'five@x', '555', 'y', X'FF', '{}', 5, 5, NULL);
EOF

rc=0
b2a --start "$START" --stop-at-end "${RULES[@]}" >"$T/live.avro" \
	2>"$T/live.err" || rc=$?
check_eq "live with rules exits 0 $(tail -n 2 "$T/live.err" | tr '\n' ' ')" "$rc" 0
"$BIN/streamcat" "$T/live.avro" >"$T/live.json"

# The table's rows now, as JSON lines for the checker.
rows() {
	sql -N -B "$DB" -e "SELECT JSON_OBJECT('id', id, 'email', email,
	  'ssn', ssn, 'note', note, 'bin', HEX(bin), 'doc', doc, 'e', e)
	  FROM u ORDER BY id" >"$T/u.rows"
	sql -N -B "$DB" -e "SELECT JSON_OBJECT('a', a, 'b', b, 'v', v)
	  FROM k ORDER BY a, b" >"$T/k.rows"
}
rows

cat >"$T/check.py" <<'EOF'
# check.py STREAM.json U.rows K.rows MODE: every change's values against
# the rule applied to MariaDB's values; the replayed final state against
# the tables. MODE live or snapshot.
import hashlib, json, os, sys

salt = os.environ["CDC_MASK_SALT"].encode()
stream, urows, krows, mode = sys.argv[1:5]
bad = []

def h(b):
    return hashlib.sha256(salt + b).hexdigest()

def masked_u(r):
    """Row r of u as binlog2avro must show it."""
    out = {"id": r["id"],
           "email": None if r["email"] is None else h(r["email"].encode()),
           "ssn": "****",
           "note": r["note"],
           "bin": None if r["bin"] is None else h(bytes.fromhex(r["bin"])),
           "doc": None if r["doc"] is None else "****",
           "e": None if r["e"] is None else "****"}
    return out

def masked_k(r):
    return {"a": h(r["a"].encode()), "b": r["b"], "v": r["v"]}

schemas, state = {}, {"u": {}, "k": {}, "plain": {}}
queries = {"u": 0, "k": 0, "plain": 0}
changes = 0
for line in open(stream):
    f = json.loads(line)
    if f["kind"] == "schema":
        schemas[f["fingerprint"]] = f["schema"]
        continue
    if f["kind"] != "change" or f["value"] is None:
        continue
    changes += 1
    v = f["value"]
    t = v["source"]["table"]
    if v["source"]["query"] is not None:
        queries[t] += 1
    sch = schemas[f["value_schema"]]
    fields = sch["fields"][0]["type"][1]["fields"]
    names = [x["name"] for x in fields]
    for x in fields:
        if x["name"].startswith("secret") or (t == "u" and x["name"] == "age"):
            bad.append("excluded column %s.%s in the schema" % (t, x["name"]))
        want = {"u": {"email": "sha256", "bin": "sha256", "ssn": "fixed",
                      "doc": "fixed", "e": "fixed"},
                "k": {"a": "sha256"}}.get(t, {}).get(x["name"])
        if x.get("cdc.masked") != want:
            bad.append("%s.%s: cdc.masked %r, want %r" %
                       (t, x["name"], x.get("cdc.masked"), want))
    for img in (v["before"], v["after"]):
        if img is None:
            continue
        for c, val in img.items():
            if c not in names:
                bad.append("%s: image column %s not in the schema" % (t, c))
            if val == "ABSENT" or val is None:
                continue
            if t == "u" and c in ("email", "bin") and len(val) != 64:
                bad.append("u.%s not a hash: %r" % (c, val))
            if t == "u" and c in ("ssn", "doc", "e") and val != "****":
                bad.append("u.%s not masked: %r" % (c, val))
            if t == "k" and c == "a" and len(val) != 64:
                bad.append("k.a not a hash: %r" % val)
    key = json.dumps(f["key"], sort_keys=True)
    after = v["after"]
    if v["op"] == "d":
        state[t].pop(key, None)
    elif v["op"] == "u" and any(x == "ABSENT" for x in after.values()):
        old = dict(state[t].get(key, {}))
        old.update({c: x for c, x in after.items() if x != "ABSENT"})
        state[t][key] = old
    else:
        state[t][key] = after

if mode == "live":
    if queries["plain"] == 0:
        bad.append("source.query missing for the table without rules")
    if queries["u"] or queries["k"]:
        bad.append("source.query kept for a table with rules: %r" % queries)
for t, path, fn, keyf in (("u", urows, masked_u, lambda r: {"id": r["id"]}),
                          ("k", krows, masked_k,
                           lambda r: {"a": h(r["a"].encode()), "b": r["b"]})):
    want = {}
    for line in open(path):
        r = json.loads(line)
        want[json.dumps(keyf(r), sort_keys=True)] = fn(r)
    if state[t] != want:
        bad.append("%s replayed %r\n want %r" % (t, state[t], want))
print("%d changes" % changes)
for b in bad[:10]:
    print(b)
sys.exit(1 if bad or changes == 0 else 0)
EOF
check "live: every value and the final state as the rules say" \
	"$PY" "$T/check.py" "$T/live.json" "$T/u.rows" "$T/k.rows" live
check_eq "a hashed key column keys k by its hash" \
	"$(grep -o '"key":{"a":"[0-9a-f]*","b":1}' "$T/live.json" | head -n 1 | wc -l)" 1

# ---- 2. the snapshot: same schemas, same values -----------------------------
rc=0
b2a --snapshot only "${RULES[@]}" >"$T/snap.avro" 2>"$T/snap.err" || rc=$?
check_eq "snapshot with rules exits 0 $(tail -n 2 "$T/snap.err" | tr '\n' ' ')" "$rc" 0
"$BIN/streamcat" "$T/snap.avro" >"$T/snap.json"
check "snapshot: values as the rules say" \
	"$PY" "$T/check.py" "$T/snap.json" "$T/u.rows" "$T/k.rows" snapshot
snapfp=$(grep '"kind":"change"' "$T/snap.json" | grep '"table":"[uk]"' |
	grep -o '"value_schema":"[0-9a-f]*"' | sort -u | tr '\n' ' ')
livefp=$(grep '"kind":"change"' "$T/live.json" | grep '"table":"[uk]"' |
	grep '"op":"c"' |
	grep -o '"value_schema":"[0-9a-f]*"' | sort -u | tr '\n' ' ')
check_eq "snapshot and binlog schemas have the same fingerprints" \
	"$snapfp" "$livefp"

# ---- 3. the salt from a file ------------------------------------------------
printf '%s\n' "$CDC_MASK_SALT" >"$T/salt"
rc=0
CDC_MASK_SALT= b2a --start "$START" --stop-at-end "${RULES[@]}" \
	--mask-salt-file "$T/salt" >"$T/file.avro" 2>"$T/file.err" || rc=$?
check_eq "--mask-salt-file exits 0" "$rc" 0
"$BIN/streamcat" "$T/file.avro" | grep -o '"[0-9a-f]\{64\}"' >"$T/file.hashes"
grep -o '"[0-9a-f]\{64\}"' "$T/live.json" >"$T/live.hashes"
check_eq "the stream has hashes" "$(test -s "$T/live.hashes" && echo yes)" yes
check "hashes from the file's salt equal the environment's" \
	cmp "$T/file.hashes" "$T/live.hashes"
check "a salt is a secret: not in the stream, not in the log" \
	bash -c "! grep -a -q 'pepper' '$T/live.avro' '$T/live.err' '$T/snap.err'"

# ---- 4. chload takes it -----------------------------------------------------
rc=0
"$BIN/chload" --db-prefix "$PFX" <"$T/live.avro" >"$T/ch.out" 2>"$T/ch.err" ||
	rc=$?
check_eq "chload loads the stream $(grep -v ': info: ' "$T/ch.err" | tail -n 2 | tr '\n' ' ')" "$rc" 0
cols=$(echo "SELECT name FROM system.columns WHERE database = '${PFX}$DB'
  AND table = 'u' ORDER BY name" | ch | grep -v '^_' | paste -sd' ')
check_eq "ClickHouse has no excluded column" "$cols" "bin doc e email id note ssn"
got=$(echo "SELECT email FROM \`${PFX}$DB\`.\`u\` FINAL WHERE id = 5" | ch)
want=$(printf '%s' "${CDC_MASK_SALT}five@x" | sha256sum | cut -d' ' -f1)
check_eq "ClickHouse holds the hash" "$got" "$want"
# docs/binlog2avro.md tells how to compute a hash in MariaDB: it must agree,
# for a utf8mb4 column (against the stream's) and a latin1 one (against
# hashlib on its UTF-8 text, which check.py holds the stream to).
check_eq "MariaDB's SHA2(CONCAT(salt, value)) is the stream's hash" \
	"$(sql -N -B "$DB" -e "SELECT SHA2(CONCAT('$CDC_MASK_SALT',
	  CONVERT(email USING utf8mb4)), 256) FROM u WHERE id = 5")" "$got"
check_eq "for a latin1 column too, with CONVERT(col USING utf8mb4)" \
	"$(sql -N -B "$DB" -e "SELECT SHA2(CONCAT('$CDC_MASK_SALT',
	  CONVERT(note USING utf8mb4)), 256) FROM u WHERE id = 1")" \
	"$("$PY" -c 'import hashlib, os, sys
print(hashlib.sha256(os.environ["CDC_MASK_SALT"].encode() + "café".encode()).hexdigest())')"

# ---- 5. refusals ------------------------------------------------------------
check_fails "--exclude-column of a key column" 78 \
	"'$DB.u.id', a primary key column" \
	b2a --start "$START" --stop-at-end --exclude-column "$DB.u.id"
check_rc "--mask-column of a key column exits 78" 78 \
	b2a --start "$START" --stop-at-end --mask-column "$DB.k.b"
check_fails "--hash-column of an INT column" 78 "'$DB.u.age', a int column" \
	b2a --start "$START" --stop-at-end --hash-column "$DB.u.age"
check_rc "--mask-column of a key column in the snapshot exits 78" 78 \
	b2a --snapshot only --mask-column "$DB.u.id"
check_rc "--hash-column without a salt exits 64" 64 \
	env CDC_MASK_SALT= "$BIN/binlog2avro" --hash-column 'x.y.z' /dev/null
# OpenSSL 3 with only its null provider: no SHA-256 at all.
printf '%s\n' 'openssl_conf = init' '[init]' 'providers = prov' '[prov]' \
	'null = null_sect' '[null_sect]' 'activate = 1' >"$T/nosha.cnf"
check_fails "--hash-column with a libcrypto without SHA-256" 78 \
	"libcrypto has no SHA-256" \
	env OPENSSL_CONF="$T/nosha.cnf" "$BIN/binlog2avro" --hash-column 'x.y.z' \
	"$FIX/local-mariadb-10.11.19/mariadb-bin.000001"
check_rc "a rule that matches no column is accepted" 0 \
	b2a --start "$START" --stop-at-end --exclude-column "$DB.nope.*"
