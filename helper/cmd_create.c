/* cftoken create: one token from permission names, zones, a TTL and an IP
 * condition (lib/config/tokenspec.c shapes the policies). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config/tokenspec.h"
#include "core/timeutil.h"

int cmd_create(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	_cleanup_secret_ cft_secret *value = NULL;
	char account[CFT_ID_LEN + 1] = "";
	char name[256];
	cft_perm_group_list groups = { 0 };
	cft_built_spec built;
	cft_token info = { 0 };
	cft_owner owner;
	cft_error err;
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
	rc = cli_client(c, "Cloudflare API token (one that may create tokens): ", true, &client,
			&err);
	if (!rc)
		rc = cli_owner(c, client, &owner, account, &err);
	if (!rc)
		rc = cft_permission_groups(client, owner, &groups, &err);
	char zone_ids[CLI_MAX_LIST][CFT_ID_LEN + 1];
	const char *zones[CLI_MAX_LIST];
	if (!rc)
		rc = cft_zone_ids(client, owner.account_id ? owner.account_id : c->account_id,
				  c->zones, c->n_zones, zone_ids, zones, &err);
	if (rc)
		goto fail;

	time_t now = time(NULL);
	cft_token_name(c->name, "cli", name, sizeof(name));
	cft_token_wish wish = {
		.permissions = c->permissions,
		.n_permissions = c->n_permissions,
		.account_id = owner.account_id ? owner.account_id : c->account_id,
		.user_owned = owner.account_id == NULL,
		.zones = zones,
		.n_zones = c->n_zones,
		.name = name,
		.not_before = c->not_before_s ? now + c->not_before_s : 0,
		.expires_on = c->ttl_s ? now + c->not_before_s + c->ttl_s : 0,
		.ip_in = c->ip_in,
		.n_ip_in = c->n_ip_in,
		.ip_not_in = c->ip_not_in,
		.n_ip_not_in = c->n_ip_not_in,
	};
	rc = cft_spec_build(&groups, &wish, &built, &err);
	if (!rc)
		rc = cft_token_create(client, owner, &built.spec, &info, &value, &err);
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
