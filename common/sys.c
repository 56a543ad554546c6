/* Signals, full writes, stdout close, clocks and the heap's policy. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sys.h"

volatile sig_atomic_t cdc_stop;

static void
on_signal(int sig)
{
	if (cdc_stop)
		_exit(128 + sig);
	cdc_stop = sig;
}

void
cdc_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
cdc_write_full(int fd, const void *p, size_t n)
{
	const char *s = p;
	struct pollfd pfd;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				pfd.fd = fd;
				pfd.events = POLLOUT;
				(void)poll(&pfd, 1, 500);
				continue;
			}
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void
cdc_epipe_check(int err)
{
	struct sigaction sa;

	if (err != EPIPE)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	raise(SIGPIPE);
}

int
cdc_stdout_close(int rc)
{
	int bad;

	bad = fflush(stdout) != 0 || ferror(stdout);
	if (fclose(stdout) != 0)
		bad = 1;
	if (bad && rc == 0) {
		cdc_epipe_check(errno);
		cdc_error("cannot write to stdout: %s", strerror(errno));
		return EX_IOERR;
	}
	return rc;
}

int64_t
cdc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
cdc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cdc_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* The handlers have no SA_RESTART: a signal ends the wait early. */
	while (!cdc_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
cdc_heap_keep(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
	mallopt(M_TOP_PAD, 16 * 1024 * 1024);
}
