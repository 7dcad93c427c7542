#include "cache/cache.h"

#include <stdbool.h>

#include "cache/l1.h"

static bool has_l2(cft_cache c, cft_cache_level levels)
{
	return (levels & CFT_CACHE_L2) && c.ops && c.l2;
}

cft_code cft_cache_lookup(cft_cache c, cft_cache_level levels, const char *account,
			  const char *profile, const char *api_url, cft_l1_record *out,
			  cft_error *err)
{
	cft_code rc = CFT_E_NOT_FOUND, l1 = CFT_E_NOT_FOUND;
	if (levels & CFT_CACHE_L1) {
		l1 = rc = cft_l1_lookup_token(account, profile, api_url, out, err);
		if (rc == CFT_OK)
			return rc;
	}
	if (has_l2(c, levels)) {
		rc = c.ops->lookup(c.l2, account, profile, api_url, out, err);
		/* Absent from L2 too is absent only if L1 could say so. */
		if (rc == CFT_E_NOT_FOUND)
			rc = l1;
	}
	return rc;
}

cft_code cft_cache_lookup_route(const char *fp_hex, const char *api_url, cft_l1_record *out,
				char *route_to, bool *dropped, cft_error *err)
{
	return cft_l1_lookup(fp_hex, api_url, out, route_to, dropped, err);
}

cft_code cft_cache_store(cft_cache c, cft_cache_level levels, const char *fp_hex,
			 const cft_l1_record *r, const char *api_url, cft_error *err)
{
	cft_code rc = CFT_OK;
	if (levels & CFT_CACHE_L1)
		rc = cft_l1_store(fp_hex, r, api_url, err);
	if (!rc && has_l2(c, levels))
		rc = c.ops->store(c.l2, r, api_url, err);
	return rc;
}

cft_code cft_cache_drop(cft_cache c, const char *account, const char *profile,
			const char *api_url, cft_error *err)
{
	cft_code rc = cft_l1_drop(account, profile, api_url, err);
	if (!rc && has_l2(c, CFT_CACHE_L2))
		rc = c.ops->drop(c.l2, account, profile, api_url, err);
	return rc;
}

cft_code cft_cache_drop_on_route(cft_cache c, const char *fp_hex, const char *account,
				 const char *profile, const char *api_url, time_t expires,
				 cft_error *err)
{
	cft_code rc = cft_cache_drop(c, account, profile, api_url, err);
	/* (The note only saves the next request a look into L2: without
	 * it, that look finds nothing, as before.) */
	if (!rc)
		cft_l1_note_dropped(fp_hex, account, profile, api_url, expires, NULL);
	return rc;
}

int cft_cache_drop_id(cft_cache c, const char *token_id)
{
	int dropped = cft_l1_drop_id(token_id);
	if (has_l2(c, CFT_CACHE_L2))
		c.ops->drop_id(c.l2, token_id, NULL);
	return dropped;
}

int cft_cache_drop_api(cft_cache c, const char *api_url)
{
	int dropped = cft_l1_drop_api(api_url);
	if (has_l2(c, CFT_CACHE_L2))
		c.ops->drop_api(c.l2, api_url, NULL);
	return dropped;
}
