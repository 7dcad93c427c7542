/* cftoken create: one token from permission names, zones, a TTL and an IP
 * condition.  Groups are split by scope into one account policy and one zone
 * policy, the shape Cloudflare documents for account-owned tokens. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "policy.h"
#include "timeutil.h"

typedef struct plan {
	const char *account_ids[CLI_MAX_LIST];
	size_t n_account;
	const char *zone_ids[CLI_MAX_LIST];
	size_t n_zone;
} plan;

/* "zone:Logs Write" picks the scope of a name that exists at several. */
static const char *split_qualifier(const char *name, unsigned *scope)
{
	static const struct {
		const char *prefix;
		unsigned scope;
	} q[] = { { "account:", CFT_SCOPE_ACCOUNT }, { "zone:", CFT_SCOPE_ZONE } };
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (strncmp(name, q[i].prefix, strlen(q[i].prefix)) == 0) {
			*scope = q[i].scope;
			return name + strlen(q[i].prefix);
		}
	*scope = CFT_SCOPE_ACCOUNT | CFT_SCOPE_ZONE;
	return name;
}

static cft_code resolve_all(const cli *c, const cft_perm_group_list *groups, plan *p,
			    cft_error *err)
{
	for (size_t i = 0; i < c->n_permissions; i++) {
		unsigned scope;
		const char *name = split_qualifier(c->permissions[i], &scope);
		const cft_perm_group *g = NULL;
		cft_code rc = cft_perm_resolve(groups, name, scope, &g, err);
		if (rc)
			return rc;
		if (g->scopes & CFT_SCOPE_ACCOUNT & scope)
			p->account_ids[p->n_account++] = g->id;
		else
			p->zone_ids[p->n_zone++] = g->id;
	}
	return CFT_OK;
}

static void default_name(char *buf, size_t size)
{
	char host[64] = "localhost", date[16];
	const struct passwd *pw = getpwuid(getuid());
	const char *user = pw ? pw->pw_name : NULL;
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(buf, size, "cftoken %s@%s cli %s", user ? user : "user", host, date);
}

int cmd_create(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	_cleanup_secret_ cft_secret *value = NULL;
	char account[CFT_ID_LEN + 1] = "";
	char account_key[CFT_RESOURCE_KEY_SIZE];
	char zone_keys[CLI_MAX_LIST][CFT_RESOURCE_KEY_SIZE];
	char name[256];
	cft_perm_group_list groups = { 0 };
	cft_token info = { 0 };
	cft_owner owner;
	cft_error err;
	plan p = { 0 };
	cft_code rc;

	if (c->n_permissions == 0) {
		fprintf(stderr, "cftoken: create: name at least one --permission "
			"(cftoken permissions lists them)\n");
		return EXIT_USAGE;
	}
	if (c->n_args) {
		fprintf(stderr, "cftoken: create: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: create: the new token would be printed to a "
			"terminal; pipe it into the program that needs it, or give --force\n");
		return EXIT_USAGE;
	}
	cft_error_clear(&err);
	rc = cli_client(c, "Cloudflare API token (one that may create tokens): ", &client, &err);
	if (!rc)
		rc = cli_owner(c, client, &owner, account, &err);
	if (!rc)
		rc = cft_permission_groups(client, owner, &groups, &err);
	if (!rc)
		rc = resolve_all(c, &groups, &p, &err);
	if (rc)
		goto fail;

	/* Resources: the account for account groups; zones (all of the
	 * account's, or those named) for zone groups, nested under the account
	 * for account-owned tokens. */
	cft_resource zones[CLI_MAX_LIST];
	size_t n_zones = 0;
	if (c->n_zones == 0) {
		rc = cft_resource_zone(NULL, zone_keys[0], &err);
		zones[n_zones++] = (cft_resource){ .key = zone_keys[0] };
	}
	for (size_t i = 0; !rc && i < c->n_zones; i++) {
		const char *z = strcmp(c->zones[i], "*") == 0 ? NULL : c->zones[i];
		rc = cft_resource_zone(z, zone_keys[n_zones], &err);
		zones[n_zones] = (cft_resource){ .key = zone_keys[n_zones] };
		n_zones++;
	}
	if (!rc)
		rc = cft_resource_account(owner.account_id ? owner.account_id : c->account_id,
					  account_key, &err);
	if (rc)
		goto fail;
	cft_resource account_res = { .key = account_key };
	cft_resource nested_zones = { .key = account_key, .children = zones, .n_children = n_zones };
	cft_policy_spec policies[2];
	size_t n_policies = 0;
	if (p.n_account)
		policies[n_policies++] = (cft_policy_spec){
			.group_ids = p.account_ids, .n_groups = p.n_account,
			.resources = &account_res, .n_resources = 1 };
	if (p.n_zone)
		policies[n_policies++] = owner.account_id
			? (cft_policy_spec){ .group_ids = p.zone_ids, .n_groups = p.n_zone,
					     .resources = &nested_zones, .n_resources = 1 }
			: (cft_policy_spec){ .group_ids = p.zone_ids, .n_groups = p.n_zone,
					     .resources = zones, .n_resources = n_zones };

	time_t now = time(NULL);
	if (!c->name)
		default_name(name, sizeof(name));
	cft_token_spec spec = {
		.name = c->name ? c->name : name,
		.policies = policies,
		.n_policies = n_policies,
		.not_before = c->not_before_s ? now + c->not_before_s : 0,
		.expires_on = c->ttl_s ? now + c->not_before_s + c->ttl_s : 0,
		.ip_in = c->ip_in,
		.n_ip_in = c->n_ip_in,
		.ip_not_in = c->ip_not_in,
		.n_ip_not_in = c->n_ip_not_in,
	};
	rc = cft_token_create(client, owner, &spec, &info, &value, &err);
	if (rc)
		goto fail;
	char eo[CFT_RFC3339_SIZE] = "never";
	if (info.expires_on)
		cft_time_format_rfc3339(info.expires_on, eo);
	fprintf(stderr, "created token %s \"%s\", expires %s\n", info.id,
		info.name ? info.name : "", eo);
	cft_token_clear(&info);
	cft_perm_group_list_clear(&groups);
	return cli_print_value(c, value);

fail:
	cli_print_error("create", &err);
	cft_perm_group_list_clear(&groups);
	return cli_exit_code(rc);
}
