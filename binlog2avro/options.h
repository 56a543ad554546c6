/* binlog2avro's command line (options.c): flags, environment and the
 * secrets, checked and ready for run(). */
#ifndef B2A_OPTIONS_H
#define B2A_OPTIONS_H

#include "binlog.h"
#include "live.h"
#include "stream.h"

struct opts {
	struct b2a_options b;
	struct b2a_live live;
	const char *password_file;
	const char *salt_file;
	char *salt;
	const char *metrics; /* --metrics FILE */
	enum cdc_codec codec;
	int unbuffered;
	int force;
	int snapshot_given;
	char **files;
	int nfiles;
};

/* Parses argv into o (which it clears first). Returns 0; 1 after -h or -V
 * printed (exit 0); or -1 after saying what is wrong on stderr (exit 64). */
int b2a_opts_parse(struct opts *o, int argc, char *argv[]);
/* Live mode's settings from the environment, the salt and the password;
 * returns an exit code on failure, 0 on success. */
int b2a_opts_finish(struct opts *o);
/* Frees what b2a_opts_parse() and b2a_opts_finish() allocated. */
void b2a_opts_free(struct opts *o);

#endif
