/* Civil dates and day numbers, against Python's date.toordinal(). */
#include <stdint.h>

#include "check.h"
#include "civil.h"

static const struct {
	int64_t y, m, d, days;
} known[] = {
    {1970, 1, 1, 0},
    {1969, 12, 31, -1},
    {2000, 2, 29, 11016},   /* a leap day of a 400-year */
    {1900, 3, 1, -25508},   /* 1900 is no leap year */
    {1600, 2, 29, -135081},
    {2024, 12, 31, 20088},
    {1, 1, 1, -719162},     /* Python's first day */
    {0, 1, 1, -719528},     /* MySQL's year 0: a leap year, 366 days */
    {9999, 12, 31, 2932896},
};

int
main(void)
{
	size_t i;
	int64_t z, y;
	int m, d, ok = 1;

	check_file = "test_civil";
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		CHECK("days from a civil date",
		    cdc_days_from_civil(known[i].y, known[i].m, known[i].d) ==
			known[i].days);
		cdc_civil_from_days(known[i].days, &y, &m, &d);
		CHECK("the civil date of a day number", y == known[i].y &&
		    m == known[i].m && d == known[i].d);
	}
	/* Every day of 0000-01-01 .. 9999-12-31 round-trips, and consecutive
	 * days are consecutive dates. */
	for (z = -719528; z <= 2932896 && ok; z++) {
		cdc_civil_from_days(z, &y, &m, &d);
		ok = cdc_days_from_civil(y, m, d) == z && m >= 1 && m <= 12 &&
		    d >= 1 && d <= 31;
	}
	CHECK("every day of years 0-9999 round-trips", ok);
	return check_done();
}
