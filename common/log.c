/* Logging to stderr: "prog: level: message", optionally time-stamped. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

const char *cdc_progname = "cdc";
int cdc_verbosity = CDC_LOG_INFO;
int cdc_log_time;

static const char *level_names[] = {"error", "warning", "info", "debug",
    "trace"};

void
cdc_init(const char *argv0)
{
	const char *slash;
	struct sigaction sa;
	struct stat st;
	int fd;

	if (argv0 != NULL) {
		slash = strrchr(argv0, '/');
		cdc_progname = slash != NULL ? slash + 1 : argv0;
	}
	/* A closed fd 0-2 would be reused by the next open(); point it at
	 * /dev/null so stray writes cannot corrupt a data file. */
	for (fd = 0; fd <= 2; fd++) {
		if (fstat(fd, &st) == -1 && errno == EBADF) {
			if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) ==
			    -1)
				_exit(70);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

void
cdc_log(enum cdc_level level, const char *fmt, ...)
{
	char line[2048], stamp[40];
	va_list ap;
	size_t n;
	int saved = errno;

	if ((int)level > cdc_verbosity)
		return;
	stamp[0] = '\0';
	if (cdc_log_time) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ ",
		    ts.tv_nsec / 1000000);
	}
	n = (size_t)snprintf(line, sizeof(line), "%s%s: %s: ", stamp,
	    cdc_progname, level_names[level]);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write(2) so lines from concurrent processes do not interleave. */
	(void)!write(STDERR_FILENO, line, n);
	errno = saved;
}

int
cdc_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = saved; /* callers still look at the failed call's errno */
	return -1;
}
