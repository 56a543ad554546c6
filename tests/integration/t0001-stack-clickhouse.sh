#!/usr/bin/env bash
# scripts/stack: ClickHouse takes rows over HTTP and returns them.
. "$(dirname "$0")/lib.sh"
need_stack

db=t0001_clickhouse_$$

# ch SQL [BODY]: run SQL over HTTP; BODY, when given, is the data.
ch() {
	if [ "$#" -eq 1 ]; then
		curl -sS --fail-with-body --max-time 30 "$CDC_CLICKHOUSE_URL" \
		    --data-binary "$1"
	else
		curl -sS --fail-with-body --max-time 30 "$CDC_CLICKHOUSE_URL" \
		    --url-query "query=$1" --data-binary "$2"
	fi
}

check_eq "select 1" "$(ch 'SELECT 1' 2>&1)" 1
check "create database" ch "CREATE DATABASE $db"
check "create MergeTree table" ch "CREATE TABLE $db.t (id UInt32, s String)
    ENGINE = MergeTree() ORDER BY id"
check "insert TSV" ch "INSERT INTO $db.t FORMAT TabSeparated" \
    "$(printf '1\thello\n2\twörld')"
check_eq "select rows" "$(ch "SELECT id, s FROM $db.t ORDER BY id" 2>&1)" \
    "$(printf '1\thello\n2\twörld')"
check "create Memory table" ch "CREATE TABLE $db.m (x Int64) ENGINE = Memory"
check "insert values" ch "INSERT INTO $db.m VALUES (-5), (7)"
check_eq "sum" "$(ch "SELECT sum(x) FROM $db.m" 2>&1)" 2
check "drop database" ch "DROP DATABASE $db"
