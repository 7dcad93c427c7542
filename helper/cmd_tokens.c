/* Commands that look at or remove tokens: verify, list, revoke, roll,
 * accounts, permissions. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "declared_ops.h"
#include "cache/cache.h"
#include "cache/l1.h"
#include "config/group_cache.h"
#include "core/fingerprint.h"
#include "core/timeutil.h"

/* Connects with the user's token and finds the owner: the start of every
 * command here.  Prints the error itself. */
static int open_session(const cli *c, const char *what, cft_client **client,
			cft_owner *owner, char account[CFT_ID_LEN + 1])
{
	cft_error err;
	cft_error_clear(&err);
	if (owner)
		*owner = CFT_USER_OWNED;  /* set on every path, failures too */
	/* verify checks the token it is given; the others act with the parent. */
	cft_code rc = cli_client(c, "Cloudflare API token: ", strcmp(what, "verify") != 0, client,
				 &err);
	if (!rc && owner)
		rc = cli_owner(c, *client, owner, account, &err);
	if (rc) {
		cli_print_error(what, &err);
		*client = cft_client_free(*client);
		return cli_exit_code(rc);
	}
	return EXIT_OK;
}

static void print_time(const char *label, time_t t)
{
	char buf[CFT_RFC3339_SIZE];
	if (!t)
		return;
	cft_time_format_rfc3339(t, buf);
	printf("%s%s", label, buf);
}

int cmd_verify(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	char account[CFT_ID_LEN + 1] = "";
	cft_owner owner;
	cft_verify_result v;
	cft_error err;

	int ex = open_session(c, "verify", &client, &owner, account);
	if (ex)
		return ex;
	cft_error_clear(&err);
	cft_code rc = cft_token_verify(client, owner, &v, &err);
	if (rc) {
		cli_print_error("verify", &err);
		return cli_exit_code(rc);
	}
	if (c->json) {
		char nb[CFT_RFC3339_SIZE] = "", eo[CFT_RFC3339_SIZE] = "";
		if (v.not_before)
			cft_time_format_rfc3339(v.not_before, nb);
		if (v.expires_on)
			cft_time_format_rfc3339(v.expires_on, eo);
		json_auto_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "id", v.id, "status",
					   v.status, "account_id", owner.account_id,
					   "not_before", nb[0] ? nb : NULL,
					   "expires_on", eo[0] ? eo : NULL);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		return EXIT_OK;
	}
	printf("token %s is %s", v.id, v.status);
	if (owner.account_id)
		printf(" (account %s)", owner.account_id);
	print_time(", not before ", v.not_before);
	print_time(", expires ", v.expires_on);
	printf("\n");
	return EXIT_OK;
}

static json_t *token_json(const cft_token *t)
{
	char buf[CFT_RFC3339_SIZE];
	json_t *o = json_pack("{s:s, s:s?, s:s?}", "id", t->id, "name", t->name,
			      "status", t->status);
	const struct {
		const char *key;
		time_t t;
	} times[] = {
		{ "issued_on", t->issued_on }, { "modified_on", t->modified_on },
		{ "last_used_on", t->last_used_on }, { "not_before", t->not_before },
		{ "expires_on", t->expires_on },
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		if (!times[i].t)
			continue;
		cft_time_format_rfc3339(times[i].t, buf);
		json_object_set_new(o, times[i].key, json_string(buf));
	}
	json_object_set_new(o, "policies", json_loads(t->policies_json, JSON_DECODE_ANY, NULL));
	if (t->condition_json)
		json_object_set_new(o, "condition", json_loads(t->condition_json, 0, NULL));
	return o;
}

/* The ids of the tokens this user's kernel keyring holds for this API
 * (another API's, a test emulator's say, are not in its list), however
 * many there are. */
typedef struct cached_ids {
	const char *api_url;
	char (*ids)[CFT_ID_LEN + 1];
	size_t n, cap;
} cached_ids;

static void note_cached(const char *desc, cft_l1_record *r, void *data)
{
	cached_ids *c = data;
	(void)desc;
	if (!cft_api_url_is(r->api, c->api_url))
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		void *ids = realloc(c->ids, cap * sizeof(*c->ids));
		if (!ids)
			return;  /* the mark is a hint: fewer marks, not a failure */
		c->ids = ids;
		c->cap = cap;
	}
	snprintf(c->ids[c->n++], sizeof(c->ids[0]), "%s", r->id);
}

