/* get, store, erase (the git credential helper), exec and env: hand over
 * the profile's token, minting one when the cache has none that is fresh.
 * The front end (warm.c) answered the warm cases before we were run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cache/l1.h"
#include "cache/parent.h"
#include "cache/secret_service.h"
#include "config/config.h"
#include "config/login_policy.h"
#include "config/owner.h"
#include "config/profile.h"
#include "config/profile_spec.h"
#include "core/gitcred.h"
#include "core/handover.h"
#include "core/timeutil.h"
#include "mint/broker_client.h"
#include "mint/obtain.h"
#include "mint/orphans.h"
#include "mint/token_diff.h"
#include "mint/token_input.h"
#include "mint/uncached.h"

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

/* Whether a hosts = entry names git's host and path.  "host" is that host,
 * any path; "host/path" is that path and what lies below it, whole
 * segments only: "team" holds "team" and "team/repo.git", never
 * "teamevil/repo.git". */
static bool host_entry_matches(const char *entry, const cft_gitcred *g)
{
	const char *slash = strchr(entry, '/');
	size_t hl = slash ? (size_t)(slash - entry) : strlen(entry);
	if (strlen(g->host) != hl || strncmp(g->host, entry, hl) != 0)
		return false;
	if (!slash)
		return true;
	const char *want = slash + strspn(slash, "/");
	size_t wl = strlen(want);
	while (wl > 0 && want[wl - 1] == '/')
		wl--;
	if (wl == 0)
		return true;  /* "host/": the whole host */
	const char *path = g->path;
	return path && strncmp(path, want, wl) == 0 && (path[wl] == '\0' || path[wl] == '/');
}

static const cft_profile *profile_listing_host(const cft_config *cfg, const cft_gitcred *g)
{
	for (size_t i = 0; i < cfg->n_sections; i++) {
		const cft_profile *p = &cfg->sections[i];
		for (size_t k = 0; p->kind == CFT_SECTION_PROFILE && k < p->n_hosts; k++)
			if (host_entry_matches(p->hosts[k], g))
				return p;
	}
	return NULL;
}

/* api.cloudflare.com, or the configured API's own host. */
static bool is_api_host(const cli *c, const char *host)
{
	const char *api = cli_api_url(c);
	const char *api_host = strstr(api, "://");
	api_host = api_host ? api_host + 3 : api;
	size_t hl = strcspn(api_host, "/");
	return strcmp(host, "api.cloudflare.com") == 0 ||
	       (strlen(host) == hl && strncmp(host, api_host, hl) == 0);
}

/* git's host (and path) to a profile: a profile whose hosts = lists it,
 * else the default profile for the API's own host.  NULL: no answer,
 * because the host is not ours (silently: git asks its next helper) or the
 * request is not one cftoken answers (cft_gitcred_refusal, said on stderr:
 * the person wonders why git prompts). */
static cft_code profile_for_git(const cli *c, const char *op, const cft_gitcred *g,
				const cft_profile **out, cft_error *err)
{
	*out = NULL;
	if (!g->host)
		return CFT_OK;
	const cft_profile *listed = profile_listing_host(c->cfg, g);
	if (!listed && !is_api_host(c, g->host))
		return CFT_OK;
	const char *why = cft_gitcred_refusal(g);
	if (why) {
		/* The host is a configured one, so safe to print. */
		fprintf(stderr, "cftoken: %s: ignoring the request for %s: %s\n", op, g->host,
			why);
		return CFT_OK;
	}
	if (listed) {
		*out = listed;
		return CFT_OK;
	}
	return find_profile(c, c->profile, out, err);
}

/* The parent token: --token-file, parent_token_file, or `cftoken login`'s.
 * For the login policy parent_token_file is the admin's, root's alone:
 * the user's own parent, or else the broker, renews that token. */
