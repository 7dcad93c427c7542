/* get, store, erase (the git credential helper), exec and env: hand over
 * the profile's token, minting one when the cache has none that is fresh.
 * The front end (front.c) answered the warm cases before we were run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gitcred.h"
#include "handover.h"
#include "broker_client.h"
#include "l1.h"
#include "login_policy.h"
#include "obtain.h"
#include "owner.h"
#include "parent.h"
#include "secret_service.h"
#include "token_input.h"

/* The admin's policy for this user ([user]/[group] in the system
 * configuration), when the request means it: the token the login session
 * got from pam_cftoken, cached as profile "login". */
static cft_login_policy login_policy;

static cft_code find_login_policy(const cli *c, const cft_profile **out, cft_error *err)
{
	cft_code rc = cft_login_policy_for_uid(c->cfg, getuid(), &login_policy, err);
	if (rc == CFT_OK)
		*out = &login_policy.merged;
	return rc;
}

/* The profile a request names, or the default one: the default profile,
 * else the only profile, else the login policy. */
static cft_code find_profile(const cli *c, const char *name, const cft_profile **out,
			     cft_error *err)
{
	const cft_config *cfg = c->cfg;
	if (!name)
		name = cfg->default_profile;
	if (!name) {
		const cft_profile *only = NULL;
		size_t n = 0;
		for (size_t i = 0; i < cfg->n_sections; i++)
			if (cfg->sections[i].kind == CFT_SECTION_PROFILE) {
				only = &cfg->sections[i];
				n++;
			}
		if (n == 1) {
			*out = only;
			return CFT_OK;
		}
		if (n == 0 && find_login_policy(c, out, NULL) == CFT_OK)
			return CFT_OK;
		return cft_fail(err, CFT_E_INVALID_ARG,
				n ? "several profiles and no default: give --profile or set "
				    "profile = in [defaults]"
				  : "no profile is configured: add a [profile NAME] section to "
				    "~/.config/cftoken/config (see cftoken.conf(5))");
	}
	*out = cft_config_find(cfg, CFT_SECTION_PROFILE, name);
	if (!*out && strcmp(name, CFT_LOGIN_PROFILE) == 0)
		return find_login_policy(c, out, err);
	if (!*out)
		return cft_fail(err, CFT_E_INVALID_ARG, "no [profile %.64s] in the configuration",
				name);
	return CFT_OK;
}

/* git's host (and path) to a profile: a profile whose hosts = lists it,
 * else the default profile for the API's own host.  NULL: not ours. */
static cft_code profile_for_git(const cli *c, const cft_gitcred *g, const cft_profile **out,
				cft_error *err)
{
	const cft_config *cfg = c->cfg;
	char where[8192];
	*out = NULL;
	if (!g->host)
		return CFT_OK;
	snprintf(where, sizeof(where), "%s/%s", g->host, g->path ? g->path : "");
	for (size_t i = 0; i < cfg->n_sections; i++) {
		const cft_profile *p = &cfg->sections[i];
		for (size_t k = 0; p->kind == CFT_SECTION_PROFILE && k < p->n_hosts; k++) {
			const char *h = p->hosts[k];
			bool match = strchr(h, '/') ? strncmp(where, h, strlen(h)) == 0
						    : strcmp(g->host, h) == 0;
			if (match) {
				*out = p;
				return CFT_OK;
			}
		}
	}
	const char *api = cli_api_url(c);
	const char *api_host = strstr(api, "://");
	api_host = api_host ? api_host + 3 : api;
	size_t hl = strcspn(api_host, "/");
	if (strcmp(g->host, "api.cloudflare.com") == 0 ||
	    (strlen(g->host) == hl && strncmp(g->host, api_host, hl) == 0))
		return find_profile(c, c->profile, out, err);
	return CFT_OK;
}

/* The parent token: --token-file, parent_token_file, or `cftoken login`'s.
 * For the login policy parent_token_file is the admin's, root's alone:
 * the user's own parent, or else the broker, renews that token. */
static cft_code load_parent(const cli *c, bool login, cft_parent *parent, cft_error *err)
{
	memset(parent, 0, sizeof(*parent));
	if (c->token_file)
		return cft_read_token(c->token_file, "parent token: ", &parent->token, err);
	return cli_parent(c, !login, parent, err);
}

