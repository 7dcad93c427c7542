/* get, store, erase and capability: the git credential helper.  get hands
 * over the token of the profile git's host belongs to (obtain_token.c),
 * store adopts a token git hands back, erase drops a refused one.  The
 * front end (warm.c) answered the warm cases before we were run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "after_handover.h"
#include "cli.h"
#include "obtain_token.h"
#include "cache/cache.h"
#include "cache/l1.h"
#include "cache/parent.h"
#include "cache/secret_service.h"
#include "config/config.h"
#include "config/owner.h"
#include "config/profile.h"
#include "config/profile_spec.h"
#include "core/gitcred.h"
#include "core/handover.h"
#include "mint/obtain.h"
#include "mint/orphans.h"
#include "mint/token_diff.h"

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
	return cli_profile(c, out, err);
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
	after_handover after = { 0 };
	if (!rc)
		rc = cli_obtain(c, p, &g, false, &r, &after, &err);
	cft_gitcred_clear(&g);
	if (rc)
		return cli_fail("get", rc, &err);
	int status = cft_handover_git(stdout, &r) ? EXIT_API : EXIT_OK;
	/* git has the answer once stdout is closed: then the work after. */
	if (fclose(stdout) != 0 && status == EXIT_OK)
		status = EXIT_API;
	cli_after_handover(c, &after, &r);
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
		rc = cft_profile_spec_build(by_parent, c->cfg, p, account, time(NULL), 0, NULL,
					    &ps, err);
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
	cft_code rc = cli_get_parent(lp, &parent, err);
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
	rc = cli_find_account(c, p, &lp, account, &err);
	if (!rc &&
	    cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, account, p->name, cli_api_url(c),
			     &cached, NULL) == CFT_OK &&
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
	cli_request_fp(c, &g, fp);
	rc = cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, fp, &r, cli_api_url(c), &err);
	cft_l2 *l2 = NULL;
	if (!rc && cli_open_l2(c, &l2, &err) == CFT_OK)
		cft_cache_store(cft_l2_cache(l2), CFT_CACHE_L2, NULL, &r, cli_api_url(c), NULL);
	cft_l2_close(l2);
	if (!rc && c->verbose)
		fprintf(stderr, "cftoken: adopted token %s for profile %s\n", r.id, p->name);
done:
	cft_l1_record_clear(&cached);
	cft_l1_record_clear(&r);
	cft_parent_clear(&lp.parent);
	cft_gitcred_clear(&g);
	return rc ? cli_fail("store", rc, &err) : EXIT_OK;
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
		return rc ? cli_fail("erase", rc, &err) : EXIT_OK;
	}
	/* git erases the credential a server refused: drop it if it is the
	 * one we cached for this profile, so the next get mints afresh. */
	cft_parent parent;
	char account_buf[CFT_ID_LEN + 1] = "";
	const char *acct = p->account_id ? p->account_id : c->account_id;
	if (!acct && cli_load_parent(c, p->kind != CFT_SECTION_PROFILE, &parent, NULL) == CFT_OK) {
		snprintf(account_buf, sizeof(account_buf), "%s", parent.account);
		cft_parent_clear(&parent);
		acct = account_buf[0] ? account_buf : NULL;
	}
	cft_l2 *l2 = NULL;
	if (acct)
		rc = cli_open_l2(c, &l2, &err);
	bool found = acct && !rc &&
		     cft_cache_lookup(cft_l2_cache(l2), CFT_CACHE_BOTH, acct, p->name,
				      cli_api_url(c), &r, NULL) == CFT_OK;
	if (found) {
		bool same = !g.password || cft_secret_equal(g.password, r.token);
		/* git asks again at once: its route remembers that neither
		 * level holds a token, so that get mints without asking L2 */
		char fp[CFT_FP_HEX];
		cli_request_fp(c, &g, fp);
		if (same)
			rc = cft_cache_drop_on_route(cft_l2_cache(l2), fp, acct, p->name,
						     cli_api_url(c), r.expires, &err);
		/* Revoke only what cftoken minted, never an adopted token. */
		if (same && !rc && c->cfg->revoke_on_erase && !r.adopted &&
		    cli_load_parent(c, p->kind != CFT_SECTION_PROFILE, &parent, &err) == CFT_OK) {
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
	return rc ? cli_fail("erase", rc, &err) : EXIT_OK;
}
