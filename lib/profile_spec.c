#include "profile_spec.h"

#include <string.h>

#include "obtain.h"
#include "owner.h"

cft_code cft_profile_spec_build(cft_client *client, const cft_config *cfg,
				const cft_profile *p, const char *account_id, time_t base,
				int64_t ttl, cft_profile_spec *out, cft_error *err)
{
	memset(out, 0, sizeof(*out));
	cft_code rc = cft_profile_owner(p, &out->user_owned, out->owner_why,
					sizeof(out->owner_why), err);
	if (rc)
		return rc;
	/* A user-owned token's groups come from /user/tokens/permission_groups. */
	cft_owner owner = cft_profile_spec_owner(out, account_id);
	rc = cft_profile_permissions(p, out->names, CFT_PROFILE_MAX_NAMES, &out->n_names, err);
	if (!rc)
		rc = cft_permission_groups(client, owner, &out->groups, err);
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
		.ip_in = (const char *const *)(p->n_ip_in ? p->ip_in : cfg->ip_in),
		.n_ip_in = p->n_ip_in ? p->n_ip_in : cfg->n_ip_in,
		.ip_not_in = (const char *const *)(p->n_ip_not_in ? p->ip_not_in : cfg->ip_not_in),
		.n_ip_not_in = p->n_ip_not_in ? p->n_ip_not_in : cfg->n_ip_not_in,
	};
	rc = cft_spec_build(&out->groups, &wish, &out->built, err);
	if (rc)
		cft_profile_spec_clear(out);
	return rc;
}

void cft_profile_spec_clear(cft_profile_spec *s)
{
	cft_perm_group_list_clear(&s->groups);
}
