/* Live replication from a server (live.c). */
#ifndef B2A_LIVE_H
#define B2A_LIVE_H

#include <stdint.h>

#include "binlog.h"

struct b2a_live {
	const char *host, *user, *socket;
	char *password; /* from the environment or a file, never argv */
	int port;
	uint32_t server_id;
	const char *start; /* NULL or "end": the server's current end */
	int stop_at_end;
	int64_t heartbeat_ms;
	int retries;
	int tls, tls_verify;
	const char *tls_ca;
	int snapshot;           /* B2A_SNAPSHOT_* (snapshot.c) */
	int64_t snapshot_chunk; /* rows per snapshot chunk */
	int no_schema_lookup; /* table maps without names: by position */
};

enum { B2A_SNAPSHOT_INITIAL, B2A_SNAPSHOT_NEVER, B2A_SNAPSHOT_ONLY };

struct st_mysql;

/* Connects (connect.c) to the server of l with read and write timeouts of timeout
 * seconds; NULL with err set on failure. The caller closes the handle with
 * mysql_close(). */
struct st_mysql *b2a_live_connect(const struct b2a_live *l,
    unsigned int timeout, char *err, size_t errlen);

/* Takes the initial snapshot l->snapshot asks for (snapshot.c), or resumes
 * the one of a snapshot: start position, then replicates from the
 * snapshot's binlog position with b2a_live_run() (unless only a snapshot is
 * wanted). Returns an exit code. */
int b2a_snapshot_run(struct b2a_decoder *d, const struct b2a_live *l);

/* The information_schema lookup of live replication (schemalookup.c):
 * connects lazily, on a connection of its own, with l's settings (l must
 * outlive it). Free with b2a_lookup_free(). */
struct b2a_lookup *b2a_lookup_new(const struct b2a_live *l);
void b2a_lookup_free(struct b2a_lookup *k);
/* The decoder's namer (b2a_names_fn, arg a struct b2a_lookup): completes
 * table map t from information_schema. Returns 0 when done (t finished
 * again), 1 when the table is not there to ask, or -1 with err set:
 * b2a_lookup_code() says how to exit. */
int b2a_lookup_table(void *arg, const struct b2a_options *o,
    const struct b2a_where *at, struct b2a_table *t, int *rule, char *err,
    size_t errlen);
/* The exit code for the last failure of b2a_lookup_table(): EX_DATAERR
 * (the table disagrees with its table map), 1 (a server error),
 * EX_UNAVAILABLE (the server unreachable after the retries), or -1 (the
 * connection lost: reconnecting may help); 0 when the last call did not
 * fail. */
int b2a_lookup_code(const struct b2a_lookup *k);

/* Replicates until stopped, the end (stop_at_end) or a fatal error;
 * returns an exit code. */
int b2a_live_run(struct b2a_decoder *d, const struct b2a_live *l);

#endif
