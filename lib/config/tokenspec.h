/* From what a person writes (permission names, zones, a TTL, an IP rule, a
 * name template) to the policies the API takes.  Account-scoped groups go
 * into a policy on the account; zone-scoped groups into a policy on the
 * zones, nested under the account for account-owned tokens, as Cloudflare
 * documents.  "zone:NAME" / "account:NAME" pick the scope of a name that
 * exists at both. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "api/api.h"
#include "config/policy.h"

#define CFT_SPEC_MAX_GROUPS 64
#define CFT_SPEC_MAX_ZONES 32

typedef struct cft_token_wish {
	const char *const *permissions;
	size_t n_permissions;
	const char *account_id;        /* required for account-owned tokens */
	bool user_owned;
	const char *const *zones;      /* ids or "*"; none: every zone */
	size_t n_zones;
	const char *name;
	time_t not_before;             /* 0: none */
	time_t expires_on;             /* 0: none */
	const char *const *ip_in;
	size_t n_ip_in;
	const char *const *ip_not_in;
	size_t n_ip_not_in;
} cft_token_wish;

/* Holds the spec and everything it points to (except the group list and
 * the wish's strings, which must outlive it). */
typedef struct cft_built_spec {
	cft_token_spec spec;
	const char *account_groups[CFT_SPEC_MAX_GROUPS];
	const char *zone_groups[CFT_SPEC_MAX_GROUPS];
	size_t n_account, n_zone;
	char account_key[CFT_RESOURCE_KEY_SIZE];
	char zone_keys[CFT_SPEC_MAX_ZONES][CFT_RESOURCE_KEY_SIZE];
	cft_resource zones[CFT_SPEC_MAX_ZONES];
	size_t n_zone_res;
	cft_resource account_res, nested;
	cft_policy_spec policies[2];
} cft_built_spec;

cft_code cft_spec_build(const cft_perm_group_list *groups, const cft_token_wish *wish,
			cft_built_spec *out, cft_error *err);

/* A token name from a template: {profile}, {user}, {host}, {date} are
 * replaced.  Default (template NULL): "cftoken {profile} {user}@{host}
 * {date}", the purpose, host, user and date Cloudflare's best practice asks
 * a name to carry. */
void cft_token_name(const char *template, const char *profile, char *out, size_t size);
/* The same with {date} the date of `when`. */
void cft_token_name_at(const char *template, const char *profile, time_t when, char *out,
		       size_t size);
/* The same for a user other than the caller (root names a login token
 * before the user's part creates it). */
void cft_token_name_for(const char *template, const char *profile, const char *user,
			time_t when, char *out, size_t size);
/* Whether name has the form the template gives the caller's tokens of
 * this profile on this host, on any date: cftoken deletes by an id or a
 * name from a cache, a state file or a note only a token of that form. */
bool cft_token_name_matches(const char *template, const char *profile, const char *name);
/* The same for the tokens root names for user (cft_token_name_for); user
 * NULL: the caller's. */
bool cft_token_name_matches_for(const char *template, const char *profile, const char *user,
				const char *name);
