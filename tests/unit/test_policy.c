/* Permission names as people write them, against the real list. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "config/config.h"
#include "config/policy.h"
#include "config/profile_spec.h"

/* The real permission groups (tests/emulator/data/permission-groups.json),
 * loaded the way the API answers them. */
static void load_groups(const char *path, cft_perm_group_list *l)
{
	json_error_t e;
	json_t *a = json_load_file(path, 0, &e), *g;
	size_t i, k;
	if (!a) {
		printf("Bail out! cannot read %s: %s\n", path, e.text);
		exit(1);
	}
	l->items = calloc(json_array_size(a), sizeof(*l->items));
	l->n = 0;
	json_array_foreach(a, i, g) {
		cft_perm_group *pg = &l->items[l->n++];
		pg->id = strdup(json_string_value(json_object_get(g, "id")));
		pg->name = strdup(json_string_value(json_object_get(g, "name")));
		json_t *s;
		json_array_foreach(json_object_get(g, "scopes"), k, s) {
			const char *v = json_string_value(s);
			pg->scopes |= strcmp(v, "com.cloudflare.api.account") == 0 ? CFT_SCOPE_ACCOUNT
				    : strcmp(v, "com.cloudflare.api.account.zone") == 0 ? CFT_SCOPE_ZONE
				    : strcmp(v, "com.cloudflare.api.user") == 0 ? CFT_SCOPE_USER
				    : CFT_SCOPE_R2_BUCKET;
		}
	}
	json_decref(a);
}

static const char *id_of(const cft_perm_group_list *l, const char *name, unsigned scope)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].name, name) == 0 && (l->items[i].scopes & scope))
			return l->items[i].id;
	return NULL;
}

/* The ceiling on a child of the parent: no group that creates tokens, no
 * life past max_ttl, unless the configuration lifts it. */
static cft_code ceiling(const cft_perm_group_list *l, const char *perm, bool user_owned,
			int64_t life, const cft_config *cfg, cft_error *err)
{
	const char *perms[2] = { "Zone Read", perm };
	cft_profile alice = { .kind = CFT_SECTION_USER, .name = (char *)"alice" };
	cft_token_wish w = { .permissions = perms, .n_permissions = perm ? 2 : 1,
			     .account_id = "0123456789abcdef0123456789abcdef",
			     .user_owned = user_owned, .name = "t", .expires_on = 1000000 + life };
	cft_built_spec b;
	cft_error_clear(err);
	cft_code rc = cft_spec_build(l, &w, &b, err);
	return rc ? rc : cft_profile_ceiling(cfg, &alice, l, &b, 1000000, err);
}

static void test_ceiling(const cft_perm_group_list *l)
{
	cft_config cfg = { 0 };
	cft_error err;
	tap_is_int(ceiling(l, NULL, false, 8 * 3600, &cfg, &err), CFT_OK,
		   "ceiling: an 8-hour Zone Read token is within it");
	tap_is_int(ceiling(l, "Account API Tokens Write", false, 3600, &cfg, &err),
		   CFT_E_INVALID_ARG, "ceiling: \"Account API Tokens Write\" is refused");
	tap_contains(err.detail, "[user alice] asks for \"Account API Tokens Write\", which creates "
		     "tokens", "  naming the section and the group");
	tap_contains(err.detail, "allow_token_minting = true", "  and what allows it");
	tap_is_int(ceiling(l, "account: account api tokens write", false, 3600, &cfg, &err),
		   CFT_E_INVALID_ARG, "ceiling: also as \"account: account api tokens write\"");
	tap_ok(ceiling(l, "API Tokens Write", true, 3600, &cfg, &err) != CFT_OK,
	       "ceiling: \"API Tokens Write\" (of user-owned tokens) is refused too (%s)",
	       err.detail);
	tap_is_int(ceiling(l, "Account API Tokens Read", false, 3600, &cfg, &err), CFT_OK,
		   "ceiling: reading tokens is not making them");
	tap_is_int(ceiling(l, NULL, false, 7 * 86400 + 1, &cfg, &err), CFT_E_INVALID_ARG,
		   "ceiling: a second past 7 days is refused");
	tap_contains(err.detail, "lives 604801s, longer than max_ttl (7d, the default)",
		     "  saying how long, and the limit");
	tap_is_int(ceiling(l, NULL, false, 7 * 86400, &cfg, &err), CFT_OK,
		   "ceiling: 7 days is within it");
	cfg.allow_token_minting = true;
	cfg.max_ttl_s = 365 * 86400;
	tap_is_int(ceiling(l, "Account API Tokens Write", false, 365 * 86400, &cfg, &err), CFT_OK,
		   "ceiling: allow_token_minting and max_ttl = 365d lift it");
	tap_is_int(ceiling(l, NULL, false, 366 * 86400, &cfg, &err), CFT_E_INVALID_ARG,
		   "ceiling: but not past the max_ttl given");
	tap_contains(err.detail, "longer than max_ttl (365d)", "  naming it");
}

