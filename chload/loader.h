/* The loader: tables, their RowBinary buffers and inserts (load.c), their
 * DDL (ddl.c), and the acknowledgement of commit marks. */
#ifndef CHLOAD_LOADER_H
#define CHLOAD_LOADER_H

#include <stdint.h>
#include <stdio.h>

#include "chload.h"
#include "stream.h"

struct load_opts {
	const char *url, *user, *password;
	const char *database;    /* all tables in this one, or NULL */
	const char *db_prefix;   /* before each MySQL database name */
	const char *view_suffix; /* the current-state view: table + this */
	const char *dead_letter; /* file, or NULL: a rejected row is fatal */
	const char *server_version; /* assume this instead of asking */
	const char *cluster;     /* replicated tables, DDL ON CLUSTER; or NULL */
	int dry_run;
	int apply_drops;
	int ack_fd; /* -1: none */
	int64_t batch_rows, batch_bytes, linger_ms, max_inflight;
	int64_t retry_ms, timeout_ms;
	int64_t stats_ms; /* info line every so often, 0: never */
	const char *metrics; /* --metrics FILE, or NULL */
};

/* Rows waiting for one INSERT. */
struct batch {
	struct cdc_buf data;
	uint32_t *rowoff; /* start of each row in data */
	size_t nrows, caprows;
	int64_t first_commit; /* commit ordinal the oldest row belongs to */
	int64_t t0;           /* monotonic ms of the oldest row */
};

struct table {
	char *db, *name;         /* MySQL */
	char *chdb, *chname;     /* ClickHouse */
	char *qname;             /* `chdb`.`chname` */
	struct tschema *schema;  /* current columns; owned by the loader */
	char *insert_sql;
	struct batch fill, flight;
	struct ch_req *req;
	int inflight;            /* flight holds rows not yet in ClickHouse */
	int64_t retry_at;        /* monotonic ms; 0: sending or idle */
	int64_t retry_since;
	int attempts;
	int refreshed;           /* DDL re-run after a structural failure */
	/* The key of the last delete of a partial image: the create of the
	 * same version that follows (a key change) takes the columns its
	 * image lacks from that row. */
	struct cdc_buf kc_where;
	uint64_t kc_version;
	int kc_set;
	struct cdc_buf held; /* that delete, encoded, until then */
	int has_held;
	/* Keyless: the last image of each kind (_deleted 0, 1) written. */
	uint64_t kl_version[2], kl_hash[2];
	int kl_set[2];
};

struct commit_mark {
	int64_t ordinal, seq;
	int64_t version, ts_ms; /* for the metrics */
	char *pos;
};

struct loader {
	struct load_opts o;
	struct ch *ch;
	struct ch_caps caps;
	FILE *dead;
	struct table **tables;
	size_t ntables;
	struct tschema **schemas; /* every compiled schema; latest per fp */
	size_t nschemas;
	struct commit_mark *marks;
	size_t nmarks, capmarks;
	int64_t ncommits, acked;
	int64_t maxver;
	int64_t src_ts_ms; /* newest source commit time of a change read */
	struct cell *before, *after;
	size_t ncells;
	struct cdc_buf scratch;
	struct cdc_buf fetched; /* rows read back to complete partial images */
	int rc; /* a fatal exit code, once set */
	int idle; /* the input has nothing more for now: flush at once */
	/* Counters for the info line. */
	uint64_t in, out, inserts, retries, dead_rows, bytes_out, ddl;
	uint64_t completed; /* partial images completed from ClickHouse */
	int64_t last_stats;
	struct loader_metrics *metrics; /* --metrics, else NULL */
};

/* load.c */
struct loader *loader_new(const struct load_opts *o);
void loader_free(struct loader *l);
/* Connects and finds the server version (with retries). Returns 0 or an
 * exit code. */
int loader_start(struct loader *l);
/* Handles one frame; returns 0 or an exit code. */
int loader_frame(struct loader *l, struct cdc_reader *r,
    const struct cdc_frame *f);
