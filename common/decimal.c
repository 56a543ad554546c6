/* Decimal text by repeated division of the magnitude by 10^9. */
#include <string.h>

#include "decimal.h"

void
cdc_decimal_text(const uint8_t *p, size_t n, int scale, struct cdc_buf *out)
{
	uint8_t mag[256];
	char digits[700], *d;
	size_t i, nd = 0, len;
	int neg, nonzero;

	/* Values longer than 256 bytes exceed every precision we emit. */
	if (n > sizeof(mag)) {
		p += n - sizeof(mag);
		n = sizeof(mag);
	}
	neg = n > 0 && (p[0] & 0x80);
	memcpy(mag, p, n);
	if (neg) { /* two's complement negation */
		int carry = 1;

		for (i = n; i-- > 0;) {
			int v = (uint8_t)~mag[i] + carry;

			mag[i] = (uint8_t)v;
			carry = v >> 8;
		}
	}
	do {
		uint64_t rem = 0;
		int k;

		nonzero = 0;
		for (i = 0; i < n; i++) {
			uint64_t cur = (rem << 8) | mag[i];

			mag[i] = (uint8_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
			if (mag[i] != 0)
				nonzero = 1;
		}
		for (k = 0; k < 9; k++) {
			digits[nd++] = (char)('0' + rem % 10);
			rem /= 10;
		}
	} while (nonzero);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	while ((int)nd <= scale)
		digits[nd++] = '0';
	/* digits holds the number least significant first. */
	len = nd + (neg ? 1 : 0) + (scale > 0 ? 1 : 0);
	d = (char *)cdc_buf_reserve(out, len);
	if (neg)
		*d++ = '-';
	for (i = nd; i-- > 0;) {
		*d++ = digits[i];
		if (scale > 0 && i == (size_t)scale)
			*d++ = '.';
	}
	out->len += len;
}
