/* Civil dates (proleptic Gregorian) to and from day numbers since
 * 1970-01-01: MySQL dates to Avro's and ClickHouse's day counts. */
#ifndef CDC_CIVIL_H
#define CDC_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of y-m-d (any year, negative for earlier dates). */
int64_t cdc_days_from_civil(int64_t y, int64_t m, int64_t d);
/* The civil date of day z since 1970-01-01. */
void cdc_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif
