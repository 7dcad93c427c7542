#include "config/group_cache.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/keyring.h"
#include "config/policy.h"
#include "core/analyzer.h"
#include "core/fingerprint.h"
#include "core/log.h"
#include "core/timeutil.h"

/* A fetch time this far past the clock is a damaged key; a clock set
 * back a little is not. */
#define FUTURE_SLACK_S 300

static void group_desc(const char *api_url, cft_owner owner, char out[CFT_KEY_DESC_MAX])
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	snprintf(out, CFT_KEY_DESC_MAX, "cftoken-groups:%lu:%s:%s", (unsigned long)getuid(),
		 owner.account_id ? owner.account_id : "user", api);
}

int64_t cft_group_cache_ttl(const cft_config *cfg)
{
	return cfg && cfg->groups_ttl_set ? cfg->groups_ttl_s : CFT_GROUP_CACHE_DEFAULT_TTL_S;
}

cft_code cft_group_cache_load(const char *api_url, cft_owner owner, int64_t ttl_s,
			      cft_group_record *out, cft_error *err)
{
	char desc[CFT_KEY_DESC_MAX];
	_cleanup_secret_ cft_secret *payload = NULL;
	memset(out, 0, sizeof(*out));
	if (ttl_s <= 0)
		return cft_fail(err, CFT_E_NOT_FOUND, "permission_groups_ttl = 0: no cache");
	group_desc(api_url, owner, desc);
	cft_code rc = cft_keyring_read(desc, &payload, err);
	if (rc)
		return rc;
	rc = cft_group_record_parse(cft_secret_str(payload), cft_secret_len(payload), out, err);
	if (rc == CFT_E_MALFORMED)
		return cft_fail(err, CFT_E_NOT_FOUND, "a damaged permission-group key");
	if (rc)
		return rc;
	time_t now = time(NULL);
	if (!cft_api_url_is(out->api, api_url) || out->fetched > now + FUTURE_SLACK_S ||
	    now - out->fetched >= ttl_s) {
		cft_group_record_clear(out);
		return cft_fail(err, CFT_E_NOT_FOUND, "the permission-group key is of another API, "
				"or older than permission_groups_ttl");
	}
	return CFT_OK;
}

/* The groups a record will hold. */
typedef struct keep_set {
	const cft_perm_group *g[CFT_GROUP_RECORD_MAX_GROUPS];
	size_t n;
} keep_set;

static bool kept(const keep_set *k, const cft_perm_group *g)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->g[i] == g)
			return true;
	return false;
}

/* Adds every group of all that `name` means, at any scope: cft_perm_resolve
 * tells a name's scopes apart among all of them.  False when they do not
 * all fit. */
static bool keep_named(keep_set *k, const cft_perm_group_list *all, const char *name)
{
	for (size_t i = 0; i < all->n; i++) {
		const cft_perm_group *g = &all->items[i];
		if (!cft_perm_name_is(g->name, name) || kept(k, g))
			continue;
		if (k->n == CFT_GROUP_RECORD_MAX_GROUPS)
			return false;
		k->g[k->n++] = g;
	}
	return true;
}

static bool format(const char *api, time_t now, const keep_set *k,
		   char buf[CFT_GROUP_RECORD_MAX + 1], size_t *len)
{
	return cft_group_record_format(api, now, k->g, k->n, buf, len, NULL) == CFT_OK;
}

