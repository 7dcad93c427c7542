/* Permission groups by the names people write, and resource keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/error.h"

/* Finds the group called `name` among `groups`: case-insensitive, white
 * space collapsed, and in the dashboard's wording as well ("Workers Routes
 * Edit" is the API's "Workers Routes Write").  `scope` (CFT_SCOPE_* bits, 0
 * for any) is the kind of resource the group will be used with: a name that
 * exists at several scopes ("Logs Write") is resolved by it, or refused as
 * ambiguous, never silently one of them.  An unknown name fails with the
 * closest real names in err->detail. */
cft_code cft_perm_resolve(const cft_perm_group_list *groups, const char *name,
			  unsigned scope, const cft_perm_group **out, cft_error *err);

/* A permission name less its "zone:" / "account:" qualifier, which picks
 * the scope of a name that exists at several: *scope gets that CFT_SCOPE_*
 * bit, or both when there is no qualifier.  Any case, blanks before it:
 * "  Zone: logs write" is zone:Logs Write. */
const char *cft_perm_unqualified(const char *name, unsigned *scope);

/* Whether a group called group_name is what the permission name means
 * (its qualifier left out, then compared as cft_perm_resolve compares). */
bool cft_perm_name_is(const char *group_name, const char *name);

/* Whether every name resolves among groups, each at its qualifier's
 * scope, as cft_spec_build resolves them: found once, not ambiguous. */
bool cft_perm_all_resolve(const cft_perm_group_list *groups, const char *const *names, size_t n);

/* Resource keys.  `id` must be 32 hex characters; NULL means every
 * account / every zone ("*").  Write into buf, which must hold 80 bytes. */
#define CFT_RESOURCE_KEY_SIZE 80
cft_code cft_resource_account(const char *account_id, char *buf, cft_error *err);
cft_code cft_resource_zone(const char *zone_id, char *buf, cft_error *err);

/* The scope bit a resource key belongs to (CFT_SCOPE_*), 0 if unknown. */
unsigned cft_resource_scope(const char *key);
