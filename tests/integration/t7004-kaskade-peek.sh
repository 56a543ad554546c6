#!/usr/bin/env bash
# The operators' Kafka browsers against a live pipeline (scripts/cdc-source
# and scripts/cdc-sink): kaskade (scripts/deps installs it), driven under
# tmux with send-keys and read with capture-pane, lists the pipeline's
# topics and, in a change topic's details, the sink's consumer group; and
# scripts/cdc-peek prints a topic's last N changes as JSON lines.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/pipeline_lib.sh"
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN TMPDIR=$T
DB=t7k_$$
P=t7k_$$
G=$P-g
TOPIC=$P.$DB.t
SOCK=t7004-$$
cleanup() {
	tmux -L "$SOCK" kill-server >/dev/null 2>&1 || true
	pipeline_down
	rm -rf "$T"
}
trap cleanup EXIT
ver=$(sed -n 's/^kaskade==//p' "$ROOT/scripts/kaskade/requirements.txt")
KASKADE=${CDC_DEPS_DIR:-$ROOT/.deps}/kaskade-$ver/bin/kaskade
check "kaskade $ver installed (scripts/deps)" "$KASKADE" --version
check "tmux installed" command -v tmux

pipeline_db "$DB"
export CDC_PIPELINE=$P CDC_TOPIC_PREFIX=$P CDC_STATE_DIR=$T/state
pipeline_up "$P" "$G" $((40000 + $$ % 10000)) "$DB.*"
for ((i = 0; i < 20; i++)); do echo "INSERT INTO t VALUES ($i, $((i * 10)));"; done | sql "$DB"
for ((i = 0; i < 600; i++)); do
	[ "$(ch "SELECT count() FROM $DB.t_current" 2>/dev/null)" = 20 ] && break
	sleep 0.2
done
check_eq "20 rows in ClickHouse" "$(ch "SELECT count() FROM $DB.t_current")" 20

# cdc-peek: the last 5 changes, in order, decoded.
rc=0
"$ROOT/scripts/cdc-peek" "$TOPIC" 5 >"$T/peek.out" 2>"$T/peek.err" || rc=$?
check_eq "cdc-peek exits 0" "$rc" 0
check_eq "cdc-peek: the last 5 changes, as JSON lines" \
    "$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    print(c["topic"], c["key"]["id"], c["value"]["op"], c["value"]["after"]["v"])' "$T/peek.out")" \
    "$(for i in 15 16 17 18 19; do echo "$TOPIC $i c $((i * 10))"; done)"
check_fails "cdc-peek: a bad N" 64 "invalid N" "$ROOT/scripts/cdc-peek" "$TOPIC" x
check_fails "cdc-peek: no topic" 64 "usage" "$ROOT/scripts/cdc-peek"

# kaskade under tmux (Textual draws on stderr: no redirection). screen_has TEXT: until the pane shows TEXT (30 s).
screen_has() {
	local i
	for ((i = 0; i < 60; i++)); do
		tmux -L "$SOCK" capture-pane -p -t k >"$T/pane" 2>/dev/null
		grep -qF -- "$1" "$T/pane" && return 0
		sleep 0.5
	done
	return 1
}
tmux -L "$SOCK" -f /dev/null new-session -d -s k -x 230 -y 50 \
    "TERM=xterm-256color '$KASKADE' admin -b '$CDC_KAFKA_BROKERS'"
check "kaskade shows the topics" screen_has "Topics ["
# The filter: "/", the text, Enter; each key once the screen has settled.
sleep 3
tmux -L "$SOCK" send-keys -t k "/"
sleep 1
tmux -L "$SOCK" send-keys -t k "$P."
sleep 2
tmux -L "$SOCK" send-keys -t k Enter
check "kaskade filters on the prefix" screen_has "[*$P.*][3]"
check "kaskade lists the change topic" screen_has "$TOPIC"
check "kaskade lists the schema topic" screen_has "$P.schemas"
# Sorted by name, the change topic comes third: its details.
tmux -L "$SOCK" send-keys -t k Down
sleep 0.5
tmux -L "$SOCK" send-keys -t k Down
sleep 0.5
tmux -L "$SOCK" send-keys -t k d
check "kaskade shows the topic's details" screen_has "Topic Details [$TOPIC]"
tmux -L "$SOCK" send-keys -t k Right
sleep 0.5
tmux -L "$SOCK" send-keys -t k Right
check "kaskade lists the sink's consumer group" screen_has "$G "
[ -z "${CDC_TEST_KEEP:-}" ] || cp "$T/pane" "$CDC_TEST_KEEP/t7004.pane"
