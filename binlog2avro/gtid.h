/* The executed GTID set at a binlog position: MySQL's uuid[:tag]:intervals
 * and MariaDB's domain-server-seq lists, in the text forms the servers use. */
#ifndef B2A_GTID_H
#define B2A_GTID_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

struct b2a_gtid_interval {
	uint64_t start, end; /* inclusive */
};

struct b2a_gtid_sid {
	char name[64 + 40]; /* uuid, or uuid:tag */
	struct b2a_gtid_interval *iv;
	size_t niv;
};

struct b2a_gtid_domain {
	uint32_t domain, server;
	uint64_t seq;
};

struct b2a_gtid_set {
	struct b2a_gtid_sid *sids;
	size_t nsids;
	struct b2a_gtid_domain *domains;
	size_t ndomains;
};

void b2a_gtid_init(struct b2a_gtid_set *g);
void b2a_gtid_clear(struct b2a_gtid_set *g);
/* Adds MySQL GTID name:gno (name is the uuid, or uuid:tag). */
void b2a_gtid_add(struct b2a_gtid_set *g, const char *name, uint64_t gno);
/* Adds an interval [start, end] for name. */
void b2a_gtid_add_interval(struct b2a_gtid_set *g, const char *name,
    uint64_t start, uint64_t end);
/* Records MariaDB GTID domain-server-seq (the newest of its domain). */
void b2a_gtid_maria(struct b2a_gtid_set *g, uint32_t domain, uint32_t server,
    uint64_t seq);
/* Appends the set as text ("" when empty). */
void b2a_gtid_text(const struct b2a_gtid_set *g, struct cdc_buf *out);
/* Formats a 16-byte uuid. */
void b2a_uuid_text(const uint8_t *u, char out[37]);

/* Whether text (after blanks) starts with a uuid: a MySQL GTID set, not
 * FILE:POS or MariaDB's domain-server-sequence. */
int b2a_gtid_is_mysql(const char *text);
/* Adds a MySQL GTID set in MySQL's text form to g: "uuid:1-5:7,uuid2:3",
 * blanks and newlines around every item, tags (MySQL 8.3+) as in
 * "uuid:1-5:tag:1-3" or "uuid:tag:1-3"; uuids and tags are kept lowercase.
 * Stricter than MySQL on numbers: decimal only (MySQL would read "010" as
 * octal), 1..2^63-2, an interval's end not before its start. Returns 0, or
 * -1 with err saying what is wrong where; g may then hold part of it. */
int b2a_gtid_parse_mysql(struct b2a_gtid_set *g, const char *text,
    char *err, size_t errlen);
/* Adds the MySQL GTIDs of from to g (MariaDB domains are left out). */
void b2a_gtid_add_set(struct b2a_gtid_set *g, const struct b2a_gtid_set *from);
/* Appends the MySQL sids of g in MySQL's binary form (Gtid_set::encode):
 * the 8-byte sid count, then per sid in uuid, tag order the 16-byte uuid,
 * the 8-byte interval count and each interval's start and exclusive end,
 * all little-endian. With a tagged sid, the MySQL 8.3+ tagged format: the
 * count is (1 << 56 | n << 8 | 1) and every uuid is followed by its tag,
 * a length byte (length << 1) and the lowercase characters. Sid names must
 * be lowercase uuid[:tag], as b2a_gtid_parse_mysql() and the decoder make
 * them. */
void b2a_gtid_encode(const struct b2a_gtid_set *g, struct cdc_buf *out);

#define B2A_COM_BINLOG_DUMP_GTID  0x1e
#define B2A_BINLOG_DUMP_NON_BLOCK 0x01
#define B2A_BINLOG_THROUGH_GTID   0x04
/* Appends the arguments of COM_BINLOG_DUMP_GTID (what follows the command
 * byte): flags (BINLOG_THROUGH_GTID, and BINLOG_DUMP_NON_BLOCK when
 * nonblock) in 2 bytes, server_id in 4, an empty file name (its 4-byte
 * length 0), position 4 in 8, then the 4-byte size and the encoding of g:
 * the server starts at its first binlog that g does not cover and skips
 * the transactions in g, as for a MySQL replica with auto-positioning. */
void b2a_gtid_dump_request(const struct b2a_gtid_set *g, uint32_t server_id,
    int nonblock, struct cdc_buf *out);

#endif
