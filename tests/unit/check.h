/* A tiny unit test harness: CHECK prints "ok NAME" or "not ok NAME: where"
 * for tests/run to count; check_done() returns the exit code. */
#ifndef CDC_CHECK_H
#define CDC_CHECK_H

#include <stdio.h>

static int check_failed;
static const char *check_file = "unit";

#define CHECK(name, cond)                                                     \
	do {                                                                  \
		if (cond) {                                                   \
			printf("ok %s: %s\n", check_file, (name));            \
		} else {                                                      \
			printf("not ok %s: %s: %s:%d: %s\n", check_file,      \
			    (name), __FILE__, __LINE__, #cond);               \
			check_failed++;                                       \
		}                                                             \
		fflush(stdout);                                               \
	} while (0)

static inline int
check_done(void)
{
	return check_failed > 0 ? 1 : 0;
}

#endif
