/* The Cloudflare REST client: account-owned and user-owned API tokens
 * (create, list, get, update, delete, roll, verify), permission groups and
 * accounts.  Every call has one deadline and fills a cft_error on failure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/secret.h"

#define CFT_DEFAULT_API_URL "https://api.cloudflare.com/client/v4"
#define CFT_DEFAULT_TIMEOUT_MS 8000
#define CFT_ID_LEN 32                 /* account, token and group ids: 32 hex */

/* Once per process, before any thread: curl_global_init.  libcftoken is
 * meant for cftoken's own processes, not to be loaded into a foreign host:
 * the PAM module runs it in a child it execs. */
cft_code cft_init(cft_error *err);

/* jansson's free for a program that handles token values: API answers
 * carry them, and jansson frees the blocks it parsed them into itself.
 * Wipes each block before free().  jansson's allocator is one setting for
 * the whole process, so the program sets it, first thing in main:
 *   json_set_alloc_funcs(malloc, cft_json_wiping_free); */
void cft_json_wiping_free(void *p);

typedef struct cft_client cft_client;

typedef struct cft_client_options {
	const char *api_url;          /* NULL: CFT_DEFAULT_API_URL */
	const char *ca_file;          /* extra CA bundle, or NULL */
	const char *proxy;            /* the configured proxy, or NULL: none (never
				       * one from the environment) */
	long timeout_ms;              /* per call; <= 0: CFT_DEFAULT_TIMEOUT_MS */
	size_t max_response;          /* 0: 4 MiB */
} cft_client_options;

/* The client keeps its own copy of the token. */
cft_code cft_client_new(const cft_client_options *opts, const cft_secret *token,
			cft_client **out, cft_error *err);
cft_client *cft_client_free(cft_client *c);
static inline void cft_client_freep(cft_client **c)
{
	if (c && *c)
		*c = cft_client_free(*c);
}
#define _cleanup_client_ _cleanup_(cft_client_freep)
/* The API base URL the client calls (what a cache of its answers is
 * keyed by). */
const char *cft_client_api_url(const cft_client *c);

/* No call of this client, retries included, runs past deadline_ms
 * (cft_now_ms()); 0 lifts it.  For a task of several calls that has one
 * deadline, as a mint retrying its create has. */
void cft_client_set_deadline(cft_client *c, int64_t deadline_ms);

/* Which tokens a call is about: account-owned ones of account_id, or, with
 * account_id NULL, the user-owned tokens of the token's user. */
typedef struct cft_owner {
	const char *account_id;
} cft_owner;
#define CFT_USER_OWNED ((cft_owner){ .account_id = NULL })
#define CFT_ACCOUNT_OWNED(id) ((cft_owner){ .account_id = (id) })

/* A resource a policy applies to: key -> "*" (no children) or key -> map. */
typedef struct cft_resource {
	const char *key;
	const struct cft_resource *children;
	size_t n_children;
} cft_resource;

typedef struct cft_policy_spec {
	bool deny;
	const char *const *group_ids;
	size_t n_groups;
	const cft_resource *resources;
	size_t n_resources;
} cft_policy_spec;

/* What to create (or update to). */
typedef struct cft_token_spec {
	const char *name;
	const cft_policy_spec *policies;
	size_t n_policies;
	time_t not_before;            /* 0: absent */
	time_t expires_on;            /* 0: absent */
	const char *const *ip_in;     /* CIDRs */
	size_t n_ip_in;
	const char *const *ip_not_in;
	size_t n_ip_not_in;
	const char *status;           /* update only: "active" / "disabled"; NULL */
} cft_token_spec;

/* A token as the API describes it (never its value). */
typedef struct cft_token {
	char *id;
	char *name;
	char *status;                 /* active, disabled, expired */
	time_t issued_on, modified_on, last_used_on, not_before, expires_on; /* 0: absent */
	char *policies_json;          /* the policies as the API returned them */
	char *condition_json;         /* NULL when none */
} cft_token;

typedef struct cft_token_list {
	cft_token *items;
	size_t n;
} cft_token_list;

typedef struct cft_verify_result {
	char id[CFT_ID_LEN + 1];
	char status[16];
	time_t not_before, expires_on;
} cft_verify_result;

typedef struct cft_account {
	char *id;
	char *name;
} cft_account;

