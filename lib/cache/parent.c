#include "cache/parent.h"

#include <errno.h>
#include <stdbool.h>
#include <keyutils.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/keyring.h"
#include "core/fingerprint.h"

#define MAGIC "cftoken-parent 2\n"
#define PARENT_PERM (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | KEY_POS_SETATTR | \
		     KEY_USR_VIEW)

static void describe(const char *api_url, char out[CFT_KEY_DESC_MAX])
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	snprintf(out, CFT_KEY_DESC_MAX, "cftoken-parent:%lu:%s", (unsigned long)getuid(), api);
}

/* The persistent keyring, linked into our process keyring so that we
 * possess it (and so the keys in it) whatever session we run in, and the
 * parent key's description for this API. */
static cft_code locate(const char *api_url, key_serial_t *ring, char desc[CFT_KEY_DESC_MAX],
		       cft_error *err)
{
	long id = keyctl_get_persistent((uid_t)-1, KEY_SPEC_PROCESS_KEYRING);
	if (id < 0)
		return cft_keyring_errno(err, "the persistent keyring", errno);
	*ring = (key_serial_t)id;
	describe(api_url, desc);
	return CFT_OK;
}

cft_code cft_parent_format(const cft_parent *p, cft_secret **out, cft_error *err)
{
	char api[CFT_API_URL_MAX + 1];
	if (cft_api_url_normal(p->api, api) != 0 || strcmp(api, p->api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "the parent token's API URL is not https://");
	cft_secret *payload = cft_secret_alloc(CFT_PARENT_RECORD_MAX);
	if (!payload)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	int n = snprintf(cft_secret_buffer(payload), cft_secret_capacity(payload),
			 MAGIC "token=%s\naccount=%s\napi=%s\nca=%s\n", cft_secret_str(p->token),
			 p->account, p->api, p->ca);
	if (n < 0 || (size_t)n >= cft_secret_capacity(payload) || strchr(p->ca, '\n')) {
		cft_secret_free(payload);
		return cft_fail(err, CFT_E_INVALID_ARG, "parent record too long");
	}
	cft_secret_set_len(payload, (size_t)n);
	*out = payload;
	return CFT_OK;
}

/* "key=value\n" at *p, which must be that key; the value's bounds. */
static bool field(const char **p, const char *end, const char *key, const char **v, size_t *n)
{
	size_t klen = strlen(key);
	if ((size_t)(end - *p) <= klen || memcmp(*p, key, klen) != 0 || (*p)[klen] != '=')
		return false;
	*v = *p + klen + 1;
	const char *nl = memchr(*v, '\n', (size_t)(end - *v));
	if (!nl || memchr(*v, '\0', (size_t)(nl - *v)))
		return false;
	*n = (size_t)(nl - *v);
	*p = nl + 1;
	return true;
}

cft_code cft_parent_parse(const char *s, size_t len, cft_parent *out, cft_error *err)
{
	const char *p = s, *end = s + len, *tok, *acc, *api, *ca;
	size_t tlen, alen, ulen, clen;
	char normal[CFT_API_URL_MAX + 1];
	memset(out, 0, sizeof(*out));
	if (len < sizeof(MAGIC) - 1 || memcmp(s, MAGIC, sizeof(MAGIC) - 1) != 0)
		return cft_fail(err, CFT_E_MALFORMED,
				"a parent token record of another version: run cftoken login");
	p += sizeof(MAGIC) - 1;
	if (!field(&p, end, "token", &tok, &tlen) || !field(&p, end, "account", &acc, &alen) ||
	    (alen != 0 && alen != 32) || !field(&p, end, "api", &api, &ulen) ||
	    ulen > CFT_API_URL_MAX || !field(&p, end, "ca", &ca, &clen) ||
	    clen >= CFT_CA_PATH_MAX || p != end)
		return cft_fail(err, CFT_E_MALFORMED, "damaged parent token record: run cftoken login");
	memcpy(out->api, api, ulen);
	memcpy(out->ca, ca, clen);
	if (cft_api_url_normal(out->api, normal) != 0 || strcmp(normal, out->api) != 0) {
		memset(out, 0, sizeof(*out));
		return cft_fail(err, CFT_E_MALFORMED, "damaged parent token record: run cftoken login");
	}
	cft_code rc = cft_token_parse(tok, tlen, &out->token, err);
	if (rc) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	memcpy(out->account, acc, alen);
	out->account[alen] = '\0';
	return CFT_OK;
}

int cft_ca_path(const char *ca_file, char out[CFT_CA_PATH_MAX])
{
	char real[PATH_MAX];
	out[0] = '\0';
	if (!ca_file || !*ca_file)
		return 0;
	const char *path = realpath(ca_file, real) ? real : ca_file;
	if (strlen(path) >= CFT_CA_PATH_MAX || strchr(path, '\n'))
		return -1;
	snprintf(out, CFT_CA_PATH_MAX, "%s", path);
	return 0;
}

/* "CA file PATH", or that there was none. */
static void describe_ca(const char *path, char *out, size_t size)
{
	if (path && *path)
		snprintf(out, size, "CA file %.300s", path);
	else
		snprintf(out, size, "no CA file (the system's CA certificates alone)");
}

cft_code cft_parent_check_ca(const cft_parent *p, const char *ca_file, cft_error *err)
{
	char ca[CFT_CA_PATH_MAX], had[360], asked[360];
	if (cft_ca_path(ca_file, ca) == 0 && strcmp(ca, p->ca) == 0)
		return CFT_OK;
	describe_ca(p->ca, had, sizeof(had));
	describe_ca(ca_file, asked, sizeof(asked));
	return cft_fail(err, CFT_E_PARENT_ORIGIN,
			"it was verified for %.150s with %s, and this request names %s: refused",
			p->api, had, asked);
}

cft_code cft_parent_store(const char *api_url, const cft_parent *p, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	key_serial_t ring = 0;
	cft_code rc = locate(api_url, &ring, desc, err);
	if (rc)
		return rc;
	_cleanup_secret_ cft_secret *payload = NULL;
	cft_parent at_api = *p;  /* the same token, recorded with this API */
	if (cft_api_url_normal(api_url, at_api.api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "\"%.100s\" is not an https:// API URL",
				api_url ? api_url : "");
	rc = cft_parent_format(&at_api, &payload, err);
	if (rc)
		return rc;
	long old = keyctl_search(ring, "user", desc, 0);
	if (old >= 0)
		keyctl_invalidate((key_serial_t)old);
	key_serial_t key = add_key("user", desc, cft_secret_str(payload), cft_secret_len(payload),
				   ring);
	if (key < 0)
		return cft_fail(err, CFT_E_INTERNAL, "storing the parent token: %s", strerror(errno));
	if (keyctl_setperm(key, PARENT_PERM) < 0) {
		int e = errno;
		keyctl_invalidate(key);
		return cft_fail(err, CFT_E_INTERNAL, "protecting the parent token: %s", strerror(e));
	}
	return CFT_OK;
}

cft_code cft_parent_load(const char *api_url, const char *ca_file, cft_parent *out,
			 cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	key_serial_t ring = 0;
	memset(out, 0, sizeof(*out));
	cft_code rc = locate(api_url, &ring, desc, err);
	if (rc)
		return rc;
	long key = keyctl_search(ring, "user", desc, 0);
	if (key < 0)
		return cft_fail(err, CFT_E_NO_PARENT, "none kept for %s", api_url);
	_cleanup_secret_ cft_secret *buf = cft_secret_alloc(CFT_PARENT_RECORD_MAX);
	if (!buf)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	long n = keyctl_read((key_serial_t)key, cft_secret_buffer(buf), cft_secret_capacity(buf));
	if (n < 0 || (size_t)n >= cft_secret_capacity(buf))
		return cft_fail(err, CFT_E_INTERNAL, "reading the parent token: %s",
				n < 0 ? strerror(errno) : "too long");
	cft_secret_set_len(buf, (size_t)n);
	rc = cft_parent_parse(cft_secret_str(buf), cft_secret_len(buf), out, err);
	if (rc == CFT_E_MALFORMED)
		return cft_fail(err, CFT_E_NO_PARENT, "the one kept for %.200s is damaged or of "
				"another version", api_url);
	if (!rc && !cft_api_url_is(out->api, api_url)) {
		cft_parent_clear(out);
		return cft_fail(err, CFT_E_NO_PARENT, "none kept for %.200s", api_url);
	}
	if (!rc && (rc = cft_parent_check_ca(out, ca_file, err)) != CFT_OK)
		cft_parent_clear(out);
	return rc;
}

cft_code cft_parent_drop(const char *api_url, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	key_serial_t ring = 0;
	cft_code rc = locate(api_url, &ring, desc, err);
	if (rc)
		return rc;
	long key = keyctl_search(ring, "user", desc, 0);
	if (key >= 0 && keyctl_invalidate((key_serial_t)key) < 0)
		return cft_fail(err, CFT_E_INTERNAL, "removing the parent token: %s", strerror(errno));
	return CFT_OK;
}

void cft_parent_clear(cft_parent *p)
{
	if (!p)
		return;
	cft_secret_free(p->token);
	memset(p, 0, sizeof(*p));
}
