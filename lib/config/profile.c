#include "config/profile.h"

#include "config/presets.h"

int64_t cft_profile_ttl(const cft_config *cfg, const cft_profile *p)
{
	if (p && p->ttl_s)
		return p->ttl_s;
	return cfg && cfg->ttl_s ? cfg->ttl_s : CFT_DEFAULT_TTL_S;
}

int64_t cft_profile_renew_margin(const cft_config *cfg, const cft_profile *p)
{
	int64_t m = p && p->renew_margin_s ? p->renew_margin_s
		    : cfg && cfg->renew_margin_s ? cfg->renew_margin_s
						 : CFT_DEFAULT_RENEW_MARGIN_S;
	/* A margin as long as the token would renew it on every call. */
	int64_t ttl = cft_profile_ttl(cfg, p);
	return m < ttl ? m : ttl / 2;
}

cft_code cft_profile_permissions(const cft_profile *p, const char **names, size_t max,
				 size_t *n, cft_error *err)
{
	*n = 0;
	for (size_t i = 0; i < p->n_presets; i++) {
		const cft_preset *pre = cft_preset_find(p->presets[i]);
		if (!pre)
			return cft_fail(err, CFT_E_INVALID_ARG, "unknown preset %s", p->presets[i]);
		for (const char *const *q = pre->permissions; *q && *n < max; q++)
			names[(*n)++] = *q;
	}
	for (size_t i = 0; i < p->n_permissions && *n < max; i++)
		names[(*n)++] = p->permissions[i];
	if (*n == 0)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"[%s %s] names no permissions: add preset = or permissions =",
				p->kind == CFT_SECTION_PROFILE ? "profile"
				: p->kind == CFT_SECTION_USER ? "user" : "group", p->name);
	return CFT_OK;
}
