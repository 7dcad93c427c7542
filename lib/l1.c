#include "l1.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "keyring.h"

/* Bump when the meaning of a fingerprint's inputs changes.  2: git
 * requests map to profiles by whole path segments, over HTTPS only, so a
 * route an earlier version made (for /teamevil under hosts = .../team,
 * say) must never be found again. */
#define FP_VERSION "cftoken-fp 2"

void cft_request_fingerprint(const cft_request *rq, char out[CFT_FP_HEX])
{
	cft_fp fp;
	char user_config[4096];
	unsigned long uid = (unsigned long)getuid();

	cft_fp_init(&fp);
	cft_fp_str(&fp, FP_VERSION);
	cft_fp_bytes(&fp, &uid, sizeof(uid));
	cft_fp_str(&fp, rq->profile);
	cft_fp_str(&fp, rq->account);
	cft_fp_str(&fp, rq->api_url);
	cft_fp_str(&fp, rq->git_protocol);
	cft_fp_str(&fp, rq->git_host);
	cft_fp_str(&fp, rq->git_path);
	cft_fp_str(&fp, secure_getenv("CLOUDFLARE_API_BASE_URL"));
	cft_fp_str(&fp, secure_getenv("CLOUDFLARE_ACCOUNT_ID"));
	cft_fp_file(&fp, CFTOKEN_SYSCONFDIR "/cftoken/cftoken.conf");
	cft_fp_file(&fp, cft_user_config_path(user_config, sizeof(user_config)) == 0
				 ? user_config : NULL);
	cft_fp_hex(&fp, out);
}

void cft_login_route_fingerprint(const char *config_path, unsigned long uid,
				 char out[CFT_FP_HEX])
{
	cft_fp fp;
	cft_fp_init(&fp);
	cft_fp_str(&fp, "cftoken-login-route 1");
	cft_fp_bytes(&fp, &uid, sizeof(uid));
	cft_fp_file(&fp, config_path);
	cft_fp_hex(&fp, out);
}

static void route_desc(const char *fp_hex, char out[CFT_KEY_DESC_MAX])
{
	snprintf(out, CFT_KEY_DESC_MAX, "cftoken-route:%lu:%s", (unsigned long)getuid(), fp_hex);
}

/* The API's identity in a token key: a token minted at one API is never
 * served for another (a test emulator and the real one, say). */
static void token_desc(const char *account, const char *profile, const char *api_url,
		       char out[CFT_KEY_DESC_MAX])
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	snprintf(out, CFT_KEY_DESC_MAX, "cftoken:%lu:%s:%s:%s", (unsigned long)getuid(),
		 account, profile, api);
}

static cft_code read_record(const char *desc, cft_l1_record *out, cft_error *err)
{
	_cleanup_secret_ cft_secret *payload = NULL;
	cft_code rc = cft_keyring_read(desc, &payload, err);
	if (rc)
		return rc;
	rc = cft_l1_record_parse(cft_secret_str(payload), cft_secret_len(payload), out, err);
	return rc == CFT_E_MALFORMED ? cft_fail(err, CFT_E_NOT_FOUND, "damaged token key") : rc;
}

cft_code cft_l1_lookup(const char *fp_hex, cft_l1_record *out, char *route_to,
		       cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	_cleanup_secret_ cft_secret *route = NULL;

	if (route_to)
		route_to[0] = '\0';
	route_desc(fp_hex, desc);
	cft_code rc = cft_keyring_read(desc, &route, err);
	if (rc)
		return rc;
	/* The route's payload is the token key's description. */
	if (cft_secret_len(route) == 0 || cft_secret_len(route) >= CFT_KEY_DESC_MAX ||
	    strncmp(cft_secret_str(route), "cftoken:", 8) != 0)
		return cft_fail(err, CFT_E_NOT_FOUND, "damaged route key");
	rc = read_record(cft_secret_str(route), out, err);
	if (rc && route_to)
		snprintf(route_to, CFT_KEY_DESC_MAX, "%s", cft_secret_str(route));
	return rc;
}

int cft_l1_desc_parse(const char *desc, char account[33],
		      char profile[CFT_PROFILE_NAME_MAX + 1], char api_hash[9])
{
	char uid[24];
	if (!desc || strncmp(desc, "cftoken:", 8) != 0)
		return -1;
	const char *p = desc + 8;
	const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	if (!c3 || (size_t)(c1 - p) >= sizeof(uid) || c2 - c1 - 1 != 32 ||
	    (size_t)(c3 - c2 - 1) > CFT_PROFILE_NAME_MAX || strlen(c3 + 1) != 8)
		return -1;
	snprintf(uid, sizeof(uid), "%.*s", (int)(c1 - p), p);
	if (strtoul(uid, NULL, 10) != (unsigned long)getuid())
		return -1;
	snprintf(account, 33, "%.32s", c1 + 1);
	snprintf(profile, CFT_PROFILE_NAME_MAX + 1, "%.*s", (int)(c3 - c2 - 1), c2 + 1);
	snprintf(api_hash, 9, "%s", c3 + 1);
	return cft_profile_name_valid(profile) ? 0 : -1;
}

cft_code cft_l1_lookup_token(const char *account, const char *profile, const char *api_url,
			     cft_l1_record *out, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	token_desc(account, profile, api_url, desc);
	return read_record(desc, out, err);
}

