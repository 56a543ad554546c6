#!/usr/bin/env bash
# binlog2avro on what MariaDB writes with its defaults for bulk work
# (binlog_annotate_row_events=ON: every statement precedes its rows): one
# INSERT ... VALUES of 5,000 rows (about 600 KB of SQL), an INSERT ... SELECT
# of 100,000 rows, and a DELETE of those 100,000 rows in one transaction
# (past the 8 MiB spill threshold), plus short statements with multi-byte
# text. The issue's table: BIGINT key, INT, DECIMAL(12,2), VARCHAR(16),
# SMALLINT UNSIGNED, DATETIME(6), TIMESTAMP(3) NULL, VARCHAR(64), BIGINT
# UNSIGNED, DOUBLE.
#  1. by default source.query is null and no change is larger than its row
#     needs: the stream stays linear in the binlog (it was quadratic);
#  2. --include-query: short statements whole; the 5,000-row statement cut
#     to 4096 bytes and marked with its length; no change grows by more;
#  3. --query-max-bytes 64: the cut falls between UTF-8 characters;
#  4. every row arrives: 5,000 + 100,000 inserts and 100,000 deletes, ids
#     and values as MariaDB has them, in one transaction for the DELETE.
. "$(dirname "$0")/lib.sh"
need_stack
PY=/usr/bin/python3
DB=t1010_$$
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
sql() {
	mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" \
		--default-character-set=utf8mb4 "$@"
}
trap 'sql -e "DROP DATABASE IF EXISTS \`$DB\`" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
master() { sql -N -B -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' :; }
b2a() { "$BIN/binlog2avro" -I "$DB.*" --start "$START" --stop-at-end "$@"; }

check_eq "MariaDB writes annotate rows events (its default)" \
	"$(sql -N -B -e "SELECT @@global.binlog_annotate_row_events")" 1
sql -e "CREATE DATABASE \`$DB\`"
sql "$DB" -e "CREATE TABLE big (id BIGINT PRIMARY KEY, n INT,
	amount DECIMAL(12,2), code VARCHAR(16), qty SMALLINT UNSIGNED,
	created DATETIME(6), touched TIMESTAMP(3) NULL, note VARCHAR(64),
	big BIGINT UNSIGNED, ratio DOUBLE)"

# The statements, kept to compare source.query with.
$PY - "$T" <<'EOF'
import sys
t = sys.argv[1]
rows = ",".join(
    "(%d,%d,%d.%02d,'c%d',%d,'2024-01-02 03:04:05.%06d',%s,'note é %d',%d,%d.25)"
    % (i, -i, i, i % 100, i, i % 65536, i, "NULL" if i % 7 == 0 else
       "'2024-03-04 05:06:07.%03d'" % (i % 1000), i, 18446744073709551615 - i, i)
    for i in range(1, 5001))
stmts = [
    "INSERT INTO big VALUES " + rows,
    "INSERT INTO big SELECT seq, seq, seq / 4, CONCAT('s', seq), seq % 65536,"
    " '2024-05-06 07:08:09.123456', NULL, REPEAT('x', seq % 64), seq, seq / 3"
    " FROM seq_5001_to_105000",
    "UPDATE big SET note = 'åäö short' WHERE id = 1",
    # 23 ASCII bytes, then two-byte characters: byte 64 is inside one.
    "UPDATE big SET note = '" + "é" * 40 + "' WHERE id = 2",
]
with open(t + "/stmts.txt", "w") as f:
    f.write("\n".join(stmts) + "\n")
with open(t + "/load.sql", "w") as f:
    f.write(stmts[0] + ";\n" + stmts[1] + ";\n")
    f.write("BEGIN;\nDELETE FROM big WHERE id > 5000;\nCOMMIT;\n")
    f.write(stmts[2] + ";\n" + stmts[3] + ";\n")
EOF
START=$(master)
sql "$DB" <"$T/load.sql"
sql -N -B "$DB" -e "SELECT id, n, amount, code, note, big FROM big ORDER BY id" >"$T/table.tsv"

run_b2a() { # NAME OUT ARGS...
	local name=$1 out=$2 rc=0
	shift 2
	b2a "$@" >"$out" 2>"$out.err" || rc=$?
	check_eq "$name: exit 0" "$rc" 0
	"$BIN/streamcat" "$out" >"$out.json"
}
run_b2a "default" "$T/plain.avro"
run_b2a "--include-query" "$T/query.avro" --include-query
run_b2a "--include-query --query-max-bytes 64" "$T/q64.avro" \
	--include-query --query-max-bytes 64
check_rc "--query-max-bytes under 64 is refused" 64 \
	"$BIN/binlog2avro" --include-query --query-max-bytes 63 /dev/null