/* The request's fingerprint, as the front end computes it. */
static void request_fp(const cli *c, const cft_gitcred *g, char fp[CFT_FP_HEX])
{
	cft_request rq = {
		.profile = c->profile,
		.account = c->raw_account,
		.api_url = c->raw_api_url,
		.git_protocol = g ? g->protocol : NULL,
		.git_host = g ? g->host : NULL,
		.git_path = g ? g->path : NULL,
	};
	cft_request_fingerprint(&rq, fp);
}

/* The parent token, loaded once, when obtain first needs it. */
typedef struct lazy_parent {
	const cli *c;
	bool login;                  /* the request is for the login policy */
	cft_parent parent;
	bool loaded;
} lazy_parent;

static cft_code get_parent(void *ctx, const cft_secret **out, cft_error *err)
{
	lazy_parent *lp = ctx;
	if (!lp->loaded) {
		cft_code rc = load_parent(lp->c, lp->login, &lp->parent, err);
		if (rc)
			return rc;
		lp->loaded = true;
	}
	*out = lp->parent.token;
	return CFT_OK;
}

/* The account: the profile's, the command line's or environment's or
 * [defaults]', the one `cftoken login` recorded, or the only one the
 * parent token can see. */
static cft_code find_account(const cli *c, const cft_profile *p, lazy_parent *lp,
			     char account[CFT_ID_LEN + 1], cft_error *err)
{
	const cft_secret *parent;
	const char *known = p->account_id ? p->account_id : c->account_id;
	if (known) {
		snprintf(account, CFT_ID_LEN + 1, "%s", known);
		return CFT_OK;
	}
	cft_code rc = get_parent(lp, &parent, err);
	if (rc)
		return rc;
	if (lp->parent.account[0]) {
		snprintf(account, CFT_ID_LEN + 1, "%s", lp->parent.account);
		return CFT_OK;
	}
	cft_client_options o = { .api_url = c->api_url, .ca_file = c->ca_file,
				 .proxy = c->cfg->proxy, .timeout_ms = c->timeout_ms };
	cft_client *client = NULL;
	cft_owner owner;
	rc = cft_client_new(&o, parent, &client, err);
	if (!rc)
		rc = cli_owner(c, client, &owner, account, err);
	cft_client_free(client);
	return rc;
}

/* The login token is due and the user holds no parent token of their
 * own: root's broker renews it in our keyrings, and we read it back. */
static cft_code renew_by_broker(const cli *c, const cft_obtain *o, cft_l1_record *out,
				cft_error *err)
{
	char socket_path[4200], id[33];
	snprintf(socket_path, sizeof(socket_path), "%s/%s",
		 c->cfg->run_dir ? c->cfg->run_dir : CFT_DEFAULT_RUN_DIR, CFT_BROKER_SOCKET_NAME);
	cft_error_clear(err);
	cft_code rc = cft_broker_renew(socket_path, o->min_ttl, o->timeout_ms, id, err);
	if (rc == CFT_E_NOT_FOUND && strstr(err->detail, "no renewal broker")) {
		char why[600];
		snprintf(why, sizeof(why), "%s", err->detail);
		cft_error_clear(err);
		return cft_fail(err, CFT_E_RENEWAL, "it is due, and %s", why);
	}
	if (rc)
		return rc;
	rc = cft_l1_lookup_token(o->account_id, CFT_LOGIN_PROFILE, o->api_url, out, err);
	if (!rc && strcmp(out->id, id) != 0) {
		cft_l1_record_clear(out);
		rc = cft_fail(err, CFT_E_INTERNAL, "the broker renewed token %s, but the kernel "
				  "keyring does not hold it", id);
	}
	if (!rc && o->route_fp)
		cft_l1_store(o->route_fp, out, o->api_url, NULL);
	return rc;
}

