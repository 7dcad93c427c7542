/* bind and unbind: a declared token stored as a Worker's secret, the call
 * `wrangler secret put` makes, and every such binding kept up to date when
 * the token's value changes (roll, a value rolled because no cache held
 * it, a token created again: worker_bindings.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "declared_ops.h"
#include "cache/l1.h"
#include "mint/declared.h"

#define DEFAULT_BINDING "CLOUDFLARE_API_TOKEN"

static const char *binding_name(const cli *c)
{
	return c->binding ? c->binding : DEFAULT_BINDING;
}

/* The declared token's account and value, and a client for the parent. */
typedef struct bind_ctx {
	const cft_profile *p;
	char account[CFT_ID_LEN + 1];
	cft_client *client;
	cft_l1_record r;
} bind_ctx;

static cft_code open_bind(const cli *c, bind_ctx *b, bool need_value, cft_error *err)
{
	memset(b, 0, sizeof(*b));
	cft_code rc = cli_profile(c, &b->p, err);
	if (!rc && !c->worker)
		rc = cft_fail(err, CFT_E_INVALID_ARG, "name the Worker: --worker NAME");
	if (!rc) {
		const char *a = b->p->account_id ? b->p->account_id : c->account_id;
		if (!a)
			rc = cft_fail(err, CFT_E_INVALID_ARG, "profile %.64s names no account",
				      b->p->name);
		else
			snprintf(b->account, sizeof(b->account), "%s", a);
	}
	if (!rc && need_value) {
		rc = cli_declared_token(c, b->p, b->account, NULL, NULL, 0, &b->r, err);
		if (rc == CFT_E_NOT_FOUND)
			rc = cft_fail(err, CFT_E_NOT_FOUND,
				      "profile %.64s has no declared token: run cftoken apply first",
				      b->p->name);
	}
	if (!rc)
		rc = cli_client(c, "parent token (one that may create tokens): ", true, &b->client,
				err);
	return rc;
}

static void close_bind(bind_ctx *b)
{
	b->client = cft_client_free(b->client);
	cft_l1_record_clear(&b->r);
}

int cmd_bind(const cli *c)
{
	bind_ctx b;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = open_bind(c, &b, true, &err);
	if (!rc)
		rc = cft_worker_secret_put(b.client, b.account, c->worker, binding_name(c),
					   b.r.token, &err);
	if (rc) {
		cli_explain_worker_rights("bind it to a Worker", rc, &err);
		cli_print_error("bind", &err);
		close_bind(&b);
		return cli_exit_code(rc);
	}
	rc = cft_binding_set(b.account, b.p->name, cli_api_url(c), c->worker, binding_name(c),
			     CFT_BINDING_OK, &err);
	if (rc) {
		cli_print_error("bind", &err);
		close_bind(&b);
		return cli_exit_code(rc);
	}
	printf("%s bound: token %s is Worker %s's secret %s\n", b.p->name, b.r.id, c->worker,
	       binding_name(c));
	/* Bindings a failed update left behind get their turn now. */
	int failed = cli_sync_bindings(c, b.client, b.account, b.p->name, b.r.token, true);
	close_bind(&b);
	return failed ? EXIT_API : EXIT_OK;
}

int cmd_unbind(const cli *c)
{
	bind_ctx b;
	cft_error err;
	cft_error_clear(&err);
	cft_code rc = open_bind(c, &b, false, &err);
	if (!rc) {
		rc = cft_worker_secret_delete(b.client, b.account, c->worker, binding_name(c), &err);
		if (rc == CFT_E_NOT_FOUND) {
			cft_error_clear(&err);
			rc = CFT_OK;
		}
	}
	if (!rc)
		rc = cft_binding_set(b.account, b.p->name, cli_api_url(c), c->worker,
				     binding_name(c), CFT_BINDING_GONE, &err);
	if (rc) {
		cli_explain_worker_rights("delete a Worker's secret", rc, &err);
		cli_print_error("unbind", &err);
		close_bind(&b);
		return cli_exit_code(rc);
	}
	printf("%s unbound: Worker %s has no secret %s any more\n", b.p->name, c->worker,
	       binding_name(c));
	close_bind(&b);
	return EXIT_OK;
}
