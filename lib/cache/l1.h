/* L1, the warm cache: a token key per user + account + profile + API in
 * the kernel user keyring, found through a route key named by the request's
 * fingerprint (see fingerprint.h).  Needs only libc and libkeyutils. */
#pragma once

#include <time.h>

#include "core/error.h"
#include "core/fingerprint.h"
#include "core/l1_record.h"

/* What decides which token answers a request. */
typedef struct cft_request {
	const char *profile;         /* --profile; NULL: the default */
	const char *account;         /* --account; NULL: from config/environment */
	const char *api_url;         /* --api-url; NULL: from config/environment */
	const char *git_protocol;    /* git credential get: the attributes */
	const char *git_host;
	const char *git_path;
} cft_request;

void cft_request_fingerprint(const cft_request *rq, char out[CFT_FP_HEX]);

/* The API URL the request names (--api-url, else CLOUDFLARE_API_BASE_URL),
 * or NULL when the configuration decides it. */
const char *cft_request_api_url(const cft_request *rq);

/* The route pam_cftoken's warm path looks up at login, without parsing
 * the configuration: the policy file's bytes decide it, so any change to
 * the policy is a clean miss. */
void cft_login_route_fingerprint(const char *config_path, unsigned long uid,
				 char out[CFT_FP_HEX]);

/* The hit, if the route and its token key exist and parse, and the
 * record's API URL is the one the key's name says and, when api_url is
 * not NULL (the request named its API), that one exactly.  A record
 * found but due for renewal is still returned: the caller decides.
 * CFT_E_NOT_FOUND on a miss; then, if the route itself exists, its token
 * key's description is copied to route_to (CFT_KEY_DESC_MAX bytes), else
 * route_to is "".  *dropped (if not NULL) tells a route that remembers its
 * token was dropped from every cache level (cft_l1_note_dropped): the
 * Secret Service need not be asked before the next mint. */
cft_code cft_l1_lookup(const char *fp_hex, const char *api_url, cft_l1_record *out,
		       char *route_to, bool *dropped, cft_error *err);

/* Points the route at the token key of account + profile + API with a
 * note that its token was dropped from every level in force (git's erase
 * after a refusal): the request that follows on this route mints without
 * a look into the Secret Service.  The note lasts until the token would
 * have expired, or until a mint points the route at a token again. */
cft_code cft_l1_note_dropped(const char *fp_hex, const char *account, const char *profile,
			     const char *api_url, time_t expires, cft_error *err);

/* Splits a token key's description "cftoken:UID:ACCOUNT:PROFILE:API" into
 * account, profile and the API's hash (cft_api_hash).  0, or -1 if
 * malformed. */
int cft_l1_desc_parse(const char *desc, char account[33],
		      char profile[CFT_PROFILE_NAME_MAX + 1], char api_hash[CFT_API_HASH_SIZE]);

/* Stores a record (r->api set) under a token key description, which must
 * name that API, and, with fp_hex, points that route at it. */
cft_code cft_l1_store_desc(const char *fp_hex, const char *desc, const cft_l1_record *r,
			   cft_error *err);

/* The token key of account + profile + API directly (no route); a record
 * of another API URL is CFT_E_NOT_FOUND. */
cft_code cft_l1_lookup_token(const char *account, const char *profile, const char *api_url,
			     cft_l1_record *out, cft_error *err);

/* Stores the record, with api_url as its API (r->api, if set, must be
 * the same), under its token key and, with fp_hex, points that route at
 * it.  Both keys expire with the token. */
cft_code cft_l1_store(const char *fp_hex, const cft_l1_record *r, const char *api_url,
		      cft_error *err);

/* The id of the last token cftoken minted for account + profile + API, kept
 * (no secret) a week past the token's expiry, so that a token whose key
 * timed out before it was renewed is still deleted at the next mint.
 * CFT_E_NOT_FOUND when there is none. */
cft_code cft_l1_store_last_id(const cft_l1_record *r, const char *api_url, cft_error *err);
cft_code cft_l1_last_id(const char *account, const char *profile, const char *api_url,
			char id[33], cft_error *err);

/* Removes the token key of account + profile + API (routes to it then
 * miss).  Absent is fine. */
cft_code cft_l1_drop(const char *account, const char *profile, const char *api_url,
		     cft_error *err);

/* Removes every token key holding the token with this id (a revoked
 * token must not be served from any route).  Returns how many. */
int cft_l1_drop_id(const char *token_id);

/* Calls fn with each token key's description and record whose token has
 * this id (every token key: NULL).  Returns how many. */
typedef void (*cft_l1_record_fn)(const char *desc, cft_l1_record *r, void *ctx);
int cft_l1_each_id(const char *token_id, cft_l1_record_fn fn, void *ctx);

/* Removes every token key minted at this API (logout).  Returns how many. */
int cft_l1_drop_api(const char *api_url);

/* A hit is served warm only while now < renew_at, and, when the caller
 * needs the token for min_ttl seconds more, while expires - now >= min_ttl. */
int cft_l1_fresh(const cft_l1_record *r, time_t now, long min_ttl);
