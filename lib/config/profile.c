#include "config/profile.h"

#include <stdint.h>

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

const char *const *cft_profile_ip_in(const cft_config *cfg, const cft_profile *p, size_t *n)
{
	*n = p->n_ip_in ? p->n_ip_in : cfg->n_ip_in;
	return (const char *const *)(p->n_ip_in ? p->ip_in : cfg->ip_in);
}

const char *const *cft_profile_ip_not_in(const cft_config *cfg, const cft_profile *p, size_t *n)
{
	*n = p->n_ip_not_in ? p->n_ip_not_in : cfg->n_ip_not_in;
	return (const char *const *)(p->n_ip_not_in ? p->ip_not_in : cfg->ip_not_in);
}

/* A list, by its length and then each string: ("a,b") and ("a","b")
 * differ. */
static void grant_list(cft_fp *fp, const char *const *v, size_t n)
{
	uint64_t len = n;
	cft_fp_bytes(fp, &len, sizeof(len));
	for (size_t i = 0; i < n; i++)
		cft_fp_str(fp, v[i]);
}

void cft_profile_grant(const cft_config *cfg, const cft_profile *p, char out[CFT_FP_HEX])
{
	const char *names[CFT_PROFILE_MAX_NAMES];
	const char *const *ips;
	size_t n = 0;
	int64_t life[2] = { cft_profile_ttl(cfg, p), p->not_before_s };
	cft_fp fp;

	cft_fp_init(&fp);
	cft_fp_str(&fp, "cftoken-grant 1");
	/* (a profile without permissions mints nothing: its grant is moot) */
	if (cft_profile_permissions(p, names, CFT_PROFILE_MAX_NAMES, &n, NULL) != CFT_OK)
		n = 0;
	grant_list(&fp, names, n);
	cft_fp_str(&fp, p->owner);
	grant_list(&fp, (const char *const *)p->zones, p->n_zones);
	ips = cft_profile_ip_in(cfg, p, &n);
	grant_list(&fp, ips, n);
	ips = cft_profile_ip_not_in(cfg, p, &n);
	grant_list(&fp, ips, n);
	cft_fp_bytes(&fp, life, sizeof(life));
	cft_fp_hex(&fp, out);
}
