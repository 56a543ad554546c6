/* Option and environment helpers. */
#ifndef CDC_OPT_H
#define CDC_OPT_H

#include <stddef.h>
#include <stdint.h>

/* Parses a decimal integer in [min, max] from s; returns 0, or -1 with a
 * message such as "invalid --batch-size '0': must be 1..1000000" in err. */
int cdc_parse_int(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen);

/* cdc_parse_int() for a command line: the message goes to the log. */
int cdc_opt_int(const char *name, const char *s, int64_t min, int64_t max,
    int64_t *out);

/* The options every tool has (docs/options.md): -q/--quiet (errors
 * only), -v/--verbose (debug; twice: the libraries' debug too) and
 * -T/--log-time (timestamps). Call it from a getopt loop with the option
 * character: 1 when it was one of them (and is done), 0 otherwise. */
int cdc_opt_common(int c);

/* getenv() that treats an empty variable as unset. */
const char *cdc_getenv(const char *name);

/* cdc_getenv(name), else the variable's former name old, with a warning
 * that old is deprecated (old names work for one release). */
const char *cdc_getenv_renamed(const char *name, const char *old);

/* Warns that the spelling old of an option is deprecated in favour of now
 * (old spellings work for one release; docs/options.md). */
void cdc_opt_deprecated(const char *old, const char *now);

/* Reads a secret from a file: the first line, without its newline. Returns a
 * string the caller frees, or NULL with a message in err. */
char *cdc_read_secret(const char *path, char *err, size_t errlen);

#endif