static cft_code obtain(const cli *c, const cft_profile *p, const cft_gitcred *g,
		       cft_l1_record *out, cft_error *err)
{
	lazy_parent lp = { .c = c, .login = p->kind != CFT_SECTION_PROFILE };
	char account[CFT_ID_LEN + 1] = "";
	char fp[CFT_FP_HEX];
	cft_l2 *l2 = NULL;
	cft_code rc = find_account(c, p, &lp, account, err);
	request_fp(c, g, fp);
	if (!rc)
		rc = cli_open_l2(c, &l2, err);
	bool no_cache = cli_cache_mode(c) == CACHE_NONE;
	if (!rc && c->verbose)
		cli_explain_cache(c, l2 != NULL);
	cft_obtain o = {
		.cfg = c->cfg,
		.profile = p,
		.account_id = account,
		.api_url = cli_api_url(c),
		.ca_file = c->ca_file,
		.timeout_ms = c->timeout_ms,
		.parent = get_parent,
		.parent_ctx = &lp,
		.route_fp = no_cache ? NULL : fp,
		.min_ttl = c->min_ttl,
		.l2 = l2,
		.no_cache = no_cache,
	};
	cft_obtain_source source = CFT_MINTED;
	char replaced[33] = "";
	/* A declared token (cftoken apply) is served, or rolled, never
	 * replaced by a mint: apply owns its life. */
	bool declared = false;
	if (!rc && !lp.login) {
		cft_code drc = cli_declared_token(c, p, account, l2, o.route_fp, c->min_ttl, out, err);
		if (drc != CFT_E_NOT_FOUND) {
			declared = true;
			rc = drc;
		}
	}
	if (!rc && !declared)
		rc = cft_obtain_token(&o, out, &source, replaced, err);
	bool by_broker = false;
	if (rc == CFT_E_NO_PARENT && lp.login && !c->token_file) {
		rc = renew_by_broker(c, &o, out, err);
		by_broker = rc == CFT_OK;
		/* The broker could not help (absent, busy, the API down): the
		 * due token still works until it expires.  "none" (no policy
		 * for this user any more) ends it. */
		if (rc && rc != CFT_E_NOT_FOUND && cft_obtain_due_token(&o, err, out) == CFT_OK)
			rc = CFT_OK;
	}
	if (!rc && declared && c->verbose)
		fprintf(stderr, "cftoken: profile %s: declared token %s\n", p->name, out->id);
	else if (!rc && by_broker && c->verbose)
		fprintf(stderr, "cftoken: login token %s renewed by the broker\n", out->id);
	else if (!rc && c->verbose) {
		static const char *const from[] = {
			[CFT_FROM_KERNEL_KEYRING] = "the kernel keyring (L1)",
			[CFT_FROM_SECRET_SERVICE] = "the Secret Service (L2), refilling L1",
			[CFT_MINTED] = "a new token minted with the parent token",
		};
		fprintf(stderr, "cftoken: profile %s, account %s: token %s from %s\n", p->name,
			account, out->id, from[source]);
		if (replaced[0])
			fprintf(stderr, "cftoken: it replaces token %s, deleted on the API\n", replaced);
	}
	cft_l2_close(l2);
	cft_parent_clear(&lp.parent);
	return rc;
}

static int fail(const char *what, cft_code rc, const cft_error *err)
{
	cli_print_error(what, err);
	return cli_exit_code(rc);
}

static cft_code read_git(cft_gitcred *g, cft_error *err)
{
	_cleanup_secret_ cft_secret *raw = NULL;
	cft_code rc = cft_gitcred_read_input(STDIN_FILENO, &raw, err);
	if (!rc)
		rc = cft_gitcred_parse(cft_secret_str(raw), cft_secret_len(raw), g, err);
	return rc;
}

/* A git request and the profile it names (*p NULL: not cftoken's host). */
static cft_code read_git_request(const cli *c, cft_gitcred *g, const cft_profile **p,
				 cft_error *err)
{
	cft_error_clear(err);
	cft_code rc = read_git(g, err);
	if (!rc)
		rc = profile_for_git(c, g, p, err);
	return rc;
}

int cmd_get(const cli *c)
{
	cft_gitcred g = { 0 };
	const cft_profile *p = NULL;
	cft_l1_record r = { 0 };
	cft_error err;
	cft_code rc = read_git_request(c, &g, &p, &err);
	if (!rc && !p) {
		/* Not a host of ours: say nothing, and git asks its next helper. */
		cft_gitcred_clear(&g);
		return EXIT_OK;
	}
	if (!rc)
		rc = obtain(c, p, &g, &r, &err);
	cft_gitcred_clear(&g);
	if (rc)
		return fail("get", rc, &err);
	int status = cft_handover_git(stdout, &r) ? EXIT_API : EXIT_OK;
	cft_l1_record_clear(&r);
	return status;
}