static cft_code load_parent(const cli *c, bool login, cft_parent *parent, cft_error *err)
{
	memset(parent, 0, sizeof(*parent));
	if (c->token_file)
		return cft_read_token(c->token_file, stderr, "parent token: ", &parent->token,
				      err);
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
	if (rc == CFT_E_RENEWAL ||
	    (rc == CFT_E_NOT_FOUND && strstr(err->detail, "no renewal broker"))) {
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

/* exec's token under cache = none: its program's parent deletes it when
 * the program exits, with what that takes kept from the mint. */
typedef struct uncached_run {
	bool minted;                 /* this request minted it, uncached */
	lazy_parent lp;              /* the parent token, still loaded */
	cft_obtain o;
	char account[CFT_ID_LEN + 1];
} uncached_run;

/* cache = none outside exec: nothing tells cftoken when the token's user
 * is done, so it is short-lived, and the user is told. */
static void tell_uncached(const cft_l1_record *r)
{
	char until[CFT_RFC3339_SIZE];
	cft_time_format_rfc3339(r->expires, until);
	fprintf(stderr, "cftoken: cache none: token %s is not kept; it expires at %s (at most %d "
		"minutes after it was made) and a later uncached request deletes it\n", r->id,
		until, CFT_UNCACHED_TTL_S / 60);
}

/* run: exec's request (NULL for get, env and token). */
static cft_code obtain(const cli *c, const cft_profile *p, const cft_gitcred *g,
		       cft_l1_record *out, uncached_run *run, cft_error *err)
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
		.track_uncached = no_cache,
		.max_ttl = no_cache && !run ? CFT_UNCACHED_TTL_S : 0,
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
	bool minted = false;
	if (!rc && !declared) {
		rc = cft_obtain_token(&o, out, &source, replaced, err);
		minted = !rc && source == CFT_MINTED;
	}
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
	if (minted && no_cache && !run)
		tell_uncached(out);
	cft_l2_close(l2);
	if (minted && no_cache && run) {
		/* The parent stays loaded until the program exits. */
		run->minted = true;
		run->lp = lp;
		snprintf(run->account, sizeof(run->account), "%s", account);
		run->o = o;
		run->o.account_id = run->account;
		run->o.parent_ctx = &run->lp;
		run->o.l2 = NULL;
		run->o.route_fp = NULL;
		if (c->verbose)
			fprintf(stderr, "cftoken: cache none: token %s is deleted when %s exits\n",
				out->id, c->args[0]);
	} else {
		cft_parent_clear(&lp.parent);
	}
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
static cft_code read_git_request(const cli *c, const char *op, cft_gitcred *g,
				 const cft_profile **p, cft_error *err)
{
	cft_error_clear(err);
	cft_code rc = read_git(g, err);
	if (!rc)
		rc = profile_for_git(c, op, g, p, err);
	return rc;
}

int cmd_get(const cli *c)
{
	cft_gitcred g = { 0 };
	const cft_profile *p = NULL;
	cft_l1_record r = { 0 };
	cft_error err;
	if (isatty(STDOUT_FILENO) && !c->force) {
		fprintf(stderr, "cftoken: get: not printing a token to a terminal; git reads it "
			"through a pipe (git credential fill), or give --force\n");
		return EXIT_USAGE;
	}
	cft_code rc = read_git_request(c, "get", &g, &p, &err);
	if (!rc && !p) {
		/* Not a host of ours: say nothing, and git asks its next helper. */
		cft_gitcred_clear(&g);
		return EXIT_OK;
	}
	if (!rc)
		rc = obtain(c, p, &g, &r, NULL, &err);
	cft_gitcred_clear(&g);
	if (rc)
		return fail("get", rc, &err);
	int status = cft_handover_git(stdout, &r) ? EXIT_API : EXIT_OK;
	cft_l1_record_clear(&r);
	return status;
}

/* What the token git hands back may do, read with the parent token: it
 * must be a token of the profile's account (or user, for a user-owned
 * profile) whose policies fit within what the profile mints.  Fills v with
 * the API's verify answer for it. */
static cft_code check_token_rights(const cli *c, const cft_profile *p, const cft_secret *token,
				   const cft_secret *parent, const char *account,
				   cft_verify_result *v, cft_error *err)
{
	cft_client_options o = { .api_url = c->api_url, .ca_file = c->ca_file,
				 .proxy = c->cfg->proxy, .timeout_ms = c->timeout_ms };
	_cleanup_client_ cft_client *by_parent = NULL;
	_cleanup_client_ cft_client *by_token = NULL;
	cft_profile_spec ps;
	cft_token info = { 0 };
	char why[768];
	memset(&ps, 0, sizeof(ps));
	cft_code rc = cft_client_new(&o, parent, &by_parent, err);
	if (!rc)
		rc = cft_profile_spec_build(by_parent, c->cfg, p, account, time(NULL), 0, &ps, err);
	if (rc) {
		cft_profile_spec_clear(&ps);
		return rc;
	}
	cft_owner owner = cft_profile_spec_owner(&ps, account);
	rc = cft_client_new(&o, token, &by_token, err);
	if (!rc)
		rc = cft_token_verify(by_token, owner, v, err);
	if (!rc && strcmp(v->status, "active") != 0)
		rc = cft_fail(err, CFT_E_AUTH_INVALID, "token %s is %.15s", v->id, v->status);
	if (!rc) {
		rc = cft_token_get(by_parent, owner, v->id, &info, err);
		if (rc == CFT_E_NOT_FOUND)
			rc = cft_fail(err, CFT_E_INVALID_ARG, "not adopting token %s: it is not a "
				      "token %s%s", v->id, ps.user_owned ? "of the parent's user"
				      : "of account ", ps.user_owned ? "" : account);
	}
	if (!rc && !cft_policies_within(&ps.built.spec, info.policies_json, why, sizeof(why)))
		rc = cft_fail(err, CFT_E_INVALID_ARG, "not adopting token %s: it may do more than "
			      "profile %s mints: %s", v->id, p->name, why);
	cft_token_clear(&info);
	cft_profile_spec_clear(&ps);
	return rc;
}

/* Whether the token git hands back may be adopted for p, each check before
 * the value goes anywhere it need not: its shape is a Cloudflare token's
 * (another vendor's token never reaches the API); it is not the parent
 * token (compared in constant time: cftoken hands out only tokens narrower
 * than its parent); the API verifies it; its rights fit the profile's. */
static cft_code check_adoptable(const cli *c, const cft_profile *p, const cft_secret *token,
				lazy_parent *lp, const char *account, cft_verify_result *v,
				cft_error *err)
{
	const cft_secret *parent = NULL;
	if (!cft_token_is_cloudflare_shaped(cft_secret_str(token), cft_secret_len(token)))
		return cft_fail(err, CFT_E_TOKEN_FORMAT, "not adopting the password git hands back "
				"for profile %s; it was not sent to the API", p->name);
	cft_code rc = get_parent(lp, &parent, err);
	if (rc == CFT_E_NO_PARENT)
		return cft_fail(err, rc, "not adopting the token for profile %s: store reads what a "
				"token may do with the parent token first", p->name);
	if (rc)
		return rc;
	if (cft_secret_equal(token, parent))
		return cft_fail(err, CFT_E_INVALID_ARG, "not adopting the parent token for profile "
				"%s: cftoken hands out only the tokens it mints from it", p->name);
	return check_token_rights(c, p, token, parent, account, v, err);
}

/* git hands back the credential that worked.  The one `get` gave is
 * cached already.  Another token (typed at git's prompt, or from another
 * helper) is adopted for the profile when check_adoptable allows it:
 * cached with its own expiry and marked adopted, so that cftoken replaces
 * it in the cache when it is due but never deletes it on the API.  A
 * refusal says why and exits non-zero (git ignores a helper's store
 * status, and shows what it prints); nothing is cached then. */
int cmd_store(const cli *c)
{
	cft_gitcred g = { 0 };
	const cft_profile *p = NULL;
	cft_l1_record cached = { 0 }, r = { 0 };
	cft_verify_result v;
	char account[CFT_ID_LEN + 1] = "", fp[CFT_FP_HEX];
	cft_error err;
	cft_code rc = read_git_request(c, "store", &g, &p, &err);
	lazy_parent lp = { .c = c, .login = p && p->kind != CFT_SECTION_PROFILE };
	if (rc || !p || !g.password || cli_cache_mode(c) == CACHE_NONE)
		goto done;
	rc = find_account(c, p, &lp, account, &err);
	if (!rc && cft_l1_lookup_token(account, p->name, cli_api_url(c), &cached, NULL) == CFT_OK &&
	    cft_secret_equal(cached.token, g.password))
		goto done;  /* ours, cached already */
	if (!rc)
		rc = check_adoptable(c, p, g.password, &lp, account, &v, &err);
	if (!rc)
		rc = cft_token_parse(cft_secret_str(g.password), cft_secret_len(g.password),
				     &r.token, &err);
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
	cft_code rc = read_git_request(c, "erase", &g, &p, &err);
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
				rc = cft_token_delete_if_ours(
					client, cft_profile_token_owner(p, acct), r.id,
					p->name_template ? p->name_template : c->cfg->name_template,
					p->name, &err);
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
static cft_code obtain_for_profile(const cli *c, cft_l1_record *r, uncached_run *run,
				   cft_error *err)
{
	const cft_profile *p = NULL;
	cft_error_clear(err);
	cft_code rc = find_profile(c, c->profile, &p, err);
	if (!rc)
		rc = obtain(c, p, NULL, r, run, err);
	return rc;
}

/* exec under cache = none: the program runs as our child, and its token
 * is deleted when it exits.  Our exit status is the program's. */
static int exec_uncached(const cli *c, cft_l1_record *r, uncached_run *run)
{
	char id[33];
	snprintf(id, sizeof(id), "%s", r->id);
	int status = cli_run_program(c->args, r);
	cft_error err;
	cft_error_clear(&err);
	if (cft_obtain_delete_uncached(&run->o, id, &err) != CFT_OK) {
		char msg[1024];
		cft_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "cftoken: warning: token %s was not deleted (%s); the next "
			"uncached request of profile %s deletes it once it has expired\n", id, msg,
			run->o.profile->name);
	} else if (c->verbose) {
		fprintf(stderr, "cftoken: token %s deleted\n", id);
	}
	cft_parent_clear(&run->lp.parent);
	cli_exit_like(status);
}

int cmd_exec(const cli *c)
{
	cft_l1_record r = { 0 };
	cft_error err;
	if (c->n_args == 0) {
		fprintf(stderr, "cftoken: exec: name the program to run: cftoken exec -- PROGRAM\n");
		return EXIT_USAGE;
	}
	uncached_run run = { 0 };
	cft_code rc = obtain_for_profile(c, &r, &run, &err);
	if (rc)
		return fail("exec", rc, &err);
	if (run.minted)
		return exec_uncached(c, &r, &run);
	int status = cft_handover_exec(c->args, &r, &err);
	fprintf(stderr, "cftoken: exec: %s\n", err.detail);
	return status;
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
	cft_code rc = obtain_for_profile(c, &r, NULL, &err);
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
	cft_code rc = obtain_for_profile(c, &r, NULL, &err);
	if (rc)
		return fail("env", rc, &err);
	int status = cft_handover_env(stdout, format, &r) ? EXIT_API : EXIT_OK;
	cft_l1_record_clear(&r);
	return status;
}
