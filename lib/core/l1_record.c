#include "core/l1_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "cftoken-l1 2\n"

static int is_hex_id(const char *s, size_t n)
{
	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Stored as cft_api_url_normal makes it, so that comparing is strcmp. */
static int api_url_valid(const char *s)
{
	char normal[CFT_API_URL_MAX + 1];
	return cft_api_url_normal(s, normal) == 0 && strcmp(normal, s) == 0;
}

int cft_profile_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > CFT_PROFILE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

cft_code cft_l1_record_format(const cft_l1_record *r, cft_secret **out, cft_error *err)
{
	if (!r || !r->token || !is_hex_id(r->id, strlen(r->id)) ||
	    !is_hex_id(r->account, strlen(r->account)) || !cft_profile_name_valid(r->profile) ||
	    !api_url_valid(r->api) || (r->grant[0] && !is_hex_id(r->grant, strlen(r->grant))))
		return cft_fail(err, CFT_E_INVALID_ARG, "incomplete cache record");
	cft_secret *s = cft_secret_alloc(CFT_L1_RECORD_MAX);
	if (!s)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	int n = snprintf(cft_secret_buffer(s), CFT_L1_RECORD_MAX,
			 MAGIC "token=%s\nid=%s\naccount=%s\nprofile=%s\napi=%s\nexpires=%lld\n"
			 "renew_at=%lld\norigin=%s\n%s%s%s",
			 cft_secret_str(r->token), r->id, r->account, r->profile, r->api,
			 (long long)r->expires, (long long)r->renew_at,
			 r->adopted ? "adopted" : "minted", r->grant[0] ? "grant=" : "", r->grant,
			 r->grant[0] ? "\n" : "");
	if (n < 0 || n >= CFT_L1_RECORD_MAX) {
		cft_secret_free(s);
		return cft_fail(err, CFT_E_INVALID_ARG, "cache record too long");
	}
	cft_secret_set_len(s, (size_t)n);
	*out = s;
	return CFT_OK;
}

/* Reads "key=value\n" at *p, which must be the expected key. */
static int field(const char **p, const char *end, const char *key, const char **v,
		 size_t *vlen)
{
	size_t klen = strlen(key);
	if ((size_t)(end - *p) < klen + 1 || memcmp(*p, key, klen) != 0 || (*p)[klen] != '=')
		return -1;
	const char *start = *p + klen + 1;
	const char *nl = memchr(start, '\n', (size_t)(end - start));
	if (!nl)
		return -1;
	*v = start;
	*vlen = (size_t)(nl - start);
	*p = nl + 1;
	return 0;
}

static int number(const char *v, size_t n, time_t *out)
{
	long long x = 0;
	if (n == 0 || n > 12)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	*out = (time_t)x;
	return 0;
}

cft_code cft_l1_record_parse(const char *buf, size_t len, cft_l1_record *r, cft_error *err)
{
	const char *p = buf, *end = buf + len, *v;
	size_t n;
	cft_l1_record out = { 0 };

	memset(r, 0, sizeof(*r));
	if (!buf || len > CFT_L1_RECORD_MAX || len < sizeof(MAGIC) - 1 ||
	    memcmp(p, MAGIC, sizeof(MAGIC) - 1) != 0)
		return cft_fail(err, CFT_E_MALFORMED, "not a cftoken cache record");
	p += sizeof(MAGIC) - 1;
	if (field(&p, end, "token", &v, &n) ||
	    cft_token_parse(v, n, &out.token, NULL) != CFT_OK)
		goto bad;
	if (field(&p, end, "id", &v, &n) || !is_hex_id(v, n))
		goto bad;
	memcpy(out.id, v, n);
	if (field(&p, end, "account", &v, &n) || !is_hex_id(v, n))
		goto bad;
	memcpy(out.account, v, n);
	/* The name is then checked as a C string: a NUL inside it would cut
	 * it short, and a damaged record would read as another profile. */
	if (field(&p, end, "profile", &v, &n) || n == 0 || n > CFT_PROFILE_NAME_MAX ||
	    memchr(v, '\0', n))
		goto bad;
	memcpy(out.profile, v, n);
	if (!cft_profile_name_valid(out.profile))
		goto bad;
	if (field(&p, end, "api", &v, &n) || n == 0 || n > CFT_API_URL_MAX || memchr(v, '\0', n))
		goto bad;
	memcpy(out.api, v, n);
	if (!api_url_valid(out.api))
		goto bad;
	if (field(&p, end, "expires", &v, &n) || number(v, n, &out.expires))
		goto bad;
	if (field(&p, end, "renew_at", &v, &n) || number(v, n, &out.renew_at))
		goto bad;
	if (field(&p, end, "origin", &v, &n))
		goto bad;
	if (n == 7 && memcmp(v, "adopted", 7) == 0)
		out.adopted = true;
	else if (!(n == 6 && memcmp(v, "minted", 6) == 0))
		goto bad;
	if (p != end) {  /* the grant, which an earlier cftoken did not keep */
		if (field(&p, end, "grant", &v, &n) || !is_hex_id(v, n))
			goto bad;
		memcpy(out.grant, v, n);
	}
	if (p != end || out.renew_at > out.expires)
		goto bad;
	*r = out;
	return CFT_OK;
bad:
	cft_l1_record_clear(&out);
	return cft_fail(err, CFT_E_MALFORMED, "damaged cftoken cache record");
}

void cft_l1_record_clear(cft_l1_record *r)
{
	if (!r)
		return;
	cft_secret_free(r->token);
	memset(r, 0, sizeof(*r));
}
