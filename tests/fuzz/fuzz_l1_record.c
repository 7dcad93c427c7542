/* libFuzzer target: the L1 cache record (lib/core/l1_record.c).  The input is
 * what a kernel-keyring key holds.  A record that parses must format back
 * into one that parses to the same values, and the format is strict: what
 * parses is exactly what cft_l1_record_format writes, but for white space
 * around the token (which cft_token_parse trims, as it does everywhere) and
 * leading zeros of the times (the same number). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/l1_record.h"

/* Line i of a text of '\n'-ended lines, without its '\n'. */
static int line(const char *s, size_t len, int i, const char **start, size_t *n)
{
	const char *p = s, *end = s + len;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return -1;
		if (i-- == 0) {
			*start = p;
			*n = (size_t)(nl - p);
			return 0;
		}
		p = nl + 1;
	}
}

/* "expires=000123" and "expires=123" are the same number: harmless. */
static void drop_zeros(const char **v, size_t *n)
{
	const char *eq = memchr(*v, '=', *n);
	if (!eq || !(*n > 8 && (!memcmp(*v, "expires=", 8) || !memcmp(*v, "renew_at=", 9))))
		return;
	size_t k = (size_t)(eq - *v) + 1, z = 0;
	while (k + z + 1 < *n && (*v)[k + z] == '0')
		z++;
	static char buf[64];
	if (*n - z > sizeof(buf))
		return;
	memcpy(buf, *v, k);
	memcpy(buf + k, *v + k + z, *n - k - z);
	*v = buf;
	*n -= z;
}

/* The input and the formatted record, line by line from the id on, to
 * the last (origin, or the grant after it). */
static int same_but_token(const char *in, size_t in_len, const char *out, size_t out_len)
{
	for (int i = 2;; i++) {
		const char *a, *b;
		size_t na, nb;
		int in_ended = line(in, in_len, i, &a, &na), out_ended = line(out, out_len, i, &b, &nb);
		if (in_ended || out_ended)
			return i > 8 && in_ended && out_ended;
		drop_zeros(&a, &na);
		if (na != nb || memcmp(a, b, na) != 0)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cft_l1_record r, again;
	cft_error err;
	cft_secret *text = NULL;

	cft_error_clear(&err);
	if (cft_l1_record_parse((const char *)data, size, &r, &err) != CFT_OK) {
		if (r.token || r.id[0] || r.profile[0])
			abort();  /* a damaged record leaves nothing behind */
		return 0;
	}
	if (!r.token || strlen(r.id) != 32 || strlen(r.account) != 32 ||
	    !cft_profile_name_valid(r.profile) || !cft_api_url_is(r.api, r.api) ||
	    r.renew_at > r.expires)
		abort();
	if (cft_l1_record_format(&r, &text, &err) != CFT_OK)
		abort();
	if (!same_but_token((const char *)data, size, cft_secret_str(text), cft_secret_len(text)))
		abort();
	if (cft_l1_record_parse(cft_secret_str(text), cft_secret_len(text), &again, &err) != CFT_OK)
		abort();
	if (!cft_secret_equal(r.token, again.token) || strcmp(r.id, again.id) ||
	    strcmp(r.account, again.account) || strcmp(r.profile, again.profile) ||
	    strcmp(r.api, again.api) || r.expires != again.expires || r.renew_at != again.renew_at ||
	    r.adopted != again.adopted || strcmp(r.grant, again.grant))
		abort();
	cft_secret_free(text);
	cft_l1_record_clear(&again);
	cft_l1_record_clear(&r);
	return 0;
}
