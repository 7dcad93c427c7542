#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/parent.h"
#include "cache/session_bus.h"
#include "config/config.h"
#include "mint/token_input.h"
#include "mint/uncached.h"

int cli_exit_code(cft_code code)
{
	switch (code) {
	case CFT_OK:
		return EXIT_OK;
	case CFT_E_INVALID_ARG:
	case CFT_E_TOKEN_FORMAT:
	case CFT_E_GLOBAL_API_KEY:
	case CFT_E_UNKNOWN_PERMISSION:
	case CFT_E_AMBIGUOUS_PERMISSION:
		return EXIT_USAGE;
	case CFT_E_AUTH_HEADER:
	case CFT_E_AUTH_INVALID:
	case CFT_E_TOKEN_EXPIRED:
	case CFT_E_FORBIDDEN:
	case CFT_E_CANNOT_CREATE:
	case CFT_E_IP_RESTRICTED:
	case CFT_E_ACCOUNT_TOKEN_REFUSED:
	case CFT_E_NO_PARENT:
	case CFT_E_PARENT_ORIGIN:
	case CFT_E_RENEWAL:
		return EXIT_AUTH;
	case CFT_E_NOT_FOUND:
		return EXIT_NOT_FOUND;
	default:
		return EXIT_API;
	}
}

void cli_print_error(const char *what, const cft_error *err)
{
	char msg[1536];
	cft_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "cftoken: %s: %s\n", what, msg);
}

int cli_fail(const char *what, cft_code rc, const cft_error *err)
{
	cli_print_error(what, err);
	return cli_exit_code(rc);
}

/* The account `cftoken login` recorded with the parent token, when
 * cli_client used that token (for cli_owner). */
static char login_account[CFT_ID_LEN + 1];

/* The token that authenticates a management command: --token-file; else,
 * when the parent may stand in, parent_token_file or the one `cftoken
 * login` keeps; else standard input or the terminal. */
static cft_code command_token(const cli *c, const char *prompt, bool parent_ok,
			      cft_secret **token, cft_error *err)
{
	if (c->token_file || !parent_ok)
		return cft_read_token(c->token_file, stderr, prompt, token, err);
	cft_parent parent;
	cft_code rc = cli_parent(c, true, &parent, err);
	if (rc == CFT_OK) {
		*token = parent.token;
		snprintf(login_account, sizeof(login_account), "%s", parent.account);
		return CFT_OK;
	}
	/* No parent for this API: the person may type a token.  One that
	 * exists but was verified for another API or CA is refused. */
	if (rc != CFT_E_NO_PARENT)
		return rc;
	cft_error_clear(err);
	return cft_read_token(NULL, stderr, prompt, token, err);
}

cft_code cli_client(const cli *c, const char *prompt, bool parent_ok, cft_client **out,
		    cft_error *err)
{
	_cleanup_secret_ cft_secret *token = NULL;
	cft_code rc = command_token(c, prompt, parent_ok, &token, err);
	if (rc)
		return rc;
	cft_client_options opts = {
		.api_url = c->api_url,
		.ca_file = c->ca_file,
		.proxy = c->cfg->proxy,
		.timeout_ms = c->timeout_ms,
	};
	return cft_client_new(&opts, token, out, err);
}

cft_code cli_owner(const cli *c, cft_client *client, cft_owner *owner,
		   char account_buf[CFT_ID_LEN + 1], cft_error *err)
{
	if (c->user_owned) {
		*owner = CFT_USER_OWNED;
		return CFT_OK;
	}
	const char *known = c->account_id ? c->account_id
			    : login_account[0] ? login_account : NULL;
	if (known) {
		if (!cft_is_id(known))
			return cft_fail(err, CFT_E_INVALID_ARG,
					"account id \"%.64s\" is not 32 hexadecimal characters", known);
		*owner = CFT_ACCOUNT_OWNED(known);
		return CFT_OK;
	}
	cft_account_list accounts;
	cft_code rc = cft_accounts_list(client, &accounts, err);
	if (rc == CFT_E_ACCOUNT_TOKEN_REFUSED)
		return cft_fail(err, rc, "cannot look up the account with this token: "
				"give --account ID or set CLOUDFLARE_ACCOUNT_ID");
	if (rc)
		return rc;
	if (accounts.n != 1) {
		cft_fail(err, CFT_E_INVALID_ARG, "the token can see %zu accounts; "
			 "choose one with --account ID%s", accounts.n,
			 accounts.n ? " (cftoken accounts lists them)" : "");
		cft_account_list_clear(&accounts);
		return CFT_E_INVALID_ARG;
	}
	snprintf(account_buf, CFT_ID_LEN + 1, "%s", accounts.items[0].id);
	cft_account_list_clear(&accounts);
	if (!cft_is_id(account_buf))
		return cft_fail(err, CFT_E_MALFORMED, "the API gave an account id of wrong shape");
	*owner = CFT_ACCOUNT_OWNED(account_buf);
	return CFT_OK;
}

