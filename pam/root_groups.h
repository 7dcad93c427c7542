/* The permission groups of a login policy under the admin's parent, kept
 * in root's own kernel keyring (lib/config/group_cache.h), never in the
 * user's.
 *
 * The user's part mints with the admin's parent, and the admin's ceiling
 * (no group that creates tokens, profile_spec.h) is checked by the names
 * of the groups it resolved.  A key in the user's keyring is the user's
 * to write: one that mapped a name the policy allows to the id of another
 * group would get the user a token the admin does not allow.  So root
 * reads its own key before the user's part starts and hands the groups
 * over in memory; when they do not resolve every name of the policy, the
 * user's part fetches the full list, and root, after the answer, fetches
 * and keeps the groups itself. */
#pragma once

#include <stdbool.h>

#include "api/api.h"
#include "config/config.h"

typedef struct root_groups {
	cft_perm_group_list groups;  /* for the user's part: never NULL's meaning */
	bool refresh;                /* root's key lacks a name: refresh it */
} root_groups;

/* As root: the groups root keeps for the policy's names (none when its
 * key lacks one, or it has none). */
void root_groups_load(root_groups *rg, const cft_config *cfg, const cft_profile *policy,
		      const char *account, const char *api_url);

/* As root, after the answer, when root_groups_load found none: fetches
 * the full list with client (the admin's parent) and keeps, in root's
 * keyring, what the policy's names need.  A session keyring of its own
 * first: the one root inherited from the login must never be given a link
 * to root's keyring. */
cft_code root_groups_refresh(const root_groups *rg, cft_client *client, const cft_config *cfg,
			     const cft_profile *policy, const char *account, cft_error *err);

void root_groups_clear(root_groups *rg);