typedef struct cft_account_list {
	cft_account *items;
	size_t n;
} cft_account_list;

/* Scopes a permission group may apply to. */
enum {
	CFT_SCOPE_ACCOUNT = 1u << 0,  /* com.cloudflare.api.account */
	CFT_SCOPE_ZONE = 1u << 1,     /* com.cloudflare.api.account.zone */
	CFT_SCOPE_USER = 1u << 2,     /* com.cloudflare.api.user */
	CFT_SCOPE_R2_BUCKET = 1u << 3, /* com.cloudflare.edge.r2.bucket */
	CFT_SCOPE_OTHER = 1u << 4,
};

typedef struct cft_perm_group {
	char *id;
	char *name;
	unsigned scopes;
} cft_perm_group;

typedef struct cft_perm_group_list {
	cft_perm_group *items;
	size_t n;
} cft_perm_group_list;

cft_code cft_token_verify(cft_client *c, cft_owner owner, cft_verify_result *out,
			  cft_error *err);
/* *value receives the new token's value (shown once by the API). */
cft_code cft_token_create(cft_client *c, cft_owner owner, const cft_token_spec *spec,
			  cft_token *info, cft_secret **value, cft_error *err);
/* Every page. */
cft_code cft_token_list_all(cft_client *c, cft_owner owner, cft_token_list *out,
			    cft_error *err);
cft_code cft_token_get(cft_client *c, cft_owner owner, const char *token_id,
		       cft_token *out, cft_error *err);
/* The body a create or an update sends (a JSON text to free()). */
cft_code cft_token_spec_json(const cft_token_spec *spec, char **out, cft_error *err);
cft_code cft_token_update(cft_client *c, cft_owner owner, const char *token_id,
			  const cft_token_spec *spec, cft_token *out, cft_error *err);
cft_code cft_token_delete(cft_client *c, cft_owner owner, const char *token_id,
			  cft_error *err);
cft_code cft_token_roll(cft_client *c, cft_owner owner, const char *token_id,
			cft_secret **value, cft_error *err);
cft_code cft_permission_groups(cft_client *c, cft_owner owner, cft_perm_group_list *out,
			       cft_error *err);
/* Every page.  Account-owned tokens may be refused here (code 1001). */
cft_code cft_accounts_list(cft_client *c, cft_account_list *out, cft_error *err);

/* A Worker's secret binding (`wrangler secret put`): PUT
 * /accounts/{account_id}/workers/scripts/{script}/secrets with
 * {"name", "text", "type": "secret_text"}; the parent needs "Workers
 * Scripts Write".  The body is built in locked memory.  Script names are
 * [a-z0-9_-], binding names [A-Za-z_][A-Za-z0-9_]*. */
cft_code cft_worker_secret_put(cft_client *c, const char *account_id, const char *script,
			       const char *name, const cft_secret *text, cft_error *err);
/* DELETE .../secrets/{name}; CFT_E_NOT_FOUND when it is not there. */
cft_code cft_worker_secret_delete(cft_client *c, const char *account_id, const char *script,
				  const char *name, cft_error *err);
bool cft_worker_name_valid(const char *script);
bool cft_binding_name_valid(const char *name);

/* A zone's id from its name ("example.com") in an account, through
 * GET /zones: needs "Zone Read" on it.  An id or "*" is returned as it is.
 * CFT_E_NOT_FOUND when the token sees no such zone. */
cft_code cft_zone_id(cft_client *c, const char *account_id, const char *name_or_id,
		     char out[CFT_ID_LEN + 1], cft_error *err);

/* cft_zone_id for each of n zones; ids[i] receives the id and ptrs[i]
 * points at it (for cft_token_wish.zones). */
cft_code cft_zone_ids(cft_client *c, const char *account_id, const char *const *names,
		      size_t n, char (*ids)[CFT_ID_LEN + 1], const char **ptrs, cft_error *err);

/* A zone name as cftoken accepts it: a DNS name of letters, digits, '-'
 * and at least one '.'. */
bool cft_is_zone_name(const char *s);

void cft_token_clear(cft_token *t);
void cft_token_list_clear(cft_token_list *l);
void cft_account_list_clear(cft_account_list *l);
void cft_perm_group_list_clear(cft_perm_group_list *l);

/* 32 lowercase hex characters: what account, token and group ids look like. */
bool cft_is_id(const char *s);
