#include "config/owner.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/policy.h"
#include "config/profile.h"

/* "zone:Page Rules Edit" -> "Page Rules Write" (the dashboard's word). */
static void canonical(const char *permission, char *out, size_t size)
{
	unsigned scope;
	permission = cft_perm_unqualified(permission, &scope);
	while (*permission == ' ' || *permission == '\t')
		permission++;
	snprintf(out, size, "%s", permission);
	size_t n = strlen(out);
	if (n >= 5 && !strcasecmp(out + n - 5, " Edit"))
		snprintf(out + n - 4, size - (n - 4), "Write");
}

const char *cft_user_token_service(const char *permission)
{
	char name[256];
	canonical(permission, name, sizeof(name));
	for (const cft_user_token_group *g = cft_user_token_only; g->service; g++)
		if (!strcasecmp(g->group, name))
			return g->service;
	return NULL;
}

cft_code cft_profile_owner(const cft_profile *p, bool *user_owned, char *why, size_t size,
			   cft_error *err)
{
	const char *names[CFT_PROFILE_MAX_NAMES];
	size_t n = 0;
	cft_code rc = cft_profile_permissions(p, names, CFT_PROFILE_MAX_NAMES, &n, err);
	if (rc)
		return rc;
	*user_owned = p->owner && !strcmp(p->owner, "user");
	if (why && size)
		why[0] = '\0';
	if (*user_owned) {
		if (why)
			snprintf(why, size, "owner = user in [profile %s]", p->name);
		return CFT_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const char *service = cft_user_token_service(names[i]);
		if (!service)
			continue;
		if (p->owner && !strcmp(p->owner, "account"))
			return cft_fail(err, CFT_E_INVALID_ARG,
					"[profile %.64s] says owner = account, but \"%.64s\" reaches %s, "
					"which does not accept account-owned tokens yet: remove owner = "
					"account to get a user-owned token", p->name, names[i], service);
		*user_owned = true;
		if (why)
			snprintf(why, size, "\"%s\" reaches %s, which does not accept account-owned "
				 "tokens yet", names[i], service);
		return CFT_OK;
	}
	return CFT_OK;
}

cft_owner cft_profile_token_owner(const cft_profile *p, const char *account)
{
	bool user_owned = false;
	if (cft_profile_owner(p, &user_owned, NULL, 0, NULL) != CFT_OK)
		user_owned = false;
	return user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(account);
}
