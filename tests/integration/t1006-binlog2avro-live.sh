#!/usr/bin/env bash
# binlog2avro as a live replica of the local MariaDB: the same binlog gives
# the same stream live and offline; killed with SIGKILL at random moments
# (several seeds) and restarted from the last commit mark it wrote, the
# concatenated output equals one uninterrupted run; heartbeats move the
# position on a quiet server.
. "$(dirname "$0")/lib.sh"
need_stack
export MYSQL_PWD=$CDC_MYSQL_PASSWORD
DB=t1l_$$
my() { mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$@"; }
trap 'my -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null; rm -rf "$T"' EXIT
PY=/usr/bin/python3

# changes FILE: the change frames, one per line, without the processing
# time (the envelope's ts_ms) that differs between runs.
changes() {
	"$BIN/streamcat" "$1" 2>/dev/null | grep '"kind":"change"' |
		sed -E 's/"op":"([a-z])","ts_ms":[0-9]+/"op":"\1","ts_ms":0/'
}

my -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
my "$DB" -e "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(12,3),
	t DATETIME(6)); CREATE TABLE b (n INT, s TEXT)"
my -e "FLUSH BINARY LOGS"
first=$(my -N -e "SHOW MASTER STATUS" | cut -f1)

# A workload of ~300 transactions.
RANDOM=42
{
	for ((i = 0; i < 300; i++)); do
		echo "BEGIN;"
		id=$((RANDOM % 100))
		echo "INSERT INTO a VALUES ($id, 'v$RANDOM', $RANDOM.$((RANDOM % 1000)), NOW(6))
		    ON DUPLICATE KEY UPDATE v = CONCAT(v, 'x'), d = d + 1;"
		echo "INSERT INTO b SELECT seq, REPEAT('s', seq % 50) FROM seq_1_to_50;"
		[ $((i % 7)) -eq 0 ] && echo "DELETE FROM a WHERE id = $((RANDOM % 100));"
		[ $((i % 11)) -eq 0 ] && echo "UPDATE IGNORE a SET id = id + 1000 WHERE id = $((RANDOM % 100));"
		echo "COMMIT;"
	done
} | my "$DB"
my -e "FLUSH BINARY LOGS"
last=$(my -N -e "SHOW MASTER STATUS" | cut -f1)
files=()
for f in $(ls "$CDC_MYSQL_BINLOG_DIR" | grep -E '\.[0-9]+$' | sort); do
	[[ "$f" < "$first" || ! "$f" < "$last" ]] && continue
	files+=("$CDC_MYSQL_BINLOG_DIR/$f")
done

"$BIN/binlog2avro" --include "$DB.*" "${files[@]}" >"$T/offline.avro" 2>"$T/offline.err"
changes "$T/offline.avro" >"$T/offline.txt"
n=$(wc -l <"$T/offline.txt")
rc=0
"$BIN/binlog2avro" --include "$DB.*" --server-id 9101 --start "$first:4" \
	--stop-at-end >"$T/live.avro" 2>"$T/live.err" || rc=$?
check_eq "live exits 0 at --stop-at-end" "$rc" 0
changes "$T/live.avro" | head -n "$n" >"$T/live.txt"
if [ "$n" -gt 300 ] && cmp -s "$T/offline.txt" "$T/live.txt"; then
	t_ok "live equals offline: $n changes, byte for byte but the processing time"
else
	t_fail "live equals offline" "$n offline changes; first difference: $(diff "$T/offline.txt" "$T/live.txt" | head -n 2 | cut -c1-200 | tr '\n' ' ')"
fi

# Killed and restarted from its last commit mark, for several seeds: each
# run is killed with SIGKILL once downstream has read a random number of
# bytes of its output (so the kill always lands mid-stream), and the next
# run starts at the last commit mark of what was read.
size=$(wc -c <"$T/live.avro")
for seed in 1 2 3; do
	RANDOM=$seed
	pos="$first:4" parts=() kills=0
	for ((k = 0; k < 5; k++)); do
		out=$T/part$seed.$k.avro
		parts+=("$out")
		if [ "$k" -eq 4 ]; then # the last run goes to the end
			"$BIN/binlog2avro" --include "$DB.*" --server-id $((9110 + seed)) \
				--start "$pos" --stop-at-end -q >"$out" 2>/dev/null
			break
		fi
		cut=$(( (RANDOM * 32768 + RANDOM) % (size / 4) + 1000 ))
		{
			"$BIN/binlog2avro" --include "$DB.*" \
				--server-id $((9110 + seed)) --start "$pos" \
				--stop-at-end -q 2>/dev/null &
			echo $! >"$T/pid"
			wait
		} | {
			head -c "$cut" >"$out"
			kill -KILL "$(cat "$T/pid")" 2>/dev/null && kills=$((kills + 1))
			echo "$kills" >"$T/kills"
			cat >/dev/null
		}
		kills=$(cat "$T/kills")
		p=$("$BIN/streamcat" "$out" 2>/dev/null | grep '"kind":"commit"' |
			tail -n 1 | sed -E 's/.*"position":"([^"]*)".*/\1/')
		[ -n "$p" ] && pos=$p
	done
	: >"$T/joined.txt"
	for f in "${parts[@]}"; do
		# A killed part's changes count up to its last commit mark.
		"$BIN/streamcat" "$f" 2>/dev/null | awk '
			/"kind":"commit"/ { for (i = 0; i < n; i++) print buf[i]; n = 0; next }
			/"kind":"change"/ { buf[n++] = $0 }' |
			sed -E 's/"op":"([a-z])","ts_ms":[0-9]+/"op":"\1","ts_ms":0/' >>"$T/joined.txt"
	done
	head -n "$n" "$T/joined.txt" >"$T/joined.head"
	if [ "$kills" -gt 0 ] && cmp -s "$T/offline.txt" "$T/joined.head"; then
		t_ok "seed $seed: $kills kills mid-stream, restarted at the last commit mark: no change lost or doubled"
	else
		t_fail "seed $seed: kill and restart" "$(wc -l <"$T/joined.txt") changes joined, $n wanted; $(diff "$T/offline.txt" "$T/joined.head" | head -n 2 | cut -c1-200 | tr '\n' ' ')"
	fi
done

# Heartbeats on a quiet server.
timeout 3 "$BIN/binlog2avro" --include "$DB.*" --server-id 9120 --heartbeat 200 \
	--snapshot=never >"$T/hb.avro" 2>/dev/null || true
hb=$("$BIN/streamcat" "$T/hb.avro" 2>/dev/null | grep -c '"kind":"heartbeat"' || true)
if [ "$hb" -ge 3 ]; then
	t_ok "heartbeats while idle ($hb in 3 s at 200 ms)"
else
	t_fail "heartbeats while idle" "$hb heartbeats"
fi
first_commit=$("$BIN/streamcat" "$T/hb.avro" 2>/dev/null | head -n 1)
case $first_commit in
*'"kind":"commit"'*) t_ok "a live start writes a commit mark with its position at once" ;;
*) t_fail "a live start writes a commit mark at once" "$first_commit" ;;
esac