/* Whether reading should pause until inserts finish. */
int loader_backpressure(const struct loader *l);
/* Waits up to timeout_ms for the network or for fd (-1: none), runs due
 * flushes and retries, handles finished inserts and sends acks. Returns 0 or
 * an exit code. */
int loader_service(struct loader *l, int fd, int timeout_ms);
/* Milliseconds until the next flush or retry is due (at most max). */
int loader_next_due(const struct loader *l, int max);
/* Whether the input is idle (nothing to read now): buffers are then sent
 * without waiting for their linger. */
void loader_set_idle(struct loader *l, int idle);
/* Waits up to ms for input on fd while the inserts in flight go on: curl
 * sends a request body 64 KiB per call, so a wait on fd alone left an
 * insert that had all its rows one 64 KiB piece per pause (6 MB/s; a
 * second and more for the last batch of a catch-up). Returns 1 when fd is
 * readable or an insert finished (to be handled now), 0 after ms. */
int loader_wait_input(struct loader *l, int fd, int ms);
/* Flushes everything and waits for it (end of input or a signal). Returns
 * 0 when all is in ClickHouse and acknowledged, else an exit code. */
int loader_finish(struct loader *l);
/* Puts the deletes held back for key changes into their buffers. */
void loader_release_held(struct loader *l);
/* Flushes one table and waits until it has nothing in flight. */
int loader_drain(struct loader *l, struct table *t);
void loader_stats(struct loader *l, int force);

/* metrics.c: the --metrics registry (a no-op without --metrics). */
void loader_metrics_new(struct loader *l);
/* Records a commit mark acknowledged: its version and freshness. */
void loader_metrics_acked(struct loader *l, const struct commit_mark *cm);
/* Writes the file (at each stats tick and at exit). */
void loader_metrics_write(struct loader *l);
void loader_metrics_free(struct loader *l);

/* ddl.c */
/* Runs one DDL statement (printed in --dry-run), retrying while ClickHouse
 * is unreachable. Returns 0 or an exit code. */
int ddl_exec(struct loader *l, const char *sql);
/* Creates the database, table and view of t for schema s, or brings their
 * columns to s; old (may be NULL) is the schema rows used so far, whose
 * columns not in s are dropped. Returns 0 or an exit code. */
int ddl_sync_table(struct loader *l, struct table *t, struct tschema *s,
    const struct tschema *old);
/* Remakes the current-state view of t for its columns (after a column
 * widened). Returns 0 or an exit code. */
int ddl_sync_view(struct loader *l, struct table *t);
/* Runs a query (retrying while ClickHouse is unreachable); its answer
 * goes to out. Returns 0 or an exit code. */
int ddl_fetch(struct loader *l, const char *sql, struct cdc_buf *out);
/* Empties the current state of t up to version (op t, TRUNCATE); the
 * caller has sent what the loader held of t (loader_drain). */
int ddl_truncate(struct loader *l, struct table *t, uint64_t version);
/* The same for db.name when no table of the run loads it but ClickHouse
 * has one. */
int ddl_truncate_named(struct loader *l, const char *db, const char *name,
    uint64_t version);
/* DROP TABLE of the source at pos: applied with --apply-drops, otherwise
 * reported. */
int ddl_drop_table(struct loader *l, const char *db, const char *name,
    const char *pos);
/* RENAME of the source at pos: the table, its truncations and (for the
 * columns of s, when a loaded table had them) its view follow. */
int ddl_rename_table(struct loader *l, const char *db, const char *name,
    const char *db2, const char *name2, const char *pos,
    const struct tschema *s);
/* frames.c: a frame of the stream, in order: a Ddl frame is applied or
 * reported, the others go to loader_frame(). Returns 0 or an exit code. */
int frame_apply(struct loader *l, struct cdc_reader *r,
    const struct cdc_frame *f);
/* Names of t in ClickHouse, from the options. */
void ddl_names(struct loader *l, struct table *t);
/* Finds a loaded table by MySQL names, or NULL. */
struct table *loader_table(struct loader *l, const char *db, const char *name);
/* Forgets a table (after a drop or rename), freeing it. */
void loader_forget(struct loader *l, struct table *t);

#endif