/* git hands back the credential that worked.  The one `get` gave is
 * cached already.  Another token (typed at git's prompt, or from another
 * helper) is adopted for the profile once the API verifies it as active:
 * cached with its own expiry and marked adopted, so that cftoken replaces
 * it in the cache when it is due but never deletes it on the API. */
int cmd_store(const cli *c)
{
	cft_gitcred g = { 0 };
	const cft_profile *p = NULL;
	cft_l1_record cached = { 0 }, r = { 0 };
	lazy_parent lp = { .c = c };
	char account[CFT_ID_LEN + 1] = "", fp[CFT_FP_HEX];
	cft_error err;
	cft_code rc = read_git_request(c, &g, &p, &err);
	if (rc || !p || !g.password || cli_cache_mode(c) == CACHE_NONE)
		goto done;
	rc = find_account(c, p, &lp, account, &err);
	if (!rc && cft_l1_lookup_token(account, p->name, cli_api_url(c), &cached, NULL) == CFT_OK &&
	    cft_secret_equal(cached.token, g.password))
		goto done;  /* ours, cached already */
	rc = cft_token_parse(cft_secret_str(g.password), cft_secret_len(g.password), &r.token,
			     &err);
	cft_client *client = NULL;
	cft_verify_result v;
	cft_client_options o = { .api_url = c->api_url, .ca_file = c->ca_file,
				 .proxy = c->cfg->proxy, .timeout_ms = c->timeout_ms };
	if (!rc)
		rc = cft_client_new(&o, r.token, &client, &err);
	if (!rc)
		rc = cft_token_verify(client, CFT_ACCOUNT_OWNED(account), &v, &err);
	cft_client_free(client);
	if (rc)
		goto done;
	time_t now = time(NULL), expires = v.expires_on;
	if (!expires && g.password_expiry_utc)
		expires = (time_t)strtoll(g.password_expiry_utc, NULL, 10);
	if (expires <= now) {
		/* No expiry known: hold it for one TTL, then ask afresh. */
		expires = now + cft_profile_ttl(c->cfg, p);
	}
	int64_t margin = cft_profile_renew_margin(c->cfg, p);
	snprintf(r.id, sizeof(r.id), "%s", v.id);
	snprintf(r.account, sizeof(r.account), "%s", account);
	snprintf(r.profile, sizeof(r.profile), "%s", p->name);
	r.expires = expires;
	r.renew_at = expires - margin > now ? expires - margin : now;
	r.adopted = true;
	request_fp(c, &g, fp);
	rc = cft_l1_store(fp, &r, cli_api_url(c), &err);
	cft_l2 *l2 = NULL;
	if (!rc && cli_open_l2(c, &l2, &err) == CFT_OK && l2)
		cft_l2_store_token(l2, &r, cli_api_url(c), NULL);
	cft_l2_close(l2);
	if (!rc && c->verbose)
		fprintf(stderr, "cftoken: adopted token %s for profile %s\n", r.id, p->name);
done:
	cft_l1_record_clear(&cached);
	cft_l1_record_clear(&r);
	cft_parent_clear(&lp.parent);
	cft_gitcred_clear(&g);
	return rc ? fail("store", rc, &err) : EXIT_OK;
}

/* As `git credential capability` answers: the protocol version, then one
 * "capability NAME" line per capability.  cftoken has neither authtype nor
 * state, so it announces none (and answers no capability[] in get). */
int cmd_capability(const cli *c)
{
	(void)c;
	printf("version 0\n");
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_API;
}

