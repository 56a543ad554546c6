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
};

/* Replicates until stopped, the end (stop_at_end) or a fatal error;
 * returns an exit code. */
int b2a_live_run(struct b2a_decoder *d, const struct b2a_live *l);

#endif
