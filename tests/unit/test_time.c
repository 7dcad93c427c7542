/* RFC 3339, Retry-After (seconds and HTTP date) and durations. */
#include "tap.h"
#include "core/timeutil.h"

int main(void)
{
	time_t t = 0;
	char buf[CFT_RFC3339_SIZE];

	tap_is_int(cft_time_parse_rfc3339("2026-11-22T17:00:00Z", &t), 0, "parses a UTC time");
	tap_is_int(t, 1795366800, "to the right second");
	cft_time_format_rfc3339(t, buf);
	tap_is_str(buf, "2026-11-22T17:00:00Z", "and formats it back");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T17:00:00.123456Z", &t), 0,
		   "accepts fractional seconds");
	tap_is_int(t, 1795366800, "dropping the fraction");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T17:00:00.9Z", &t), 0,
		   "accepts one fractional digit");
	tap_is_int(t, 1795366800, "truncating, never rounding up to the next second");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T18:30:00.000001+01:30", &t), 0,
		   "accepts a fraction before an offset");
	tap_is_int(t, 1795366800, "and applies the offset");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T17:00:00.Z", &t), -1,
		   "refuses a point without digits");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T18:30:00+01:30", &t), 0,
		   "accepts an offset");
	tap_is_int(t, 1795366800, "and applies it");
	tap_is_int(cft_time_parse_rfc3339("2026-02-31T00:00:00Z", &t), -1, "refuses 31 February");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22 17:00", &t), -1, "refuses a partial time");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T17:00:00", &t), -1, "refuses no zone");
	tap_is_int(cft_time_parse_rfc3339("2026-11-22T17:00:00Zjunk", &t), -1,
		   "refuses trailing text");
	tap_is_int(cft_time_parse_rfc3339("", &t), -1, "refuses the empty string");

	time_t now = 1795366800;
	tap_is_int(cft_parse_retry_after("7", now), 7, "Retry-After in seconds");
	tap_is_int(cft_parse_retry_after(" 120 ", now), 120, "with white space");
	tap_is_int(cft_parse_retry_after("Sun, 22 Nov 2026 17:00:30 GMT", now), 30,
		   "Retry-After as an HTTP date");
	tap_is_int(cft_parse_retry_after("Sun, 22 Nov 2026 16:00:00 GMT", now), 0,
		   "a date in the past means now");
	tap_is_int(cft_parse_retry_after("soon", now), -1, "garbage is unparseable");
	tap_is_int(cft_parse_retry_after("-5", now), -1, "a negative delay is unparseable");
	tap_is_int(cft_parse_retry_after("5s", now), -1, "units are not HTTP");

	int64_t s = 0;
	tap_is_int(cft_duration_parse("8h", &s), 0, "8h parses");
	tap_is_int(s, 8 * 3600, "to 8 hours");
	tap_is_int(cft_duration_parse("1d12h", &s), 0, "1d12h parses");
	tap_is_int(s, 36 * 3600, "to 36 hours");
	tap_is_int(cft_duration_parse("90", &s), 0, "a bare number is seconds");
	tap_is_int(s, 90, "90 seconds");
	tap_is_int(cft_duration_parse("1h30", &s), -1, "a bare number after a unit is refused");
	tap_is_int(cft_duration_parse("0s", &s), -1, "zero is refused");
	tap_is_int(cft_duration_parse("8x", &s), -1, "an unknown unit is refused");
	tap_is_int(cft_duration_parse("99999w", &s), -1, "more than ten years is refused");
	tap_is_int(cft_duration_parse("", &s), -1, "empty is refused");
	return tap_done();
}