int cmd_erase(const cli *c)
{
	cft_gitcred g = { 0 };
	const cft_profile *p = NULL;
	cft_l1_record r = { 0 };
	cft_error err;
	cft_code rc = read_git_request(c, &g, &p, &err);
	if (rc || !p) {
		cft_gitcred_clear(&g);
		return rc ? fail("erase", rc, &err) : EXIT_OK;
	}
	/* git erases the credential a server refused: drop it if it is the
	 * one we cached for this profile, so the next get mints afresh. */
	cft_parent parent;
	char account_buf[CFT_ID_LEN + 1] = "";
	const char *acct = p->account_id ? p->account_id : c->account_id;
	if (!acct && load_parent(c, p->kind != CFT_SECTION_PROFILE, &parent, NULL) == CFT_OK) {
		snprintf(account_buf, sizeof(account_buf), "%s", parent.account);
		cft_parent_clear(&parent);
		acct = account_buf[0] ? account_buf : NULL;
	}
	cft_l2 *l2 = NULL;
	if (acct)
		rc = cli_open_l2(c, &l2, &err);
	bool found = acct && !rc &&
		     (cft_l1_lookup_token(acct, p->name, cli_api_url(c), &r, NULL) == CFT_OK ||
		      (l2 && cft_l2_lookup_token(l2, acct, p->name, cli_api_url(c), &r, NULL) ==
				     CFT_OK));
	if (found) {
		bool same = !g.password || cft_secret_equal(g.password, r.token);
		if (same)
			rc = cft_l1_drop(acct, p->name, cli_api_url(c), &err);
		if (same && !rc && l2)
			rc = cft_l2_drop_token(l2, acct, p->name, cli_api_url(c), &err);
		/* Revoke only what cftoken minted, never an adopted token. */
		if (same && !rc && c->cfg->revoke_on_erase && !r.adopted &&
		    load_parent(c, p->kind != CFT_SECTION_PROFILE, &parent, &err) == CFT_OK) {
			cft_client_options o = { .api_url = c->api_url, .ca_file = c->ca_file,
						 .proxy = c->cfg->proxy,
						 .timeout_ms = c->timeout_ms };
			cft_client *client = NULL;
			if (cft_client_new(&o, parent.token, &client, &err) == CFT_OK)
				rc = cft_token_delete(client, cft_profile_token_owner(p, acct), r.id,
						      &err);
			if (rc == CFT_E_NOT_FOUND)
				rc = CFT_OK;
			cft_client_free(client);
			cft_parent_clear(&parent);
		}
	}
	cft_l2_close(l2);
	cft_l1_record_clear(&r);
	cft_gitcred_clear(&g);
	return rc ? fail("erase", rc, &err) : EXIT_OK;
}

cft_code cli_profile(const cli *c, const cft_profile **out, cft_error *err)
{
	return find_profile(c, c->profile, out, err);
}

/* exec, env and token: the named (or default) profile's token. */
static cft_code obtain_for_profile(const cli *c, cft_l1_record *r, cft_error *err)
{
	const cft_profile *p = NULL;
	cft_error_clear(err);
	cft_code rc = find_profile(c, c->profile, &p, err);
	if (!rc)
		rc = obtain(c, p, NULL, r, err);
	return rc;
}

int cmd_exec(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_error err;
	if (c->n_args == 0) {
		fprintf(stderr, "cftoken: exec: name the program to run: cftoken exec -- PROGRAM\n");
		return EXIT_USAGE;
	}
	cft_code rc = obtain_for_profile(c, &r, &err);
	if (rc)
		return fail("exec", rc, &err);
	return cft_handover_exec(c->args, &r);
}

int cmd_token(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_error err;
	if (c->n_args) {
		fprintf(stderr, "cftoken: token: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: token: not printing a token to a terminal; pipe it into "
			"the program that needs it, or give --force\n");
		return EXIT_USAGE;
	}
	cft_code rc = obtain_for_profile(c, &r, &err);
	if (rc)
		return fail("token", rc, &err);
	int status = cli_print_value(c, r.token);
	cft_l1_record_clear(&r);
	return status;
}

int cmd_env(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_env_format format = CFT_ENV_SH;
	cft_error err;
	if (c->format && cft_env_format_parse(c->format, &format) != 0) {
		fprintf(stderr, "cftoken: env: --format %.20s: use sh, fish or json\n", c->format);
		return EXIT_USAGE;
	}
	if (c->n_args) {
		fprintf(stderr, "cftoken: env: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: env: not printing a token to a terminal; use "
			"eval \"$(cftoken env)\", or give --force\n");
		return EXIT_USAGE;
	}
	cft_code rc = obtain_for_profile(c, &r, &err);
	if (rc)
		return fail("env", rc, &err);
	int status = cft_handover_env(stdout, format, &r) ? EXIT_API : EXIT_OK;
	cft_l1_record_clear(&r);
	return status;
}
