/* What one permission-group cache key holds (group_cache.h): no secret,
 * only some of the API's groups, with when they were fetched.
 *
 *   cftoken-groups 1\n
 *   api=<URL>\n              the API they were fetched from, normalised
 *                            (fingerprint.h): a load compares it
 *   fetched=<unix seconds>\n
 *   <32 hex id> <scopes> <name>\n   one line a group; scopes: the
 *                            CFT_SCOPE_* bits in decimal
 *
 * Text, so a person can read it with keyctl; strict and bounded, so a
 * damaged key is a miss, never a wrong group or a crash. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "api/api.h"
#include "core/error.h"
#include "core/fingerprint.h"

/* The most a record may hold.  The kernel counts every key against the
 * user's quota (20000 bytes by default for a user, token keys included),
 * and the API lists hundreds of groups: a record keeps a few. */
#define CFT_GROUP_RECORD_MAX 3072
#define CFT_GROUP_RECORD_MAX_GROUPS 64
#define CFT_GROUP_NAME_MAX 127

typedef struct cft_group_record {
	char api[CFT_API_URL_MAX + 1];
	time_t fetched;
	cft_perm_group_list groups;
} cft_group_record;

/* Writes the record of groups (n of them) fetched from api (normalised)
 * at `fetched` into out (CFT_GROUP_RECORD_MAX + 1 bytes), *len its
 * length.  CFT_E_INVALID_ARG when it would not fit, or a group could not
 * be read back as it is (an id that is not one, a name too long or with
 * a control character). */
cft_code cft_group_record_format(const char *api, time_t fetched,
				 const cft_perm_group *const *groups, size_t n,
				 char out[CFT_GROUP_RECORD_MAX + 1], size_t *len, cft_error *err);

/* Parses; on any deviation returns CFT_E_MALFORMED and leaves r empty. */
cft_code cft_group_record_parse(const char *buf, size_t len, cft_group_record *r,
				cft_error *err);

void cft_group_record_clear(cft_group_record *r);
