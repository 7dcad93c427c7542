/* Permission groups kept between mints.  The API lists hundreds; a mint
 * needs a few, and fetching them all was a request on every cold mint's
 * path (issue 17).  A "user" key in the kernel user keyring per API and
 * owner, with no secret in it:
 *
 *   cftoken-groups:UID:OWNER:APIHASH    OWNER: the account id, or "user"
 *                                       for user-owned tokens
 *
 * holds the groups whose names mints resolved (every group of each such
 * name, whatever its scope, so a name resolves against them as against
 * the full list), when they were fetched (group_record.h), for
 * permission_groups_ttl seconds (a day by default).  A name they do not
 * resolve fetches the full list once: it decides, with the same messages,
 * and the groups it needed join the key.
 *
 * Whose keyring: the calling process's user's.  A mint with a parent that
 * is not the user's (pam_cftoken's worker, with the admin's) must never
 * read a key the user can write: one that maps a name the admin allows to
 * the id of a group the admin does not would widen the token.  Such a
 * caller passes groups it trusts (`known`, root's own cache) instead. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "api/api.h"
#include "config/config.h"
#include "config/group_record.h"

#define CFT_GROUP_CACHE_DEFAULT_TTL_S 86400

/* permission_groups_ttl of [defaults], or the default; 0: no cache. */
int64_t cft_group_cache_ttl(const cft_config *cfg);

/* The record kept for api_url and owner.  CFT_E_NOT_FOUND when there is
 * none, or it is older than ttl_s (its key outlived a lowered ttl),
 * damaged, or of another API. */
cft_code cft_group_cache_load(const char *api_url, cft_owner owner, int64_t ttl_s,
			      cft_group_record *out, cft_error *err);

/* Keeps, of `all` (the API's full list, fetched now), every group named
 * by one of names (n of them) and, while the record stays within
 * CFT_GROUP_RECORD_MAX, those of the names the key held before, for ttl_s
 * seconds.  When names alone do not fit, nothing is kept (a record that
 * misses a name would fetch every time anyway).  No names and nothing
 * kept before: nothing to keep. */
cft_code cft_group_cache_store(const char *api_url, cft_owner owner, int64_t ttl_s,
			       const cft_perm_group_list *all, const char *const *names,
			       size_t n, cft_error *err);

/* The groups to resolve names (n of them, as written, qualifiers and
 * all) against, into out (cleared by cft_perm_group_list_clear):
 *  - known NULL: the cache's, when every name resolves among them; else
 *    the API's full list, fetched once through client, and the cache
 *    keeps what these names need (ttl_s 0: always the full list, no
 *    cache);
 *  - known: those, when every name resolves among them; else the full
 *    list.  No cache is read or written.
 * Only the fetch fails. */
cft_code cft_group_cache_groups(cft_client *client, cft_owner owner, int64_t ttl_s,
				const cft_perm_group_list *known, const char *const *names,
				size_t n, cft_perm_group_list *out, cft_error *err);

/* The cache of api_url and owner in words, for doctor and permissions:
 * "cached 4 min ago (3 groups), refreshed after 1d", "not cached", or
 * "not cached (permission_groups_ttl = 0)". */
void cft_group_cache_describe(const char *api_url, cft_owner owner, int64_t ttl_s, time_t now,
			      char *out, size_t size);