int main(int argc, char **argv)
{
	cft_perm_group_list l;
	const cft_perm_group *g = NULL;
	cft_error err;
	const unsigned any = 0;

	if (argc < 2) {
		printf("Bail out! usage: test_policy permission-groups.json\n");
		return 1;
	}
	load_groups(argv[1], &l);
	tap_ok(l.n > 80, "the real list has %zu groups", l.n);

	tap_is_int(cft_perm_resolve(&l, "Workers Scripts Write", any, &g, &err), CFT_OK,
		   "the API's name resolves");
	tap_is_str(g->id, id_of(&l, "Workers Scripts Write", ~0u), "to its id");
	tap_is_int(cft_perm_resolve(&l, "  workers   SCRIPTS write ", any, &g, &err), CFT_OK,
		   "case and spacing do not matter");
	tap_is_int(cft_perm_resolve(&l, "Workers Routes Edit", any, &g, &err), CFT_OK,
		   "the dashboard's \"Edit\" resolves");
	tap_is_str(g->name, "Workers Routes Write", "to the API's \"Write\" group");
	tap_is_int(cft_perm_resolve(&l, "Workers R2 Storage Write", any, &g, &err), CFT_OK,
		   "Workers R2 Storage Write resolves");
	tap_is_int(cft_perm_resolve(&l, "Zone Read", CFT_SCOPE_ZONE, &g, &err), CFT_OK,
		   "Zone Read resolves at zone scope");

	cft_error_clear(&err);
	tap_is_int(cft_perm_resolve(&l, "Logs Write", any, &g, &err), CFT_E_AMBIGUOUS_PERMISSION,
		   "\"Logs Write\" with no resource is ambiguous, not the last one");
	tap_contains(err.detail, "account and zone", "the message names both scopes");
	tap_is_int(cft_perm_resolve(&l, "Logs Write", CFT_SCOPE_ZONE, &g, &err), CFT_OK,
		   "with a zone resource it resolves");
	tap_is_str(g->id, id_of(&l, "Logs Write", CFT_SCOPE_ZONE), "to the zone group");
	tap_is_int(cft_perm_resolve(&l, "Logs Write", CFT_SCOPE_ACCOUNT, &g, &err), CFT_OK,
		   "with an account resource it resolves");
	tap_is_str(g->id, id_of(&l, "Logs Write", CFT_SCOPE_ACCOUNT), "to the account group");
	cft_error_clear(&err);
	tap_is_int(cft_perm_resolve(&l, "Zone Read", CFT_SCOPE_ACCOUNT, &g, &err),
		   CFT_E_UNKNOWN_PERMISSION, "a zone group with an account resource is refused");
	tap_contains(err.detail, "not for account", "saying why");

	cft_error_clear(&err);
	tap_is_int(cft_perm_resolve(&l, "Workers Script Write", any, &g, &err),
		   CFT_E_UNKNOWN_PERMISSION, "a misspelt name is unknown");
	tap_contains(err.detail, "Workers Scripts Write", "and the closest real name is offered");
	cft_error_clear(&err);
	tap_is_int(cft_perm_resolve(&l, "Tunnel", any, &g, &err), CFT_E_UNKNOWN_PERMISSION,
		   "a fragment is unknown");
	tap_contains(err.detail, "Cloudflare Tunnel", "and names containing it are offered");

	char key[CFT_RESOURCE_KEY_SIZE];
	tap_is_int(cft_resource_account("0123456789abcdef0123456789abcdef", key, &err), CFT_OK,
		   "an account key");
	tap_is_str(key, "com.cloudflare.api.account.0123456789abcdef0123456789abcdef", "is built");
	cft_resource_zone(NULL, key, &err);
	tap_is_str(key, "com.cloudflare.api.account.zone.*", "the all-zones wildcard");
	tap_is_int(cft_resource_zone("example.com", key, &err), CFT_E_INVALID_ARG,
		   "a zone given by name is not an id");
	tap_is_int(cft_resource_scope("com.cloudflare.api.account.zone.*"), CFT_SCOPE_ZONE,
		   "a zone key has zone scope");
	tap_is_int(cft_resource_scope("com.cloudflare.api.account.*"), CFT_SCOPE_ACCOUNT,
		   "an account key has account scope");
	test_ceiling(&l);
	cft_perm_group_list_clear(&l);
	return tap_done();
}