static bool is_cached(const cached_ids *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->ids[i], id) == 0)
			return true;
	return false;
}

/* Minted by cftoken: named as its default template names tokens, or cached
 * here. */
static bool is_cftokens(const cft_token *t, const cached_ids *cached)
{
	return (t->name && strncmp(t->name, "cftoken ", 8) == 0) || is_cached(cached, t->id);
}

int cmd_list(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	char account[CFT_ID_LEN + 1] = "";
	cft_owner owner;
	cft_token_list list;
	cached_ids cached = { .api_url = cli_api_url(c) };
	cft_error err;

	int ex = open_session(c, "list", &client, &owner, account);
	if (ex)
		return ex;
	cft_error_clear(&err);
	cft_code rc = cft_token_list_all(client, owner, &list, &err);
	if (rc) {
		cli_print_error("list", &err);
		return cli_exit_code(rc);
	}
	cft_l1_each_id(NULL, note_cached, &cached);
	size_t shown = 0, here = 0;
	json_auto_t *a = c->json ? json_array() : NULL;
	if (!c->json)
		printf("%-32s  %-7s  %-8s  %-20s  %-20s  %-6s  %s\n", "ID", "OWNER", "STATUS",
		       "EXPIRES", "LAST USED", "CACHED", "NAME");
	for (size_t i = 0; i < list.n; i++) {
		const cft_token *t = &list.items[i];
		if (!c->all && !is_cftokens(t, &cached))
			continue;
		shown++;
		bool cached_here = is_cached(&cached, t->id);
		here += cached_here;
		if (a) {
			json_t *o = token_json(t);
			json_object_set_new(o, "cached_here", json_boolean(cached_here));
			json_object_set_new(o, "owner", json_string(owner.account_id ? "account" : "user"));
			json_array_append_new(a, o);
			continue;
		}
		char eo[CFT_RFC3339_SIZE] = "never", lu[CFT_RFC3339_SIZE] = "never";
		if (t->expires_on)
			cft_time_format_rfc3339(t->expires_on, eo);
		if (t->last_used_on)
			cft_time_format_rfc3339(t->last_used_on, lu);
		printf("%-32s  %-7s  %-8s  %-20s  %-20s  %-6s  %s\n", t->id,
		       owner.account_id ? "account" : "user", t->status ? t->status : "?", eo, lu,
		       cached_here ? "here" : "", t->name ? t->name : "");
	}
	if (a) {
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	fprintf(stderr, "%zu token%s %s(%zu cached here); the %s holds %zu of at most %d\n", shown,
		shown == 1 ? "" : "s", c->all ? "" : "minted by cftoken ", here,
		owner.account_id ? "account" : "user", list.n, owner.account_id ? 500 : 50);
	free(cached.ids);
	cft_token_list_clear(&list);
	return EXIT_OK;
}

int cmd_revoke(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	char account[CFT_ID_LEN + 1] = "";
	cft_owner owner;
	int worst = EXIT_OK;

	if (c->n_args == 0) {
		fprintf(stderr, "cftoken: revoke: name at least one token id (see cftoken list)\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < c->n_args; i++)
		if (!cft_is_id(c->args[i])) {
			fprintf(stderr, "cftoken: revoke: \"%.64s\" is not a token id "
				"(32 hexadecimal characters)\n", c->args[i]);
			return EXIT_USAGE;
		}
	int ex = open_session(c, "revoke", &client, &owner, account);
	if (ex)
		return ex;
	cft_l2 *l2 = NULL;
	cft_error l2err;
	cft_error_clear(&l2err);
	if (cli_cache_mode(c) != CACHE_NONE)
		cli_open_l2(c, &l2, &l2err);
	for (int i = 0; i < c->n_args; i++) {
		cft_error err;
		cft_error_clear(&err);
		cft_code rc = cft_token_delete(client, owner, c->args[i], &err);
		/* Gone on the API (now, or before): no cache may serve it. */
		if (rc == CFT_OK || rc == CFT_E_NOT_FOUND)
			cft_cache_drop_id(cft_l2_cache(l2), c->args[i]);
		if (rc) {
			char what[64];
			snprintf(what, sizeof(what), "revoke %s", c->args[i]);
			cli_print_error(what, &err);
			if (worst == EXIT_OK)
				worst = cli_exit_code(rc);
			continue;
		}
		printf("revoked %s\n", c->args[i]);
	}
	cft_l2_close(l2);
	return worst;
}

/* A rolled token's new value replaces the old one wherever it is cached,
 * with the same expiry: no cache serves a value cftoken replaced. */
typedef struct roll_ctx {
	const cft_secret *value;
	cft_l2 *l2;
} roll_ctx;

static void replace_cached(const char *desc, cft_l1_record *r, void *data)
{
	roll_ctx *rc = data;
	cft_secret *old = r->token;
	r->token = (cft_secret *)rc->value;
	cft_l1_store_desc(NULL, desc, r, NULL);
	cft_cache_store(cft_l2_cache(rc->l2), CFT_CACHE_L2, NULL, r, r->api, NULL);
	r->token = old;
}

int cmd_roll(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	_cleanup_secret_ cft_secret *value = NULL;
	char account[CFT_ID_LEN + 1] = "";
	cft_owner owner;
	cft_error err;

	if (c->n_args == 0 && c->profile)
		return cli_roll_declared(c);
	if (c->n_args != 1 || !cft_is_id(c->args[0])) {
		fprintf(stderr, "cftoken: roll: name one token id (see cftoken list), or "
			"--profile P for its declared token\n");
		return EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: roll: the new value would go to a terminal; "
			"pipe it into the program that needs it, or give --force\n");
		return EXIT_USAGE;
	}
	int ex = open_session(c, "roll", &client, &owner, account);
	if (ex)
		return ex;
	cft_error_clear(&err);
	cft_code rc = cft_token_roll(client, owner, c->args[0], &value, &err);
	if (rc) {
		cli_print_error("roll", &err);
		return cli_exit_code(rc);
	}
	roll_ctx ctx = { .value = value };
	cft_error l2err;
	if (cli_cache_mode(c) != CACHE_NONE)
		cli_open_l2(c, &ctx.l2, &l2err);
	int cached = cft_l1_each_id(c->args[0], replace_cached, &ctx);
	if (!cached)  /* no record to renew it from */
		cft_cache_drop_id(cft_l2_cache(ctx.l2), c->args[0]);
	cft_l2_close(ctx.l2);
	fprintf(stderr, "rolled %s: the old value no longer works%s\n", c->args[0],
		cached ? "; the cached copy holds the new one" : "");
	return cli_print_value(c, value);
}

int cmd_accounts(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	cft_account_list list;
	cft_error err;

	int ex = open_session(c, "accounts", &client, NULL, NULL);
	if (ex)
		return ex;
	cft_error_clear(&err);
	cft_code rc = cft_accounts_list(client, &list, &err);
	if (rc) {
		cli_print_error("accounts", &err);
		return cli_exit_code(rc);
	}
	for (size_t i = 0; i < list.n; i++)
		printf("%s  %s\n", list.items[i].id, list.items[i].name);
	cft_account_list_clear(&list);
	return EXIT_OK;
}

int cmd_permissions(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	char account[CFT_ID_LEN + 1] = "";
	cft_owner owner;
	cft_perm_group_list list;
	cft_error err;

	int ex = open_session(c, "permissions", &client, &owner, account);
	if (ex)
		return ex;
	cft_error_clear(&err);
	cft_code rc = cft_permission_groups(client, owner, &list, &err);
	if (rc) {
		cli_print_error("permissions", &err);
		return cli_exit_code(rc);
	}
	for (size_t i = 0; i < list.n; i++) {
		const cft_perm_group *g = &list.items[i];
		printf("%s  %-8s  %s\n", g->id,
		       g->scopes & CFT_SCOPE_ZONE ? "zone" :
		       g->scopes & CFT_SCOPE_ACCOUNT ? "account" :
		       g->scopes & CFT_SCOPE_USER ? "user" :
		       g->scopes & CFT_SCOPE_R2_BUCKET ? "bucket" : "other",
		       g->name);
	}
	/* The groups mints keep (config/group_cache.h) are refreshed from
	 * this list, and their age said, beside the list. */
	const char *api = cft_client_api_url(client);
	int64_t ttl = cft_group_cache_ttl(c->cfg);
	char state[160];
	cft_group_cache_store(api, owner, ttl, &list, NULL, 0, NULL);
	cft_group_cache_describe(api, owner, ttl, time(NULL), state, sizeof(state));
	fprintf(stderr, "cftoken: permission groups: %s\n", state);
	cft_perm_group_list_clear(&list);
	return EXIT_OK;
}