cft_code cft_l1_store_desc(const char *fp_hex, const char *tdesc, const cft_l1_record *r,
			   cft_error *err)
{
	char rdesc[CFT_KEY_DESC_MAX];
	_cleanup_secret_ cft_secret *payload = NULL;

	cft_code rc = cft_l1_record_format(r, &payload, err);
	if (rc)
		return rc;
	rc = cft_keyring_store(tdesc, cft_secret_str(payload), cft_secret_len(payload),
			       r->expires, err);
	if (rc || !fp_hex)
		return rc;
	route_desc(fp_hex, rdesc);
	return cft_keyring_store(rdesc, tdesc, strlen(tdesc), r->expires, err);
}

cft_code cft_l1_store(const char *fp_hex, const cft_l1_record *r, const char *api_url,
		      cft_error *err)
{
	char tdesc[CFT_KEY_DESC_MAX];
	token_desc(r->account, r->profile, api_url, tdesc);
	return cft_l1_store_desc(fp_hex, tdesc, r, err);
}

#define LAST_ID_KEEP_S (7 * 86400)

static void last_id_desc(const char *account, const char *profile, const char *api_url,
			 char out[CFT_KEY_DESC_MAX])
{
	char tdesc[CFT_KEY_DESC_MAX];
	token_desc(account, profile, api_url, tdesc);
	/* "cftoken-last:" + the token key's own "UID:ACCOUNT:PROFILE:API" */
	snprintf(out, CFT_KEY_DESC_MAX, "cftoken-last:%.140s", tdesc + strlen("cftoken:"));
}

cft_code cft_l1_store_last_id(const cft_l1_record *r, const char *api_url, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	last_id_desc(r->account, r->profile, api_url, desc);
	return cft_keyring_store(desc, r->id, strlen(r->id), r->expires + LAST_ID_KEEP_S, err);
}

cft_code cft_l1_last_id(const char *account, const char *profile, const char *api_url,
			char id[33], cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	_cleanup_secret_ cft_secret *v = NULL;
	last_id_desc(account, profile, api_url, desc);
	cft_code rc = cft_keyring_read(desc, &v, err);
	if (rc)
		return rc;
	if (cft_secret_len(v) != 32)
		return cft_fail(err, CFT_E_NOT_FOUND, "damaged last-id key");
	snprintf(id, 33, "%s", cft_secret_str(v));
	return CFT_OK;
}

cft_code cft_l1_drop(const char *account, const char *profile, const char *api_url,
		     cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	token_desc(account, profile, api_url, desc);
	return cft_keyring_drop(desc, err);
}

int cft_l1_fresh(const cft_l1_record *r, time_t now, long min_ttl)
{
	if (!r || !r->token || now >= r->renew_at)
		return 0;
	return min_ttl <= 0 || r->expires - now >= min_ttl;
}

typedef struct each_id_ctx {
	const char *token_id;
	cft_l1_record_fn fn;
	void *ctx;
	int n;
} each_id_ctx;

static int visit_id(const char *desc, void *data)
{
	each_id_ctx *e = data;
	cft_l1_record r = { 0 };
	if (read_record(desc, &r, NULL) == CFT_OK &&
	    (!e->token_id || strcmp(r.id, e->token_id) == 0)) {
		e->fn(desc, &r, e->ctx);
		e->n++;
	}
	cft_l1_record_clear(&r);
	return 0;
}

int cft_l1_each_id(const char *token_id, cft_l1_record_fn fn, void *ctx)
{
	char prefix[40];
	each_id_ctx e = { .token_id = token_id, .fn = fn, .ctx = ctx };
	snprintf(prefix, sizeof(prefix), "cftoken:%lu:", (unsigned long)getuid());
	cft_keyring_each(prefix, visit_id, &e, NULL);
	return e.n;
}

typedef struct drop_ctx {
	const char *token_id;        /* match the record's id, or */
	char api_suffix[10];         /* ":" + the API's hash at the end */
	int dropped;
} drop_ctx;

static int drop_matching(const char *desc, void *data)
{
	drop_ctx *d = data;
	cft_l1_record r = { 0 };
	bool match = false;
	if (d->token_id) {
		if (read_record(desc, &r, NULL) == CFT_OK)
			match = strcmp(r.id, d->token_id) == 0;
		cft_l1_record_clear(&r);
	} else {
		size_t n = strlen(desc), k = strlen(d->api_suffix);
		match = n > k && strcmp(desc + n - k, d->api_suffix) == 0;
	}
	if (match && cft_keyring_drop(desc, NULL) == CFT_OK)
		d->dropped++;
	return 0;
}

static int drop_all(drop_ctx *d)
{
	char prefix[40];
	snprintf(prefix, sizeof(prefix), "cftoken:%lu:", (unsigned long)getuid());
	cft_keyring_each(prefix, drop_matching, d, NULL);
	return d->dropped;
}

int cft_l1_drop_id(const char *token_id)
{
	drop_ctx d = { .token_id = token_id };
	return drop_all(&d);
}

int cft_l1_drop_api(const char *api_url)
{
	char api[CFT_API_HASH_SIZE];
	drop_ctx d = { 0 };
	cft_api_hash(api_url, api);
	snprintf(d.api_suffix, sizeof(d.api_suffix), ":%s", api);
	return drop_all(&d);
}
