/* Who owns a profile's token: the services that do not take account-owned
 * tokens yet (lib/config/data/user-token-only.tsv), each permission name in that
 * file checked against the names Cloudflare uses.
 *   test_owner PERMISSION-GROUPS.json OPENAPI.json */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "config/owner.h"

/* Every "name" in the permission group list, and every x-api-token-group
 * in the schema. */
static int known_in(json_t *j, const char *name)
{
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_t *n = json_object_get(j, "name");
		if (json_is_string(n) && !strcmp(json_string_value(n), name))
			return 1;
		json_object_foreach(j, k, v) {
			if (!strcmp(k, "x-api-token-group")) {
				size_t i;
				json_t *g;
				json_array_foreach(v, i, g)
					if (json_is_string(g) && !strcmp(json_string_value(g), name))
						return 1;
			} else if (known_in(v, name)) {
				return 1;
			}
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			if (known_in(v, name))
				return 1;
	}
	return 0;
}

static cft_profile profile(const char *name, char **perms, size_t n, const char *owner)
{
	cft_profile p = { .kind = CFT_SECTION_PROFILE, .name = (char *)name, .permissions = perms,
			  .n_permissions = n, .owner = (char *)owner };
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		printf("Bail out! usage: test_owner PERMISSION-GROUPS.json OPENAPI.json\n");
		return 1;
	}
	json_t *groups = json_load_file(argv[1], 0, NULL), *schema = json_load_file(argv[2], 0, NULL);
	if (!groups || !schema) {
		printf("Bail out! cannot read the contract files\n");
		return 1;
	}
	size_t rows = 0;
	for (const cft_user_token_group *g = cft_user_token_only; g->service; g++, rows++)
		tap_ok(known_in(groups, g->group) || known_in(schema, g->group),
		       "\"%s\" (%s) is a name Cloudflare uses", g->group, g->service);
	tap_ok(rows >= 2, "the table has its rows (%zu)", rows);

	tap_is_str(cft_user_token_service("Page Rules Write"), "Page Rules", "Page Rules Write");
	tap_is_str(cft_user_token_service("zone:page rules edit"), "Page Rules",
		   "zone:page rules edit (qualifier, case, the dashboard's Edit)");
	tap_is_str(cft_user_token_service("  Zone: page rules edit"), "Page Rules",
		   "  Zone: page rules edit (the qualifier read as everywhere else)");
	tap_ok(cft_user_token_service("Zone Read") == NULL, "Zone Read: account tokens do");

	cft_error err;
	bool user = false;
	char why[256];
	char *page_rules[] = { (char *)"Zone Read", (char *)"Page Rules Write" };
	char *zone_read[] = { (char *)"Zone Read" };
	cft_profile p = profile("pr", page_rules, 2, NULL);
	cft_error_clear(&err);
	tap_is_int(cft_profile_owner(&p, &user, why, sizeof(why), &err), CFT_OK, "auto");
	tap_ok(user, "a profile reaching Page Rules gets a user-owned token");
	tap_ok(strstr(why, "Page Rules") && strstr(why, "does not accept account-owned"),
	       "and why says so: %s", why);
	p = profile("pr", page_rules, 2, "account");
	cft_error_clear(&err);
	tap_is_int(cft_profile_owner(&p, &user, why, sizeof(why), &err), CFT_E_INVALID_ARG,
		   "owner = account with Page Rules fails");
	tap_ok(strstr(err.detail, "owner = account") && strstr(err.detail, "Page Rules"),
	       "explaining why: %s", err.detail);
	p = profile("zr", zone_read, 1, NULL);
	tap_is_int(cft_profile_owner(&p, &user, why, sizeof(why), &err), CFT_OK, "Zone Read");
	tap_ok(!user, "is account-owned");
	p = profile("zr", zone_read, 1, "user");
	tap_is_int(cft_profile_owner(&p, &user, why, sizeof(why), &err), CFT_OK, "owner = user");
	tap_ok(user, "forces a user-owned token");

	/* The owner a deletion goes to (a logout's revoke, git's erase). */
	static const char acct[] = "0123456789abcdef0123456789abcdef";
	p = profile("pr", page_rules, 2, NULL);
	tap_ok(cft_profile_token_owner(&p, acct).account_id == NULL,
	       "a Page Rules token is deleted through /user/tokens");
	p = profile("zr", zone_read, 1, "user");
	tap_ok(cft_profile_token_owner(&p, acct).account_id == NULL, "so is an owner = user one");
	p = profile("zr", zone_read, 1, NULL);
	tap_ok(cft_profile_token_owner(&p, acct).account_id == acct,
	       "a Zone Read token through the account");
	p = profile("pr", page_rules, 2, "account");
	tap_ok(cft_profile_token_owner(&p, acct).account_id == acct,
	       "a refused profile made no user token: the account");
	json_decref(groups);
	json_decref(schema);
	return tap_done();
}
