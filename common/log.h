/* Logging to stderr for every tool: one line per message, program name first. */
#ifndef CDC_LOG_H
#define CDC_LOG_H

#define CDC_ERRLEN 512

enum cdc_level {
	CDC_LOG_ERROR,
	CDC_LOG_WARN,
	CDC_LOG_INFO,
	CDC_LOG_DEBUG,
	CDC_LOG_TRACE /* library debug output (-vv) */
};

extern const char *cdc_progname;
extern int cdc_verbosity; /* messages above this level are dropped */
extern int cdc_log_time;  /* prefix an ISO 8601 UTC timestamp */

/* Sets cdc_progname from argv[0], makes sure fds 0-2 are open, ignores
 * SIGPIPE (the libraries own sockets; stdout EPIPE is handled by the tools). */
void cdc_init(const char *argv0);

void cdc_log(enum cdc_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define cdc_error(...) cdc_log(CDC_LOG_ERROR, __VA_ARGS__)
#define cdc_warn(...)  cdc_log(CDC_LOG_WARN, __VA_ARGS__)
#define cdc_info(...)  cdc_log(CDC_LOG_INFO, __VA_ARGS__)
#define cdc_debug(...) cdc_log(CDC_LOG_DEBUG, __VA_ARGS__)

/* Writes a formatted message into err (which may be NULL) and returns -1, so
 * library code can say "return cdc_err(err, errlen, ...)".
 *
 * The error convention of every tool (docs/options.md, "Errors and exit
 * codes"): a function that does one thing returns -1 (or a named value
 * declared beside it) with one line in err, and prints nothing; the layer
 * that knows what the failure means prints it once with cdc_error() and
 * returns an exit code of <sysexits.h>; callbacks keep the first code in
 * their state; only main() ends the process. */
int cdc_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
