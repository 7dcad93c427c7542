/* Permission names as people write them, against the real list. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "tap.h"

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
	cft_perm_group_list_clear(&l);
	return tap_done();
}