$PY - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
stmts = open(t + "/stmts.txt", encoding="utf-8").read().split("\n")[:4]
MARK = "... (truncated: %d bytes)"
bad = []

def line(ok, what, why=""):
    print(("ok t1010-binlog2avro-bulk: %s" % what) if ok else
          ("not ok t1010-binlog2avro-bulk: %s: %s" % (what, why)))

def changes(name):
    out = []
    for raw in open("%s/%s.avro.json" % (t, name), encoding="utf-8"):
        f = json.loads(raw)
        if f["kind"] == "change" and f["value"] is not None:
            out.append((len(raw), f))
    return out

def want_query(s, cap):
    b = s.encode()
    if len(b) <= cap:
        return s
    cut = cap
    while cut > 0 and (b[cut] & 0xC0) == 0x80:
        cut -= 1
    return b[:cut].decode() + MARK % len(b)

def stmt_of(f):
    v = f["value"]
    op, row = v["op"], (v["after"] or v["before"])
    if op == "d":
        return "DELETE FROM big WHERE id > 5000"
    if op == "u":
        return stmts[2] if row["id"] == 1 else stmts[3]
    return stmts[0] if row["id"] <= 5000 else stmts[1]

plain, query, q64 = changes("plain"), changes("query"), changes("q64")
ops = {}
for _, f in plain:
    ops[f["value"]["op"]] = ops.get(f["value"]["op"], 0) + 1
line(ops == {"c": 105000, "u": 2, "d": 100000}, "every row once: 105000 c, 2 u, 100000 d", ops)
line(all(f["value"]["source"]["query"] is None for _, f in plain),
     "by default source.query is null")
longest = max(n for n, _ in plain)
line(longest < 2000, "by default no change carries the statement (longest %d bytes of JSON)" % longest)

for name, got, cap in (("--include-query", query, 4096), ("--query-max-bytes 64", q64, 64)):
    wrong = [(f["value"]["source"]["query"], want_query(stmt_of(f), cap)) for _, f in got
             if f["value"]["source"]["query"] != want_query(stmt_of(f), cap)]
    line(not wrong, "%s: every change's query is its statement, cut at %d bytes" % (name, cap),
         "%d wrong, first %r" % (len(wrong), wrong[:1]))
    grow = max(a - b for (a, _), (b, _) in zip(got, plain))
    limit = 2 * cap + 64   # JSON escapes double at worst
    line(len(got) == len(plain) and grow <= limit,
         "%s: no change grows by more than its cut statement (%d <= %d)" % (name, grow, limit))
q = [f["value"]["source"]["query"] for _, f in query if f["value"]["after"] and f["value"]["after"]["id"] == 1][0]
line(q.endswith(MARK % len(stmts[0].encode())) and len(q.encode()) <= 4096 + 40,
     "the 5,000-row statement: its first 4096 bytes and its length (%d)" % len(stmts[0].encode()))
q = [f["value"]["source"]["query"] for _, f in q64 if f["value"]["op"] == "u" and f["value"]["after"]["id"] == 2][0]
head = q[:-len(MARK % len(stmts[3].encode()))]
line(len(head.encode()) == 63 and stmts[3].startswith(head),
     "--query-max-bytes 64 cuts before the character that byte 64 is inside", repr(q))

# The DELETE: one transaction, every id, past the spill threshold.
dels = [f for _, f in plain if f["value"]["op"] == "d"]
ids = sorted(f["value"]["before"]["id"] for f in dels)
trx = {f["value"]["transaction"]["id"] for f in dels}
orders = [f["value"]["transaction"]["total_order"] for f in dels]
line(ids == list(range(5001, 105001)) and len(trx) == 1 and orders == list(range(1, 100001)),
     "the 100,000-row DELETE: one transaction, every id, total_order 1..100000")

# The table as MariaDB has it against the stream replayed.
state = {}
for _, f in plain:
    v = f["value"]
    if v["op"] == "d":
        state.pop(v["before"]["id"], None)
    else:
        state[v["after"]["id"]] = v["after"]
def tsv(r):
    return "\t".join(str(x) for x in (r["id"], r["n"], r["amount"], r["code"], r["note"], r["big"]))
got = [tsv(state[k]) for k in sorted(state)]
want = open(t + "/table.tsv", encoding="utf-8").read().split("\n")[:-1]
diff = [(a, b) for a, b in zip(got, want) if a != b]
line(len(got) == len(want) == 5000 and not diff, "the stream replayed equals the table (5000 rows)",
     "%d vs %d rows, first difference %r" % (len(got), len(want), diff[:1]))
EOF
