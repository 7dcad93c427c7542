/* A declared token's Worker bindings kept up to date: its new value put
 * into every Worker secret that holds it, and every such secret deleted
 * with the token.  A binding that fails to update is marked pending in the
 * state and retried at the next apply, bind or roll: it is reported,
 * never forgotten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "declared_ops.h"
#include "mint/declared.h"

/* The parent lacks "Workers Scripts Write": say so, not just "403". */
void cli_explain_worker_rights(const char *what, cft_code rc, cft_error *err)
{
	if (rc == CFT_E_FORBIDDEN || rc == CFT_E_AUTH_INVALID) {
		size_t n = strlen(err->detail);
		snprintf(err->detail + n, sizeof(err->detail) - n,
			 "%sthe parent token needs \"Workers Scripts Write\" on the account to %s",
			 n ? "; " : "", what);
	}
}

/* The profile's bindings; -1 (said on stderr) when the state is unreadable. */
static int load_bindings(const char *api, const char *account, const char *profile,
			 cft_binding **b, size_t *n)
{
	cft_error err;
	cft_error_clear(&err);
	if (cft_bindings_list(account, profile, api, b, n, &err) != CFT_OK) {
		cli_print_error("bindings", &err);
		return -1;
	}
	return 0;
}

int cli_sync_bindings(const cli *c, cft_client *client, const char *account,
		      const char *profile, const cft_secret *value, bool only_pending)
{
	cft_binding *b = NULL;
	size_t n = 0;
	int failed = 0;
	cft_error err;
	const char *api = cli_api_url(c);
	cft_error_clear(&err);
	if (load_bindings(api, account, profile, &b, &n) != 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (only_pending && !b[i].pending)
			continue;
		cft_code rc = cft_worker_secret_put(client, account, b[i].worker, b[i].name, value,
						    &err);
		cft_error ignored;
		cft_binding_set(account, profile, api, b[i].worker, b[i].name,
				rc ? CFT_BINDING_PENDING : CFT_BINDING_OK, &ignored);
		if (rc) {
			char msg[1024];
			cli_explain_worker_rights("update its secrets", rc, &err);
			cft_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "cftoken: warning: Worker %s's secret %s still holds the old "
				"value (%s); it is retried at the next apply, bind or roll\n",
				b[i].worker, b[i].name, msg);
			failed++;
		} else {
			fprintf(stderr, "cftoken: Worker %s's secret %s updated\n", b[i].worker,
				b[i].name);
		}
	}
	free(b);
	return failed;
}

int cli_unbind_all(const cli *c, cft_client *client, const char *account, const char *profile)
{
	cft_binding *b = NULL;
	size_t n = 0;
	int failed = 0;
	cft_error err;
	const char *api = cli_api_url(c);
	cft_error_clear(&err);
	if (load_bindings(api, account, profile, &b, &n) != 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		cft_code rc = cft_worker_secret_delete(client, account, b[i].worker, b[i].name, &err);
		if (rc && rc != CFT_E_NOT_FOUND) {
			char msg[1024];
			cli_explain_worker_rights("delete a Worker's secret", rc, &err);
			cft_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "cftoken: Worker %s's secret %s was not deleted: %s\n",
				b[i].worker, b[i].name, msg);
			failed++;
			continue;
		}
		cft_binding_set(account, profile, api, b[i].worker, b[i].name, CFT_BINDING_GONE,
				&err);
		fprintf(stderr, "cftoken: Worker %s's secret %s deleted\n", b[i].worker, b[i].name);
	}
	free(b);
	return failed;
}
