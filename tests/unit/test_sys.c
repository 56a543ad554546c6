/* common/sys: full writes through pipes (blocking and not), the errors a
 * write can end with, stdout's close, SIGPIPE on EPIPE, the stop signals,
 * the clocks and the sleep. Children carry what would end or redirect this
 * process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sys.h"

#define BIG (1 << 20) /* 16 times a pipe's buffer */

static void
nap_us(long us)
{
	struct timespec ts = {0, us * 1000};

	nanosleep(&ts, NULL);
}

/* A child that reads fd to its end (closing the writing end w it
 * inherited), slowly when slow, and exits 0 when it read exactly n bytes
 * of the pattern. */
static pid_t
reader(int fd, int w, size_t n, int slow)
{
	pid_t pid = fork();
	unsigned char b[4096];
	size_t got = 0, i;
	ssize_t r;
	int bad = 0;

	if (pid != 0)
		return pid;
	close(w);
	while ((r = read(fd, b, sizeof(b))) > 0) {
		for (i = 0; i < (size_t)r; i++)
			bad |= b[i] != (unsigned char)((got + i) * 7);
		got += (size_t)r;
		if (slow)
			nap_us(200);
	}
	_exit(got == n && !bad ? 0 : 1);
}

static int
exit_code(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* Writes BIG bytes to a pipe that a child reads; nonblock sets O_NONBLOCK
 * on the writing end first. Returns 1 when both sides agree. */
static int
through_pipe(int nonblock)
{
	unsigned char *p = malloc(BIG);
	int fds[2], rc;
	size_t i;
	pid_t pid;

	for (i = 0; i < BIG; i++)
		p[i] = (unsigned char)(i * 7);
	if (pipe(fds) == -1)
		return 0;
	pid = reader(fds[0], fds[1], BIG, nonblock);
	close(fds[0]);
	if (nonblock)
		fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
	rc = cdc_write_full(fds[1], p, BIG);
	close(fds[1]);
	free(p);
	return rc == 0 && exit_code(pid) == 0;
}

/* The exit code of a child that writes to stdout on path, then ends with
 * cdc_stdout_close(rc) (its one-line message, if any, to /dev/null). */
static int
close_stdout_on(const char *path, int rc)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(open(path, O_WRONLY), STDOUT_FILENO);
		dup2(open("/dev/null", O_WRONLY), STDERR_FILENO);
		fputs("some output", stdout);
		_exit(cdc_stdout_close(rc));
	}
	return exit_code(pid);
}

int
main(void)
{
	int fds[2], fd, rc, err;
	int64_t now, m0, m1;
	pid_t pid;

	check_file = "test_sys";
	signal(SIGPIPE, SIG_IGN); /* as cdc_init() does */

	CHECK("1 MiB through a pipe, every byte in order",
	    through_pipe(0));
	CHECK("and through a non-blocking pipe to a slow reader (no EAGAIN)",
	    through_pipe(1));

	if (pipe(fds) == 0) {
		close(fds[0]);
		errno = 0;
		rc = cdc_write_full(fds[1], "x", 1);
		err = errno;
		close(fds[1]);
		CHECK("a pipe with no reader: -1 with EPIPE",
		    rc == -1 && err == EPIPE);
	}
	fd = open("/dev/full", O_WRONLY);
	if (fd != -1) {
		errno = 0;
		rc = cdc_write_full(fd, "x", 1);
		err = errno;
		close(fd);
		CHECK("a full device: -1 with ENOSPC", rc == -1 && err == ENOSPC);
	}
	CHECK("nothing to write is done at once",
	    cdc_write_full(-1, "", 0) == 0);

	/* EPIPE on stdout ends the process as SIGPIPE would. */
	pid = fork();
	if (pid == 0) {
		cdc_epipe_check(EIO); /* returns */
		cdc_epipe_check(EPIPE);
		_exit(3);
	}
	CHECK("cdc_epipe_check(EPIPE) ends the process by SIGPIPE (141); "
	      "other errors return",
	    exit_code(pid) == 128 + SIGPIPE);

	/* stdout that cannot be flushed turns success into EX_IOERR. */
	CHECK("stdout on a full device: cdc_stdout_close(0) gives EX_IOERR",
	    close_stdout_on("/dev/full", 0) == EX_IOERR);
	CHECK("a good stdout: 0 stays 0",
	    close_stdout_on("/dev/null", 0) == 0);
	CHECK("and another code passes through",
	    close_stdout_on("/dev/null", 5) == 5);

	/* The first SIGTERM asks to stop; a second ends at once. */
	pid = fork();
	if (pid == 0) {
		cdc_signals_install();
		raise(SIGTERM);
		if (cdc_stop != SIGTERM)
			_exit(1);
		raise(SIGINT);
		_exit(2);
	}
	CHECK("SIGTERM sets cdc_stop and the process goes on; a second "
	      "signal exits 128 + its number",
	    exit_code(pid) == 128 + SIGINT);

	now = cdc_now_ms();
	CHECK("cdc_now_ms is the wall clock",
	    llabs(now - (int64_t)time(NULL) * 1000) < 2000);
	m0 = cdc_mono_ms();
	nap_us(20000);
	m1 = cdc_mono_ms();
	CHECK("cdc_mono_ms moves forward with time", m1 - m0 >= 15 &&
	    m1 - m0 < 5000);
	m0 = cdc_mono_ms();
	cdc_sleep_ms(20);
	CHECK("cdc_sleep_ms(20) sleeps at least 20 ms",
	    cdc_mono_ms() - m0 >= 20);

	/* A stop signal during the sleep ends it: a grandchild sends
	 * SIGTERM 50 ms in; a sleep of 60 s that ran on exits 1. */
	pid = fork();
	if (pid == 0) {
		cdc_signals_install();
		if (fork() == 0) {
			nap_us(50000);
			kill(getppid(), SIGTERM);
			_exit(0);
		}
		m0 = cdc_mono_ms();
		cdc_sleep_ms(60000);
		_exit(cdc_stop == SIGTERM && cdc_mono_ms() - m0 < 30000 ? 0 :
									 1);
	}
	CHECK("SIGTERM ends cdc_sleep_ms early", exit_code(pid) == 0);
	return check_done();
}
