/* The fingerprint map: stores copies, replaces, grows, finds nothing absent. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fpmap.h"

int
main(void)
{
	struct cdc_fpmap m;
	char buf[32], val[] = "schema";
	const char *v;
	size_t len = 0, i;
	int ok = 1;

	check_file = "test_fpmap";
	cdc_fpmap_init(&m);
	CHECK("an empty map finds nothing", cdc_fpmap_get(&m, 1, &len) == NULL);
	cdc_fpmap_put(&m, 0, val, 6);
	val[0] = 'X';
	v = cdc_fpmap_get(&m, 0, &len);
	CHECK("fingerprint 0 is a key like any other, stored as a copy",
	    v != NULL && len == 6 && memcmp(v, "schema", 6) == 0);
	cdc_fpmap_put(&m, 0, "other", 5);
	v = cdc_fpmap_get(&m, 0, &len);
	CHECK("a second put replaces", v != NULL && len == 5 &&
	    memcmp(v, "other", 5) == 0 && m.used == 1);
	/* Keys that collide in the low bits, past several growths. */
	for (i = 1; i <= 5000; i++) {
		snprintf(buf, sizeof(buf), "v%zu", i);
		cdc_fpmap_put(&m, (uint64_t)i << 40, buf, strlen(buf));
	}
	for (i = 1; i <= 5000 && ok; i++) {
		snprintf(buf, sizeof(buf), "v%zu", i);
		v = cdc_fpmap_get(&m, (uint64_t)i << 40, &len);
		ok = v != NULL && len == strlen(buf) && memcmp(v, buf, len) == 0;
	}
	CHECK("5000 keys alike in their low bits are all found", ok);
	CHECK("the count", m.used == 5001);
	CHECK("the capacity is a power of two above the count",
	    m.cap > m.used && (m.cap & (m.cap - 1)) == 0);
	CHECK("an absent key", cdc_fpmap_get(&m, 5001ULL << 40, &len) == NULL);
	cdc_fpmap_fini(&m);
	return check_done();
}