/* How long the Secret Service may take to answer before cftoken carries on
 * with the kernel keyring alone. */
#define L2_TIMEOUT_MS 1500

/* CFTOKEN_CACHE, else cache = in [defaults], else auto. */
cache_mode cli_cache_mode(const cli *c)
{
	if (c->learning)
		return CACHE_NONE;
	const char *m = secure_getenv("CFTOKEN_CACHE");
	if (!m || !*m)
		m = c->cfg->cache;
	if (!m)
		return CACHE_AUTO;
	if (!strcmp(m, "secret-service"))
		return CACHE_SECRET_SERVICE;
	if (!strcmp(m, "kernel"))
		return CACHE_KERNEL;
	if (!strcmp(m, "none"))
		return CACHE_NONE;
	return CACHE_AUTO;
}

void cli_export_session_bus(void)
{
	char bus[CFT_SESSION_BUS_ADDRESS_MAX];
	if (cft_session_bus_address(bus, sizeof(bus)))
		setenv("DBUS_SESSION_BUS_ADDRESS", bus, 1);
}

/* The Secret Service when the mode wants it: required for secret-service,
 * tried for auto (the kernel keyring alone otherwise). */
bool cli_wants_l2(const cli *c)
{
	cache_mode mode = cli_cache_mode(c);
	return mode == CACHE_AUTO || mode == CACHE_SECRET_SERVICE;
}

cft_code cli_open_l2(const cli *c, cft_l2 **l2, cft_error *err)
{
	cache_mode mode = cli_cache_mode(c);
	*l2 = NULL;
	if (!cli_wants_l2(c))
		return CFT_OK;
	cft_error l2err;
	cft_error_clear(&l2err);
	cli_export_session_bus();
	cft_code rc = cft_l2_open(L2_TIMEOUT_MS, l2, &l2err);
	if (rc && mode == CACHE_SECRET_SERVICE) {
		*err = l2err;
		return rc;
	}
	return CFT_OK;
}

const char *cli_api_url(const cli *c)
{
	return c->api_url && *c->api_url ? c->api_url : CFT_DEFAULT_API_URL;
}

/* Whether a and b (as the config or the command line give them) are one
 * API. */
static bool same_api(const char *a, const char *b)
{
	char normal[CFT_API_URL_MAX + 1];
	return cft_api_url_normal(a, normal) == 0 && cft_api_url_is(normal, b);
}

static cft_code parent_from_caches(const cli *c, cft_parent *out, cft_error *err)
{
	cft_code rc = cft_parent_load(cli_api_url(c), c->ca_file, out, err);
	cache_mode mode = cli_cache_mode(c);
	if (rc != CFT_E_NO_PARENT || mode == CACHE_KERNEL || mode == CACHE_NONE)
		return rc;
	/* The kernel's copy is gone (a reboot, three idle days): the Secret
	 * Service keeps the durable one; refill the kernel's from it. */
	cft_l2 *l2 = NULL;
	cft_error l2err;
	cft_error_clear(&l2err);
	if (cli_open_l2(c, &l2, &l2err) == CFT_OK && l2 &&
	    cft_l2_lookup_parent(l2, cli_api_url(c), out, NULL) == CFT_OK) {
		rc = cft_parent_check_ca(out, c->ca_file, err);
		if (rc)
			cft_parent_clear(out);
		else
			cft_parent_store(cli_api_url(c), out, NULL);
	}
	cft_l2_close(l2);
	return rc;
}

