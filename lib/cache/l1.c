#include "cache/l1.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "cache/keyring.h"

/* Bump when the meaning of a fingerprint's inputs changes.  2: git
 * requests map to profiles by whole path segments, over HTTPS only, so a
 * route an earlier version made (for /teamevil under hosts = .../team,
 * say) must never be found again; and fingerprints became SHA-256. */
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

const char *cft_request_api_url(const cft_request *rq)
{
	const char *env = secure_getenv("CLOUDFLARE_API_BASE_URL");
	return rq->api_url && *rq->api_url ? rq->api_url : env && *env ? env : NULL;
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
 * served for another (a test emulator and the real one, say).  The name
 * only finds the key; its record's own URL decides (record_for_api). */
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

/* The record of a token key, when it was minted at exactly this API: a
 * record of another URL is a miss, whatever its key is called. */
static cft_code record_for_api(const char *desc, const char *api_url, cft_l1_record *out,
			       cft_error *err)
{
	cft_code rc = read_record(desc, out, err);
	if (rc || cft_api_url_is(out->api, api_url))
		return rc;
	cft_l1_record_clear(out);
	return cft_fail(err, CFT_E_NOT_FOUND, "the token key is of another API");
}

/* Whether a token key's description names the API its record holds. */
static bool desc_names_api(const char *desc, const char *api_url)
{
	char api[CFT_API_HASH_SIZE];
	size_t n = strlen(desc);
	cft_api_hash(api_url, api);
	return n > CFT_API_HASH_SIZE && desc[n - CFT_API_HASH_SIZE] == ':' &&
	       strcmp(desc + n - (CFT_API_HASH_SIZE - 1), api) == 0;
}

/* A route's payload: the token key's description, after this prefix when
 * the token was dropped from every level (an earlier cftoken reads such
 * a route as damaged: a plain miss). */
#define DROPPED_PREFIX "dropped "

cft_code cft_l1_lookup(const char *fp_hex, const char *api_url, cft_l1_record *out,
		       char *route_to, bool *dropped, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	_cleanup_secret_ cft_secret *route = NULL;

	if (route_to)
		route_to[0] = '\0';
	if (dropped)
		*dropped = false;
	route_desc(fp_hex, desc);
	cft_code rc = cft_keyring_read(desc, &route, err);
	if (rc)
		return rc;
	const char *to = cft_secret_str(route);
	size_t len = cft_secret_len(route);
	bool was_dropped = len > strlen(DROPPED_PREFIX) &&
			   !strncmp(to, DROPPED_PREFIX, strlen(DROPPED_PREFIX));
	if (was_dropped) {
		to += strlen(DROPPED_PREFIX);
		len -= strlen(DROPPED_PREFIX);
	}
	if (len == 0 || len >= CFT_KEY_DESC_MAX || strncmp(to, "cftoken:", 8) != 0)
		return cft_fail(err, CFT_E_NOT_FOUND, "damaged route key");
	if (was_dropped) {
		if (route_to)
			snprintf(route_to, CFT_KEY_DESC_MAX, "%s", to);
		if (dropped)
			*dropped = true;
		return cft_fail(err, CFT_E_NOT_FOUND, "the route's token was dropped");
	}
	rc = read_record(cft_secret_str(route), out, err);
	if (!rc && (!desc_names_api(cft_secret_str(route), out->api) ||
		    (api_url && !cft_api_url_is(out->api, api_url)))) {
		cft_l1_record_clear(out);
		return cft_fail(err, CFT_E_NOT_FOUND, "the route's token key is of another API");
	}
	if (rc && route_to)
		snprintf(route_to, CFT_KEY_DESC_MAX, "%s", cft_secret_str(route));
	return rc;
}

int cft_l1_desc_parse(const char *desc, char account[33],
		      char profile[CFT_PROFILE_NAME_MAX + 1], char api_hash[CFT_API_HASH_SIZE])
{
	char uid[24];
	if (!desc || strncmp(desc, "cftoken:", 8) != 0)
		return -1;
	const char *p = desc + 8;
	const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	if (!c3 || (size_t)(c1 - p) >= sizeof(uid) || c2 - c1 - 1 != 32 ||
	    (size_t)(c3 - c2 - 1) > CFT_PROFILE_NAME_MAX ||
	    strlen(c3 + 1) != CFT_API_HASH_SIZE - 1)
		return -1;
	snprintf(uid, sizeof(uid), "%.*s", (int)(c1 - p), p);
	if (strtoul(uid, NULL, 10) != (unsigned long)getuid())
		return -1;
	snprintf(account, 33, "%.32s", c1 + 1);
	snprintf(profile, CFT_PROFILE_NAME_MAX + 1, "%.*s", (int)(c3 - c2 - 1), c2 + 1);
	snprintf(api_hash, CFT_API_HASH_SIZE, "%s", c3 + 1);
	return cft_profile_name_valid(profile) ? 0 : -1;
}

cft_code cft_l1_lookup_token(const char *account, const char *profile, const char *api_url,
			     cft_l1_record *out, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	token_desc(account, profile, api_url, desc);
	return record_for_api(desc, api_url, out, err);
}

cft_code cft_l1_store_desc(const char *fp_hex, const char *tdesc, const cft_l1_record *r,
			   cft_error *err)
{
	char rdesc[CFT_KEY_DESC_MAX];
	_cleanup_secret_ cft_secret *payload = NULL;

	if (!desc_names_api(tdesc, r->api))
		return cft_fail(err, CFT_E_INVALID_ARG, "the token key's name is of another API");
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

cft_code cft_l1_note_dropped(const char *fp_hex, const char *account, const char *profile,
			     const char *api_url, time_t expires, cft_error *err)
{
	char tdesc[CFT_KEY_DESC_MAX], rdesc[CFT_KEY_DESC_MAX];
	char note[sizeof(DROPPED_PREFIX) + CFT_KEY_DESC_MAX];
	token_desc(account, profile, api_url, tdesc);
	route_desc(fp_hex, rdesc);
	int n = snprintf(note, sizeof(note), DROPPED_PREFIX "%s", tdesc);
	if (n < 0 || (size_t)n >= sizeof(note))
		return cft_fail(err, CFT_E_INVALID_ARG, "token key name too long");
	return cft_keyring_store(rdesc, note, (size_t)n, expires, err);
}

cft_code cft_l1_store(const char *fp_hex, const cft_l1_record *r, const char *api_url,
		      cft_error *err)
{
	char tdesc[CFT_KEY_DESC_MAX];
	cft_l1_record at_api = *r;  /* the same token, with this API's URL */
	if (cft_api_url_normal(api_url, at_api.api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "\"%.100s\" is not an https:// API URL",
				api_url ? api_url : "");
	if (r->api[0] && strcmp(r->api, at_api.api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "a token of %.200s is not cached for %.200s",
				r->api, at_api.api);
	token_desc(r->account, r->profile, api_url, tdesc);
	return cft_l1_store_desc(fp_hex, tdesc, &at_api, err);
}

#define LAST_ID_KEEP_S (7 * 86400)

static void last_id_desc(const char *account, const char *profile, const char *api_url,
			 char out[CFT_KEY_DESC_MAX])
{
	char tdesc[CFT_KEY_DESC_MAX];
	token_desc(account, profile, api_url, tdesc);
	/* "cftoken-last:" + the token key's own "UID:ACCOUNT:PROFILE:API" */
	snprintf(out, CFT_KEY_DESC_MAX, "cftoken-last:%.146s", tdesc + strlen("cftoken:"));
}

/* "ID URL": the id is deleted with the parent of that API only. */
cft_code cft_l1_store_last_id(const cft_l1_record *r, const char *api_url, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX], url[CFT_API_URL_MAX + 1], payload[CFT_API_URL_MAX + 40];
	if (cft_api_url_normal(api_url, url) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "not an https:// API URL");
	last_id_desc(r->account, r->profile, api_url, desc);
	int n = snprintf(payload, sizeof(payload), "%s %s", r->id, url);
	return cft_keyring_store(desc, payload, (size_t)n, r->expires + LAST_ID_KEEP_S, err);
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
	if (cft_secret_len(v) < 34 || cft_secret_str(v)[32] != ' ' ||
	    !cft_api_url_is(cft_secret_str(v) + 33, api_url))
		return cft_fail(err, CFT_E_NOT_FOUND, "damaged last-id key, or of another API");
	snprintf(id, 33, "%.32s", cft_secret_str(v));
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
	const char *api_url;         /* the record's API */
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
	} else if (desc_names_api(desc, d->api_url)) {
		match = read_record(desc, &r, NULL) == CFT_OK && cft_api_url_is(r.api, d->api_url);
	}
	cft_l1_record_clear(&r);
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
	drop_ctx d = { .api_url = api_url };
	return drop_all(&d);
}
