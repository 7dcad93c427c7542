#include "root_groups.h"

#include <string.h>

#include "cache/keyring.h"
#include "config/group_cache.h"
#include "config/owner.h"
#include "config/policy.h"
#include "config/profile.h"

void root_groups_load(root_groups *rg, const cft_config *cfg, const cft_profile *policy,
		      const char *account, const char *api_url)
{
	const char *names[CFT_PROFILE_MAX_NAMES];
	size_t n = 0;
	cft_group_record rec;
	int64_t ttl = cft_group_cache_ttl(cfg);
	memset(rg, 0, sizeof(*rg));
	/* A policy without names fails in the user's part, before any request. */
	if (cft_profile_permissions(policy, names, CFT_PROFILE_MAX_NAMES, &n, NULL) != CFT_OK)
		return;
	if (cft_group_cache_load(api_url, cft_profile_token_owner(policy, account), ttl, &rec,
				 NULL) == CFT_OK) {
		if (cft_perm_all_resolve(&rec.groups, names, n)) {
			rg->groups = rec.groups;  /* ours now */
			return;
		}
		cft_group_record_clear(&rec);
	}
	rg->refresh = ttl > 0;
}

cft_code root_groups_refresh(const root_groups *rg, cft_client *client, const cft_config *cfg,
			     const cft_profile *policy, const char *account, cft_error *err)
{
	const char *names[CFT_PROFILE_MAX_NAMES];
	size_t n = 0;
	cft_perm_group_list all = { 0 };
	if (!rg->refresh)
		return CFT_OK;
	cft_code rc = cft_profile_permissions(policy, names, CFT_PROFILE_MAX_NAMES, &n, err);
	if (!rc)
		rc = cft_keyring_new_session(err);
	if (!rc)
		rc = cft_group_cache_groups(client, cft_profile_token_owner(policy, account),
					    cft_group_cache_ttl(cfg), NULL, names, n, &all, err);
	cft_perm_group_list_clear(&all);
	return rc;
}

void root_groups_clear(root_groups *rg)
{
	cft_perm_group_list_clear(&rg->groups);
	rg->refresh = false;
}
