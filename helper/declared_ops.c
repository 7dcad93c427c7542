/* The declared token of a profile (cftoken apply) outside apply itself:
 * its value for bind, exec, env and token, rolled when no cache holds it
 * any more, and roll --profile.  apply and destroy open it the same way.
 * What its new value means for the Worker bindings is worker_bindings.c's. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "declared_ops.h"
#include "cache/cache.h"
#include "cache/l1.h"
#include "cache/secret_service.h"
#include "config/owner.h"
#include "mint/declared.h"

/* The account a declared token lives in: the profile's, --account, the
 * environment's or [defaults]'. */
static cft_code declared_account(const cli *c, const cft_profile *p, char out[CFT_ID_LEN + 1],
				 cft_error *err)
{
	const char *a = p->account_id ? p->account_id : c->account_id;
	if (!a)
		return cft_fail(err, CFT_E_INVALID_ARG,
				"profile %.64s names no account: set account = in it or in "
				"[defaults], or give --account", p->name);
	snprintf(out, CFT_ID_LEN + 1, "%s", a);
	return CFT_OK;
}

/* Keeps a declared token's value where exec, env and token find it.  It
 * is renewed by apply (or rolled), never minted afresh: renew_at is its
 * expiry. */
void cli_apply_cache_value(const apply_ctx *a, const char *route_fp, const char *id,
			   cft_secret *value, time_t expires)
{
	cft_l1_record r = { .token = value, .expires = expires, .renew_at = expires };
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.account, sizeof(r.account), "%s", a->account);
	snprintf(r.profile, sizeof(r.profile), "%s", a->p->name);
	cft_error err;
	cft_error_clear(&err);
	if (cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, route_fp, &r, a->api, &err) != CFT_OK)
		fprintf(stderr, "cftoken: warning: the token is not in the kernel keyring: %s\n",
			err.detail);
	if (cft_cache_store(cft_l2_cache(a->l2), CFT_CACHE_L2, NULL, &r, a->api, &err) != CFT_OK)
		fprintf(stderr, "cftoken: warning: the token is not in the Secret Service: %s\n",
			err.detail);
}

cft_code cli_apply_open(const cli *c, apply_ctx *a, cft_error *err)
{
	memset(a, 0, sizeof(*a));
	a->c = c;
	a->api = cli_api_url(c);
	cft_code rc = cli_profile(c, &a->p, err);
	if (!rc)
		rc = declared_account(c, a->p, a->account, err);
	if (!rc)
		rc = cli_client(c, "parent token (one that may create tokens): ", true, &a->client,
				err);
	if (!rc)
		rc = cli_open_l2(c, &a->l2, err);
	bool user_owned = false;
	char why[256];
	if (!rc)
		rc = cft_profile_owner(a->p, &user_owned, why, sizeof(why), err);
	if (!rc && user_owned && !c->json)
		fprintf(stderr, "cftoken: profile %s has a user-owned token: %s\n", a->p->name, why);
	a->owner = user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(a->account);
	return rc;
}

void cli_apply_close(apply_ctx *a)
{
	a->client = cft_client_free(a->client);
	a->l2 = cft_l2_close(a->l2);
}

cft_code cli_declared_token(const cli *c, const cft_profile *p, const char *account,
			    cft_l2 *l2, const char *route_fp, long min_ttl, cft_l1_record *out,
			    cft_error *err)
{
	char id[33];
	const char *api = cli_api_url(c);
	cft_code drc = cft_declared_get(account, p->name, api, id, err);
	if (drc == CFT_E_NOT_FOUND && err)
		cft_error_clear(err);
	if (drc)
		return drc;
	time_t now = time(NULL);
	cft_l1_record r = { 0 };
	bool found = cft_cache_lookup(cft_l2_cache(l2), CFT_CACHE_BOTH, account, p->name, api, &r,
				      NULL) == CFT_OK;
	if (found && !strcmp(r.id, id) && r.expires - now >= (min_ttl > 0 ? min_ttl : 1)) {
		if (route_fp)
			cft_cache_store(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, route_fp, &r, api, NULL);
		*out = r;
		return CFT_OK;
	}
	cft_l1_record_clear(&r);
	if (found && !strcmp(r.id, id) && r.expires <= now)
		return cft_fail(err, CFT_E_TOKEN_EXPIRED,
				"the declared token of profile %.64s has expired: run cftoken apply",
				p->name);
	/* The value is no longer cached (a reboot without a Secret Service):
	 * roll the declared token for a new one; id and policies stay. */
	apply_ctx a = { .c = c, .p = p, .api = api, .l2 = l2 };
	snprintf(a.account, sizeof(a.account), "%s", account);
	bool user_owned = false;
	cft_profile_owner(p, &user_owned, NULL, 0, NULL);
	a.owner = user_owned ? CFT_USER_OWNED : CFT_ACCOUNT_OWNED(a.account);
	cft_token have = { 0 };
	_cleanup_secret_ cft_secret *value = NULL;
	cft_code rc = cli_client(c, "parent token (one that may create tokens): ", true, &a.client,
				 err);
	if (!rc)
		rc = cft_token_get(a.client, a.owner, id, &have, err);
	if (!rc && have.expires_on && have.expires_on - now < (min_ttl > 0 ? min_ttl : 1))
		rc = cft_fail(err, CFT_E_TOKEN_EXPIRED,
			      "the declared token of profile %.64s expires too soon: run cftoken "
			      "apply", p->name);
	if (!rc)
		rc = cft_token_roll(a.client, a.owner, id, &value, err);
	if (!rc) {
		fprintf(stderr, "cftoken: the value of declared token %s was not cached: rolled\n",
			id);
		cli_apply_cache_value(&a, route_fp, id, value, have.expires_on);
		cli_sync_bindings(c, a.client, account, p->name, value, false);
		rc = cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, account, p->name, api, out,
				      err);
	}
	cft_token_clear(&have);
	a.client = cft_client_free(a.client);
	return rc;
}

int cli_roll_declared(const cli *c)
{
	apply_ctx a;
	cft_error err;
	char id[33];
	cft_token have = { 0 };
	_cleanup_secret_ cft_secret *value = NULL;
	cft_error_clear(&err);
	cft_code rc = cli_apply_open(c, &a, &err);
	if (!rc)
		rc = cft_declared_get(a.account, a.p->name, a.api, id, &err);
	if (rc == CFT_E_NOT_FOUND)
		rc = cft_fail(&err, CFT_E_NOT_FOUND,
			      "profile %.64s has no declared token: run cftoken apply", a.p->name);
	if (!rc)
		rc = cft_token_get(a.client, a.owner, id, &have, &err);
	if (!rc)
		rc = cft_token_roll(a.client, a.owner, id, &value, &err);
	if (rc) {
		cli_print_error("roll", &err);
		cft_token_clear(&have);
		cli_apply_close(&a);
		return cli_exit_code(rc);
	}
	cli_apply_cache_value(&a, NULL, id, value, have.expires_on);
	printf("%s rolled: token %s has a new value; the old one no longer works\n", a.p->name,
	       id);
	int failed = cli_sync_bindings(c, a.client, a.account, a.p->name, value, false);
	cft_token_clear(&have);
	cli_apply_close(&a);
	return failed ? EXIT_API : EXIT_OK;
}
