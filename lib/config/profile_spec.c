#include "config/profile_spec.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/group_cache.h"
#include "config/owner.h"
#include "config/profile.h"
#include "core/timeutil.h"

cft_code cft_profile_spec_build(cft_client *client, const cft_config *cfg,
				const cft_profile *p, const char *account_id, time_t base,
				int64_t ttl, const cft_perm_group_list *known,
				cft_profile_spec *out, cft_error *err)
{
	memset(out, 0, sizeof(*out));
	cft_code rc = cft_profile_owner(p, &out->user_owned, out->owner_why,
					sizeof(out->owner_why), err);
	if (rc)
		return rc;
	/* A user-owned token's groups come from /user/tokens/permission_groups. */
	cft_owner owner = cft_profile_spec_owner(out, account_id);
	rc = cft_profile_permissions(p, out->names, CFT_PROFILE_MAX_NAMES, &out->n_names, err);
	/* From the kernel keyring's cache when it resolves every name: then
	 * the create is the mint's only request. */
	if (!rc)
		rc = cft_group_cache_groups(client, owner, cft_group_cache_ttl(cfg), known,
					    out->names, out->n_names, &out->groups, err);
	/* Zones the profile names (example.com) become ids. */
	out->n_zones = p->n_zones < CFT_SPEC_MAX_ZONES ? p->n_zones : CFT_SPEC_MAX_ZONES;
	if (!rc)
		rc = cft_zone_ids(client, account_id, (const char *const *)p->zones, out->n_zones,
				  out->zone_ids, out->zones, err);
	if (rc) {
		cft_profile_spec_clear(out);
		return rc;
	}
	if (ttl <= 0)
		ttl = cft_profile_ttl(cfg, p);
	time_t not_before = p->not_before_s ? base + p->not_before_s : 0;
	cft_token_name_at(p->name_template ? p->name_template : cfg->name_template, p->name, base,
			  out->name, sizeof(out->name));
	cft_token_wish wish = {
		.permissions = out->names,
		.n_permissions = out->n_names,
		.account_id = account_id,
		.user_owned = out->user_owned,
		.zones = out->zones,
		.n_zones = out->n_zones,
		.name = out->name,
		.not_before = not_before,
		.expires_on = (not_before ? not_before : base) + ttl,
	};
	wish.ip_in = cft_profile_ip_in(cfg, p, &wish.n_ip_in);
	wish.ip_not_in = cft_profile_ip_not_in(cfg, p, &wish.n_ip_not_in);
	rc = cft_spec_build(&out->groups, &wish, &out->built, err);
	if (!rc)
		rc = cft_profile_ceiling(cfg, p, &out->groups, &out->built, base, err);
	if (rc)
		cft_profile_spec_clear(out);
	return rc;
}

/* The groups that let a token create tokens, as the API names them. */
static const char *const minting_groups[] = { "Account API Tokens Write", "API Tokens Write" };

bool cft_group_makes_tokens(const char *name)
{
	for (size_t k = 0; k < sizeof(minting_groups) / sizeof(minting_groups[0]); k++)
		if (!strcasecmp(name, minting_groups[k]))
			return true;
	return false;
}

static const char *kind_word(const cft_profile *p)
{
	return p->kind == CFT_SECTION_PROFILE ? "profile"
	       : p->kind == CFT_SECTION_USER ? "user" : "group";
}

/* A group's name by its id, or "". */
static const char *group_name(const cft_perm_group_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i].id && !strcmp(l->items[i].id, id))
			return l->items[i].name ? l->items[i].name : "";
	return "";
}

static const char *minting_group(const cft_perm_group_list *l, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(minting_groups) / sizeof(minting_groups[0]); k++)
			if (!strcasecmp(group_name(l, ids[i]), minting_groups[k]))
				return minting_groups[k];
	return NULL;
}

cft_code cft_profile_ceiling(const cft_config *cfg, const cft_profile *p,
			     const cft_perm_group_list *groups, const cft_built_spec *b,
			     time_t base, cft_error *err)
{
	const char *minting = minting_group(groups, b->account_groups, b->n_account);
	if (!minting)
		minting = minting_group(groups, b->zone_groups, b->n_zone);
	if (minting && !cfg->allow_token_minting)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"[%s %.64s] asks for \"%s\", which creates tokens: a token made from "
				"the parent never holds it, unless allow_token_minting = true is in "
				"[defaults] of your own configuration file or the system file",
				kind_word(p), p->name, minting);
	int64_t max = cfg->max_ttl_s ? cfg->max_ttl_s : CFT_DEFAULT_MAX_TTL_S;
	time_t expires = b->spec.expires_on;
	if (!expires || expires - base > max) {
		char asked[32] = "ever", limit[32];
		if (expires)
			cft_duration_format(expires - base, asked, sizeof(asked));
		cft_duration_format(max, limit, sizeof(limit));
		return cft_fail(err, CFT_E_INVALID_ARG,
				"[%s %.64s] asks for a token that lives %s, longer than max_ttl (%s%s): "
				"refused; raise max_ttl in [defaults] of your own configuration file or "
				"the system file to allow it", kind_word(p), p->name, asked, limit,
				cfg->max_ttl_s ? "" : ", the default");
	}
	return CFT_OK;
}

void cft_profile_spec_clear(cft_profile_spec *s)
{
	cft_perm_group_list_clear(&s->groups);
}