cft_code cft_group_cache_store(const char *api_url, cft_owner owner, int64_t ttl_s,
			       const cft_perm_group_list *all, const char *const *names,
			       size_t n, cft_error *err)
{
	char api[CFT_API_URL_MAX + 1], desc[CFT_KEY_DESC_MAX], buf[CFT_GROUP_RECORD_MAX + 1];
	size_t len = 0;
	keep_set k = { .n = 0 };
	cft_group_record before;
	time_t now = time(NULL);

	if (ttl_s <= 0)
		return CFT_OK;
	if (cft_api_url_normal(api_url, api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "not an https:// API URL");
	for (size_t i = 0; i < n; i++)
		if (!keep_named(&k, all, names[i]))
			return cft_fail(err, CFT_E_INVALID_ARG, "more than %d permission groups",
					CFT_GROUP_RECORD_MAX_GROUPS);
	if (!format(api, now, &k, buf, &len))
		return cft_fail(err, CFT_E_INVALID_ARG, "the groups of these names are more than "
				"a key holds (%d bytes)", CFT_GROUP_RECORD_MAX);
	/* The union with what other profiles needed, a name at a time, while
	 * it fits: this profile's own come first. */
	if (cft_group_cache_load(api_url, owner, ttl_s, &before, NULL) == CFT_OK) {
		for (size_t i = 0; i < before.groups.n; i++) {
			keep_set more = k;
			if (keep_named(&more, all, before.groups.items[i].name) &&
			    format(api, now, &more, buf, &len))
				k = more;
		}
		cft_group_record_clear(&before);
	}
	if (k.n == 0)
		return CFT_OK;
	if (!format(api, now, &k, buf, &len))
		return cft_fail(err, CFT_E_INTERNAL, "the permission-group record no longer fits");
	group_desc(api_url, owner, desc);
	return cft_keyring_store(desc, buf, len, now + ttl_s, err);
}

/* Fills an empty list (analyzer.h): the list owns the strings, and frees
 * them on failure too. */
CFT_ANALYZER_ARRAY_STORES_BEGIN
static cft_code copy_groups(const cft_perm_group_list *from, cft_perm_group_list *to,
			    cft_error *err)
{
	to->items = calloc(from->n ? from->n : 1, sizeof(*to->items));
	if (!to->items)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	for (size_t i = 0; i < from->n; i++) {
		cft_perm_group *g = &to->items[to->n++];
		g->id = strdup(from->items[i].id);
		g->name = strdup(from->items[i].name);
		g->scopes = from->items[i].scopes;
		if (!g->id || !g->name) {
			cft_perm_group_list_clear(to);
			return cft_fail(err, CFT_E_NOMEM, NULL);
		}
	}
	return CFT_OK;
}
CFT_ANALYZER_ARRAY_STORES_END

cft_code cft_group_cache_groups(cft_client *client, cft_owner owner, int64_t ttl_s,
				const cft_perm_group_list *known, const char *const *names,
				size_t n, cft_perm_group_list *out, cft_error *err)
{
	const char *api_url = cft_client_api_url(client);
	cft_group_record rec;
	memset(out, 0, sizeof(*out));
	if (known) {
		if (cft_perm_all_resolve(known, names, n))
			return copy_groups(known, out, err);
		return cft_permission_groups(client, owner, out, err);
	}
	if (cft_group_cache_load(api_url, owner, ttl_s, &rec, NULL) == CFT_OK) {
		if (cft_perm_all_resolve(&rec.groups, names, n)) {
			*out = rec.groups;  /* the caller's now */
			return CFT_OK;
		}
		cft_group_record_clear(&rec);
	}
	/* No key, or a name it does not resolve: the full list decides, as
	 * it did before there was a cache. */
	cft_code rc = cft_permission_groups(client, owner, out, err);
	cft_error why;
	cft_error_clear(&why);
	if (!rc && ttl_s > 0 && cft_group_cache_store(api_url, owner, ttl_s, out, names, n,
						      &why) != CFT_OK)
		cft_log(CFT_LOG_DEBUG, "permission groups not cached: %s", why.detail);
	return rc;
}

void cft_group_cache_describe(const char *api_url, cft_owner owner, int64_t ttl_s, time_t now,
			      char *out, size_t size)
{
	cft_group_record rec;
	char age[32], keep[32];
	if (ttl_s <= 0) {
		snprintf(out, size, "not cached (permission_groups_ttl = 0)");
		return;
	}
	if (cft_group_cache_load(api_url, owner, ttl_s, &rec, NULL) != CFT_OK) {
		snprintf(out, size, "not cached");
		return;
	}
	long long ago = now > rec.fetched ? (long long)(now - rec.fetched) : 0;
	if (ago < 60)
		snprintf(age, sizeof(age), "just now");
	else if (ago < 3600)
		snprintf(age, sizeof(age), "%lld min ago", ago / 60);
	else
		snprintf(age, sizeof(age), "%lld h ago", ago / 3600);
	cft_duration_format(ttl_s, keep, sizeof(keep));
	snprintf(out, size, "cached %s (%zu group%s), refreshed after %s", age, rec.groups.n,
		 rec.groups.n == 1 ? "" : "s", keep);
	cft_group_record_clear(&rec);
}
