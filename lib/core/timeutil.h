/* Times as the Cloudflare API writes them (RFC 3339, UTC) and as people write
 * durations ("8h", "90m", "1d12h"). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2026-11-22T17:00:00Z", "2026-11-22T17:00:00.123456Z", "...+01:00".
 * Returns 0 and sets *out on success, -1 on anything else. */
int cft_time_parse_rfc3339(const char *s, time_t *out);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). */
#define CFT_RFC3339_SIZE 21
void cft_time_format_rfc3339(time_t t, char buf[CFT_RFC3339_SIZE]);

/* Retry-After as delta-seconds or an HTTP date, relative to now.
 * Returns seconds to wait (0 for a date in the past), -1 when unparseable. */
long cft_parse_retry_after(const char *value, time_t now);

/* "30s", "90m", "8h", "2d", "1w", "1d12h", or a bare number of seconds.
 * Returns 0 and sets *seconds, -1 when unparseable, zero, or over ten years. */
int cft_duration_parse(const char *s, int64_t *seconds);

/* A positive duration as cft_duration_parse reads it, in the largest unit
 * that divides it: "7d", "36h", "495m", "90s". */
void cft_duration_format(int64_t seconds, char *out, size_t size);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
int64_t cft_now_ms(void);

/* Sleeps ms milliseconds (none when ms <= 0), through signals. */
void cft_sleep_ms(int64_t ms);

/* The pause before retry number attempt (1, 2, ...): 200 ms doubling up to
 * 2 s, each +-25 % at random (seed: the caller's rand_r state), so that
 * many clients that failed together do not retry together. */
int64_t cft_backoff_ms(unsigned attempt, unsigned *seed);