cft_code cli_parent_load(const cli *c, cft_parent *out, cft_error *err)
{
	cft_code rc = parent_from_caches(c, out, err);
	/* The API the login was likely for: the configuration's, when a
	 * variable or an option names another; else the default one. */
	const char *usual = c->api_url_from && c->cfg->api_url ? c->cfg->api_url
							       : CFT_DEFAULT_API_URL;
	if (rc != CFT_E_NO_PARENT || same_api(usual, cli_api_url(c)))
		return rc;
	/* Steered away from the API the login was for: say so, and how to
	 * log in for this one. */
	cft_parent there;
	cft_code found = cft_parent_load(usual, NULL, &there, NULL);
	cft_parent_clear(&there);
	if (found == CFT_OK || found == CFT_E_PARENT_ORIGIN)
		return cft_fail(err, CFT_E_NO_PARENT,
				"the parent token was verified for %.150s, and %s names %.150s; run "
				"`cftoken login` with CLOUDFLARE_API_BASE_URL=%.150s to use that API",
				usual, c->api_url_from ? c->api_url_from : "api_url in the configuration",
				cli_api_url(c), cli_api_url(c));
	return rc;
}

/* parent_token_file is for the API URL and CA file of the config file
 * naming it (the default API and no CA file when that file sets none). */
static cft_code parent_file_bound(const cli *c, cft_error *err)
{
	const cft_config *cfg = c->cfg;
	const char *api = cfg->parent_api_url ? cfg->parent_api_url : CFT_DEFAULT_API_URL;
	char bound_ca[CFT_CA_PATH_MAX], asked_ca[CFT_CA_PATH_MAX];
	if (!same_api(api, cli_api_url(c)))
		return cft_fail(err, CFT_E_PARENT_ORIGIN,
				"parent_token_file (named in %.200s) is for %.150s, and %s names "
				"%.150s: refused; run `cftoken login` with CLOUDFLARE_API_BASE_URL=%.150s "
				"to use that API",
				cfg->parent_config, api, c->api_url_from ? c->api_url_from : "the default",
				cli_api_url(c), cli_api_url(c));
	if (cft_ca_path(cfg->parent_ca_file, bound_ca) != 0 ||
	    cft_ca_path(c->ca_file, asked_ca) != 0 || strcmp(bound_ca, asked_ca) != 0)
		return cft_fail(err, CFT_E_PARENT_ORIGIN,
				"parent_token_file (named in %.200s) goes only with %s%.200s, and %s "
				"names %.200s: refused",
				cfg->parent_config, bound_ca[0] ? "CA file " : "the system's CAs alone",
				bound_ca, c->ca_file_from ? c->ca_file_from : "the default",
				c->ca_file && *c->ca_file ? c->ca_file : "none");
	return CFT_OK;
}

cft_code cli_parent(const cli *c, bool use_file, cft_parent *out, cft_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!use_file || !c->cfg->parent_token_file)
		return cli_parent_load(c, out, err);
	cft_code rc = parent_file_bound(c, err);
	if (!rc)
		rc = cft_read_token(c->cfg->parent_token_file, stderr, "parent token: ", &out->token,
				    err);
	if (!rc)
		cft_api_url_normal(cli_api_url(c), out->api);
	return rc;
}

void cli_explain_cache(const cli *c, bool l2_open)
{
	const char *env = secure_getenv("CFTOKEN_CACHE");
	const char *why = env && *env ? "CFTOKEN_CACHE" : c->cfg->cache ? "cache = in the config"
								       : "the default";
	switch (cli_cache_mode(c)) {
	case CACHE_NONE:
		fprintf(stderr, "cftoken: cache none (%s): every request mints a token; exec's is "
			"deleted when its program exits, others last at most %d minutes\n", why,
			CFT_UNCACHED_TTL_S / 60);
		break;
	case CACHE_KERNEL:
		fprintf(stderr, "cftoken: cache kernel (%s): the kernel keyring alone\n", why);
		break;
	case CACHE_SECRET_SERVICE:
		fprintf(stderr, "cftoken: cache secret-service (%s): the Secret Service behind the "
			"kernel keyring\n", why);
		break;
	case CACHE_AUTO:
		fprintf(stderr, "cftoken: cache auto (%s): %s\n", why,
			l2_open ? "the Secret Service answers: it backs the kernel keyring"
				: "no Secret Service answers: the kernel keyring alone");
		break;
	}
}

int cli_print_value(const cli *c, const cft_secret *value)
{
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: not printing the token value to a terminal; "
			"pipe it into the program that needs it, or give --force\n");
		return EXIT_USAGE;
	}
	size_t len = cft_secret_len(value);
	if (fwrite(cft_secret_str(value), 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
	    fflush(stdout) != 0) {
		perror("cftoken: writing the token");
		return EXIT_API;
	}
	return EXIT_OK;
}
