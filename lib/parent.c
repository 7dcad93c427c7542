#include "parent.h"

#include <errno.h>
#include <keyutils.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fingerprint.h"
#include "keyring.h"

#define MAGIC "cftoken-parent 1\n"
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
	cft_secret *payload = cft_secret_alloc(256);
	if (!payload)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	int n = snprintf(cft_secret_buffer(payload), cft_secret_capacity(payload),
			 MAGIC "token=%s\naccount=%s\n", cft_secret_str(p->token), p->account);
	if (n < 0 || (size_t)n >= cft_secret_capacity(payload)) {
		cft_secret_free(payload);
		return cft_fail(err, CFT_E_INVALID_ARG, "parent record too long");
	}
	cft_secret_set_len(payload, (size_t)n);
	*out = payload;
	return CFT_OK;
}

cft_code cft_parent_parse(const char *s, size_t len, cft_parent *out, cft_error *err)
{
	memset(out, 0, sizeof(*out));
	const char *end = s + len;
	const char *tok = s + sizeof(MAGIC) - 1 + 6;
	const char *nl = len > sizeof(MAGIC) - 1 + 6 ? memchr(tok, '\n', (size_t)(end - tok)) : NULL;
	if (!nl || strncmp(s, MAGIC "token=", sizeof(MAGIC) - 1 + 6) != 0 ||
	    (size_t)(end - nl) < 10 || strncmp(nl + 1, "account=", 8) != 0)
		return cft_fail(err, CFT_E_MALFORMED, "damaged parent token record: run cftoken login");
	const char *acc = nl + 9;
	const char *acc_end = memchr(acc, '\n', (size_t)(end - acc));
	size_t alen = acc_end ? (size_t)(acc_end - acc) : 0;
	if (!acc_end || (alen != 0 && alen != 32))
		return cft_fail(err, CFT_E_MALFORMED, "damaged parent token record: run cftoken login");
	cft_code rc = cft_token_parse(tok, (size_t)(nl - tok), &out->token, err);
	if (rc)
		return rc;
	memcpy(out->account, acc, alen);
	out->account[alen] = '\0';
	return CFT_OK;
}

cft_code cft_parent_store(const char *api_url, const cft_parent *p, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	key_serial_t ring = 0;
	cft_code rc = locate(api_url, &ring, desc, err);
	if (rc)
		return rc;
	_cleanup_secret_ cft_secret *payload = NULL;
	rc = cft_parent_format(p, &payload, err);
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

cft_code cft_parent_load(const char *api_url, cft_parent *out, cft_error *err)
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
	_cleanup_secret_ cft_secret *buf = cft_secret_alloc(512);
	if (!buf)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	long n = keyctl_read((key_serial_t)key, cft_secret_buffer(buf), cft_secret_capacity(buf));
	if (n < 0 || (size_t)n >= cft_secret_capacity(buf))
		return cft_fail(err, CFT_E_INTERNAL, "reading the parent token: %s",
				n < 0 ? strerror(errno) : "too long");
	cft_secret_set_len(buf, (size_t)n);
	return cft_parent_parse(cft_secret_str(buf), cft_secret_len(buf), out, err);
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
