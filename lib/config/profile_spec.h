/* A profile (or a login policy) made into the token the API takes: its
 * presets' and its own permission names resolved to groups, its zones
 * looked up, its name rendered, its times counted from a base.  Minting
 * (obtain.c) counts from now; `cftoken apply` from the declared token's
 * own issue time, so applying twice asks for the same thing. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "api/api.h"
#include "config/config.h"
#include "config/profile.h"
#include "config/tokenspec.h"

typedef struct cft_profile_spec {
	const char *names[CFT_PROFILE_MAX_NAMES];
	size_t n_names;
	char zone_ids[CFT_SPEC_MAX_ZONES][CFT_ID_LEN + 1];
	const char *zones[CFT_SPEC_MAX_ZONES];
	size_t n_zones;
	char name[256];
	cft_perm_group_list groups;
	cft_built_spec built;          /* built.spec: what to create or update to */
	bool user_owned;               /* lib/config/owner.h decided: a user-owned token */
	char owner_why[256];           /* and why, for the person */
} cft_profile_spec;

/* The owner the spec's token is created under. */
static inline cft_owner cft_profile_spec_owner(const cft_profile_spec *s, const char *account_id)
{
	return s->user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(account_id);
}

/* base: when the token's life starts (not_before and expires_on count from
 * it, and {date} in the name is its date); ttl: seconds, 0 for the
 * profile's own.  The names resolve against `known` or, when NULL, the
 * permission groups this user's kernel keyring keeps for the client's
 * API, and the full list when those lack one (cft_group_cache_groups:
 * a caller minting with a parent that is not the user's passes groups
 * it trusts, never NULL). */
cft_code cft_profile_spec_build(cft_client *client, const cft_config *cfg,
				const cft_profile *p, const char *account_id, time_t base,
				int64_t ttl, const cft_perm_group_list *known,
				cft_profile_spec *out, cft_error *err);
void cft_profile_spec_clear(cft_profile_spec *s);

/* The ceiling on a token made from the parent for a profile or a login
 * policy: it holds no group that creates tokens ("Account API Tokens
 * Write", "API Tokens Write": a child that could mint would escape every
 * limit) unless cfg->allow_token_minting, and it lives at most max_ttl
 * (7 days by default) from base.  CFT_E_INVALID_ARG saying which, and how
 * to allow it.  cft_profile_spec_build checks it. */
/* Whether a group (by its API name) lets a token create tokens: held
 * only under allow_token_minting (cft_profile_ceiling). */
bool cft_group_makes_tokens(const char *name);

cft_code cft_profile_ceiling(const cft_config *cfg, const cft_profile *p,
			     const cft_perm_group_list *groups, const cft_built_spec *b,
			     time_t base, cft_error *err);
