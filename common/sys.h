/* Exit codes, signals and careful I/O shared by every tool. */
#ifndef CDC_SYS_H
#define CDC_SYS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>

/* Set by SIGINT/SIGTERM; every loop checks it at least every 500 ms. */
extern volatile sig_atomic_t cdc_stop;

/* Installs SIGINT and SIGTERM handlers (no SA_RESTART) that set cdc_stop; a
 * second signal exits at once with 128 + signal. */
void cdc_signals_install(void);

/* Writes all n bytes to fd, looping over short writes and EINTR; a 0-byte
 * write counts as ENOSPC. Returns 0, or -1 with errno set. On a non-blocking
 * fd it waits with poll() rather than failing with EAGAIN. */
int cdc_write_full(int fd, const void *p, size_t n);

/* Called when a write to stdout failed: for EPIPE it resets SIGPIPE and
 * raises it (the shell sees 141, nothing is printed); otherwise it returns. */
void cdc_epipe_check(int err);

/* Flushes and closes stdout; turns rc 0 into EX_IOERR (with a message) when
 * that fails. */
int cdc_stdout_close(int rc);

/* Milliseconds since the Unix epoch, and from a monotonic clock. */
int64_t cdc_now_ms(void);
int64_t cdc_mono_ms(void);
/* Sleeps ms milliseconds, less once a signal has set cdc_stop. */
void cdc_sleep_ms(int64_t ms);

/* Keeps freed heap memory for reuse instead of handing it back to the
 * kernel (glibc's mallopt), for a process that allocates and frees a
 * steady flow of records and buffers: trimming and mmap of large blocks
 * make the kernel zero the same pages again and again. The cost is that
 * the peak stays resident. */
void cdc_heap_keep(void);

#endif
