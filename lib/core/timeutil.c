#include "core/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads exactly `width` digits. */
static int read_digits(const char **p, int width, int *out)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += width;
	*out = v;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

int cft_time_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int year, mon, day, hour, min, sec;
	const char *p = s;

	if (!s || !out)
		return -1;
	if (read_digits(&p, 4, &year) || expect(&p, '-') ||
	    read_digits(&p, 2, &mon) || expect(&p, '-') ||
	    read_digits(&p, 2, &day))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (read_digits(&p, 2, &hour) || expect(&p, ':') ||
	    read_digits(&p, 2, &min) || expect(&p, ':') ||
	    read_digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (read_digits(&p, 2, &oh) || expect(&p, ':') || read_digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		offset = sign * (oh * 3600L + om * 60L);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	/* 60 is a leap second, which timegm folds into the next minute. */
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse such dates. */
	if (tm.tm_mday != day || tm.tm_mon != mon - 1)
		return -1;
	*out = t - offset;
	return 0;
}

void cft_time_format_rfc3339(time_t t, char buf[CFT_RFC3339_SIZE])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, CFT_RFC3339_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(buf, "1970-01-01T00:00:00Z");
}

/* IMF-fixdate, the only form RFC 9110 asks senders to use:
 * "Sun, 06 Nov 1994 08:49:37 GMT". */
static int parse_http_date(const char *s, time_t *out)
{
	static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm = { 0 };
	char mon[4] = "";
	int day, year, hour, min, sec, used = 0;

	const char *comma = strchr(s, ',');
	if (!comma)
		return -1;
	/* Field widths keep every number in int's range; a bad field fails
	 * the count.  NOLINTNEXTLINE(cert-err34-c) */
	if (sscanf(comma + 1, " %2d %3s %4d %2d:%2d:%2d GMT%n", &day, mon, &year,
		   &hour, &min, &sec, &used) != 6 || used == 0)
		return -1;
	if (comma[1 + used] != '\0')
		return -1;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return 0;
}

long cft_parse_retry_after(const char *value, time_t now)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		char *end;
		long v = strtol(value, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0' || v < 0 || v == LONG_MAX)
			return -1;
		return v;
	}
	time_t when;
	if (parse_http_date(value, &when) != 0)
		return -1;
	return when > now ? (long)(when - now) : 0;
}

int cft_duration_parse(const char *s, int64_t *seconds)
{
	static const int64_t max = 10LL * 366 * 24 * 3600;
	int64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -1;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		int64_t v = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p - '0');
			if (v > max)
				return -1;
			p++;
		}
		int64_t unit;
		switch (*p) {
		case '\0': unit = (p == s || total == 0) ? 1 : -1; break;
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		if (unit < 0)
			return -1;  /* "1h30": a bare number after a unit is a typo */
		if (*p)
			p++;
		total += v * unit;
		if (total > max)
			return -1;
	}
	if (total <= 0)
		return -1;
	*seconds = total;
	return 0;
}

void cft_duration_format(int64_t seconds, char *out, size_t size)
{
	static const struct {
		int64_t len;
		const char *unit;
	} units[] = { { 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } };
	size_t i = 0;
	while (seconds % units[i].len != 0)
		i++;
	snprintf(out, size, "%lld%s", (long long)(seconds / units[i].len), units[i].unit);
}

int64_t cft_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cft_sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 2000

int64_t cft_backoff_ms(unsigned attempt, unsigned *seed)
{
	int64_t ms = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	int64_t spread = ms / 2;
	return ms - spread / 2 + (int64_t)(rand_r(seed) % (spread + 1));
}
