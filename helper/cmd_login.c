/* cftoken login / logout: the parent token, verified before it is kept. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cache/cache.h"
#include "cache/parent.h"
#include "core/timeutil.h"
#include "mint/token_input.h"

int cmd_login(const cli *c)
{
	_cleanup_client_ cft_client *client = NULL;
	cft_parent parent = { 0 };
	char account[CFT_ID_LEN + 1] = "";
	cft_owner owner;
	cft_verify_result v;
	cft_error err;

	if (c->n_args) {
		fprintf(stderr, "cftoken: login: unexpected argument; the token is read from the "
			"terminal, standard input or --token-file, never the command line\n");
		return EXIT_USAGE;
	}
	cft_error_clear(&err);
	cft_code rc = cft_read_token(c->token_file, stderr,
				     "Cloudflare API token that may create tokens: ", &parent.token,
				     &err);
	cft_client_options o = { .api_url = c->api_url, .ca_file = c->ca_file,
				 .proxy = c->cfg->proxy, .timeout_ms = c->timeout_ms };
	if (!rc)
		rc = cft_client_new(&o, parent.token, &client, &err);
	if (!rc)
		rc = cli_owner(c, client, &owner, account, &err);
	if (!rc)
		rc = cft_token_verify(client, owner, &v, &err);
	if (!rc) {
		snprintf(parent.account, sizeof(parent.account), "%s",
			 owner.account_id ? owner.account_id : "");
		/* Bound to what it was verified with: this API, this CA file. */
		if (cft_ca_path(c->ca_file, parent.ca) != 0)
			rc = cft_fail(&err, CFT_E_INVALID_ARG, "the CA file's path is too long");
	}
	if (!rc)
		rc = cft_parent_store(cli_api_url(c), &parent, &err);
	/* The durable copy, where there is a Secret Service. */
	bool durable = false;
	cft_l2 *l2 = NULL;
	cft_error l2err;
	cft_error_clear(&l2err);
	if (!rc && cli_cache_mode(c) != CACHE_KERNEL && cli_cache_mode(c) != CACHE_NONE &&
	    cli_open_l2(c, &l2, &l2err) == CFT_OK && l2)
		durable = cft_l2_store_parent(l2, cli_api_url(c), &parent, &l2err) == CFT_OK;
	cft_l2_close(l2);
	cft_parent_clear(&parent);
	if (rc) {
		cli_print_error("login", &err);
		return cli_exit_code(rc);
	}
	char eo[CFT_RFC3339_SIZE] = "never";
	if (v.expires_on)
		cft_time_format_rfc3339(v.expires_on, eo);
	printf("logged in: token %s is %s (account %s, expires %s); kept in the kernel "
	       "keyring%s for %s only, with %s%s\n", v.id, v.status,
	       owner.account_id ? owner.account_id : "-", eo,
	       durable ? " and the Secret Service" : "", cli_api_url(c),
	       c->ca_file && *c->ca_file ? "CA file " : "the system's CA certificates",
	       c->ca_file && *c->ca_file ? c->ca_file : "");
	return EXIT_OK;
}

int cmd_logout(const cli *c)
{
	cft_parent parent;
	cft_error err;
	cft_error_clear(&err);
	cft_code found = cli_parent_load(c, &parent, NULL);
	int had = found == CFT_OK || found == CFT_E_PARENT_ORIGIN;
	cft_parent_clear(&parent);
	cft_code rc = cft_parent_drop(cli_api_url(c), &err);
	if (rc) {
		cli_print_error("logout", &err);
		return cli_exit_code(rc);
	}
	/* The tokens minted with it leave both caches too (they expire on
	 * their own at Cloudflare). */
	cft_l2 *l2 = NULL;
	if (cli_cache_mode(c) != CACHE_NONE)
		cli_open_l2(c, &l2, &err);
	int dropped = cft_cache_drop_api(cft_l2_cache(l2), cli_api_url(c));
	if (l2)
		cft_l2_drop_parent(l2, cli_api_url(c), NULL);
	cft_l2_close(l2);
	printf(had ? "logged out: the parent token for %s is forgotten" :
		     "not logged in for %s: nothing to forget", cli_api_url(c));
	printf(dropped ? "; %d cached token%s dropped\n" : "\n", dropped, dropped == 1 ? "" : "s");
	return EXIT_OK;
}
