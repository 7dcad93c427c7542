/* libFuzzer target: the time parsers (lib/core/timeutil.c): RFC 3339 as the API
 * writes it, Retry-After as delta-seconds or an HTTP date, and durations
 * as people write them in the configuration ("8h", "1d12h").  Each parser
 * gets the whole input as one string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parsers take C strings: a copy, ended where the data ends. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	time_t t = 0;
	if (cft_time_parse_rfc3339(s, &t) == 0) {
		/* What we write back must read as the same second, for every
		 * time that fits the format (years 0 to 9999). */
		char buf[CFT_RFC3339_SIZE];
		time_t back = 0;
		cft_time_format_rfc3339(t, buf);
		if (t >= 0 && t < 253402300800 && (cft_time_parse_rfc3339(buf, &back) != 0 || back != t))
			abort();
	}

	/* 2026-11-22T17:00:00Z, as the unit tests use. */
	long wait = cft_parse_retry_after(s, 1795366800);
	if (wait < -1)
		abort();

	int64_t secs = 0;
	if (cft_duration_parse(s, &secs) == 0 && (secs <= 0 || secs > 10LL * 366 * 24 * 3600))
		abort();

	free(s);
	return 0;
}
