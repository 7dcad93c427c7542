/* The profile's token for get (cmd_credential.c), exec, env and token
 * (cmd_exec.c): from the caches, the declared token, a mint with the parent
 * token, or, for the login token, root's broker. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "declared_ops.h"
#include "obtain_token.h"
#include "cache/cache.h"
#include "cache/l1.h"
#include "cache/parent.h"
#include "config/login_policy.h"
#include "core/timeutil.h"
#include "mint/broker_client.h"
#include "mint/obtain.h"
#include "mint/token_input.h"
#include "mint/uncached.h"

/* The parent token: --token-file, parent_token_file, or `cftoken login`'s.
 * For the login policy parent_token_file is the admin's, root's alone:
 * the user's own parent, or else the broker, renews that token. */
cft_code cli_load_parent(const cli *c, bool login, cft_parent *parent, cft_error *err)
{
	memset(parent, 0, sizeof(*parent));
	if (c->token_file)
		return cft_read_token(c->token_file, stderr, "parent token: ", &parent->token,
				      err);
	return cli_parent(c, !login, parent, err);
}

/* The request's fingerprint, as the front end computes it. */
void cli_request_fp(const cli *c, const cft_gitcred *g, char fp[CFT_FP_HEX])
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

cft_code cli_get_parent(void *ctx, const cft_secret **out, cft_error *err)
{
	lazy_parent *lp = ctx;
	if (!lp->loaded) {
		cft_code rc = cli_load_parent(lp->c, lp->login, &lp->parent, err);
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
cft_code cli_find_account(const cli *c, const cft_profile *p, lazy_parent *lp,
			  char account[CFT_ID_LEN + 1], cft_error *err)
{
	const cft_secret *parent;
	const char *known = p->account_id ? p->account_id : c->account_id;
	if (known) {
		snprintf(account, CFT_ID_LEN + 1, "%s", known);
		return CFT_OK;
	}
	cft_code rc = cli_get_parent(lp, &parent, err);
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
	rc = cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->account_id, CFT_LOGIN_PROFILE,
			      o->api_url, out, err);
	if (!rc && strcmp(out->id, id) != 0) {
		cft_l1_record_clear(out);
		rc = cft_fail(err, CFT_E_INTERNAL, "the broker renewed token %s, but the kernel "
				  "keyring does not hold it", id);
	}
	if (!rc && o->route_fp)
		cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->route_fp, out, o->api_url, NULL);
	return rc;
}

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

void cli_after_handover_release(after_handover *after)
{
	cft_parent_clear(&after->lp.parent);
	after->lp.loaded = false;
	after->client = cft_client_free(after->client);
	after->l2 = cft_l2_close(after->l2);
	after->keep_in_l2 = false;
}

/* Whether c->l2_missed is this request's token key. */
static bool l2_known_missing(const cli *c, const char *account, const char *profile)
{
	char a[33], pr[CFT_PROFILE_NAME_MAX + 1], api[CFT_API_HASH_SIZE], want[CFT_API_HASH_SIZE];
	if (!c->l2_missed || cft_l1_desc_parse(c->l2_missed, a, pr, api) != 0)
		return false;
	cft_api_hash(cli_api_url(c), want);
	return !strcmp(a, account) && !strcmp(pr, profile) && !strcmp(api, want);
}

cft_code cli_obtain(const cli *c, const cft_profile *p, const cft_gitcred *g, bool exec,
		    cft_l1_record *out, after_handover *after, cft_error *err)
{
	lazy_parent *lp = &after->lp;
	char *account = after->account;
	char fp[CFT_FP_HEX];
	cft_l2 *l2 = NULL;
	*lp = (lazy_parent){ .c = c, .login = p->kind != CFT_SECTION_PROFILE };
	account[0] = '\0';
	cft_code rc = cli_find_account(c, p, lp, account, err);
	cli_request_fp(c, g, fp);
	/* cftoken-l2 has just been told the Secret Service holds no token for
	 * this key: nothing to look up there before the mint (--verbose says
	 * what answers, so it still asks). */
	bool l2_missed = !rc && l2_known_missing(c, account, p->name);
	if (!rc && (!l2_missed || c->verbose))
		rc = cli_open_l2(c, &l2, err);
	bool no_cache = cli_cache_mode(c) == CACHE_NONE;
	if (!rc && c->verbose)
		cli_explain_cache(c, l2 != NULL);
	after->o = (cft_obtain){
		.cfg = c->cfg,
		.profile = p,
		.account_id = account,
		.api_url = cli_api_url(c),
		.ca_file = c->ca_file,
		.timeout_ms = c->timeout_ms,
		.client = &after->client,
		.parent = cli_get_parent,
		.parent_ctx = lp,
		/* A proxy profile's token is never handed over warm: with no
		 * route, the front end passes its exec to us (which runs the
		 * forwarder); its get and env are answered here, from L1. */
		.route_fp = no_cache || p->proxy ? NULL : fp,
		.min_ttl = c->min_ttl,
		.l2 = l2_missed ? NULL : l2,
		.l2_store_by_caller = true,
		.no_cache = no_cache,
		.track_uncached = no_cache,
		.max_ttl = no_cache && !exec ? CFT_UNCACHED_TTL_S : 0,
	};
	cft_obtain *o = &after->o;
	cft_obtain_source source = CFT_MINTED;
	char replaced[33] = "";
	/* A declared token (cftoken apply) is served, or rolled, never
	 * replaced by a mint: apply owns its life. */
	bool declared = false;
	if (!rc && !lp->login && !c->learning) {
		cft_code drc = cli_declared_token(c, p, account, l2, o->route_fp, c->min_ttl, out,
						  err);
		if (drc != CFT_E_NOT_FOUND) {
			declared = true;
			rc = drc;
		}
	}
	bool minted = false;
	if (!rc && !declared) {
		rc = cft_obtain_token(o, out, &source, replaced, err);
		minted = !rc && source == CFT_MINTED;
	}
	bool by_broker = false;
	if (rc == CFT_E_NO_PARENT && lp->login && !c->token_file) {
		rc = renew_by_broker(c, o, out, err);
		by_broker = rc == CFT_OK;
		/* The broker could not help (absent, busy, the API down): the
		 * due token still works until it expires.  "none" (no policy
		 * for this user any more) ends it. */
		if (rc && rc != CFT_E_NOT_FOUND && cft_obtain_due_token(o, err, out) == CFT_OK)
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
			fprintf(stderr, "cftoken: it replaces token %s, which stays valid until it "
				"expires and is deleted after that\n", replaced);
	}
	if (minted && no_cache && !exec)
		tell_uncached(out);
	o->l2 = NULL;
	o->route_fp = NULL;  /* fp dies with this call */
	/* The new token's durable copy: exec's before the program starts
	 * (the process that outlives it has no token value); the others' after
	 * the hand-over, on the connection to the Secret Service open now. */
	after->keep_in_l2 = minted && !no_cache && cli_wants_l2(c);
	if (after->keep_in_l2 && exec) {
		cft_error l2err;
		cft_error_clear(&l2err);
		if (!l2)
			cli_open_l2(c, &l2, &l2err);
		cft_obtain_keep_in_l2(o, l2, out);
		after->keep_in_l2 = false;
	}
	if (after->keep_in_l2)
		after->l2 = l2;
	else
		cft_l2_close(l2);
	after->minted = minted;
	after->uncached = minted && no_cache && exec;
	if (after->uncached && c->verbose)
		fprintf(stderr, "cftoken: cache none: token %s is deleted when %s exits\n", out->id,
			c->args[0]);
	if (!minted)
		cli_after_handover_release(after);
	return rc;
}
