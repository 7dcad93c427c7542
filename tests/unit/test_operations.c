/* lib/api/operations.c over the table generated from data/api-operations.tsv:
 * which operation a request path is (specificity, no match, query, trailing
 * slash, percent-encoded segments) and the values of its placeholders. */
#include <string.h>

#include "api/operations.h"
#include "tap.h"

static const char *op_id(const char *method, const char *path)
{
	const struct cft_operation *op = cft_operation_match(method, path);

	if (!op)
		return "(none)";
	return op->operation_id ? op->operation_id : "(no operationId)";
}

static const char *tmpl(const char *method, const char *path)
{
	const struct cft_operation *op = cft_operation_match(method, path);

	return op ? op->template : "(none)";
}

/* The placeholder called name, as "value", or "(absent)". */
static const char *param(const char *method, const char *path, const char *name)
{
	static char buf[256];
	struct cft_operation_param p[CFT_OPERATION_MAX_PARAMS];
	const struct cft_operation *op = cft_operation_match(method, path);
	int n = op ? cft_operation_params(op, path, p, CFT_OPERATION_MAX_PARAMS) : -1;

	for (int i = 0; i < n; i++)
		if (p[i].name_len == strlen(name) && memcmp(p[i].name, name, p[i].name_len) == 0 &&
		    p[i].value_len < sizeof(buf)) {
			memcpy(buf, p[i].value, p[i].value_len);
			buf[p[i].value_len] = '\0';
			return buf;
		}
	return "(absent)";
}

static void test_match(void)
{
	tap_is_str(op_id("GET", "/zones"), "zones-get", "GET /zones is zones-get");
	tap_is_str(op_id("PUT", "/accounts/023e105f4ecef8ad9ca31a8372d0c353/workers/scripts/hello"),
		   "worker-script-upload-worker-module", "a script upload matches its template");
	tap_is_str(op_id("GET", "/accounts/a1/workers/scripts/hello/versions/v9"),
		   "worker-versions-get-version-detail", "three placeholders match");
	tap_is_str(op_id("DELETE", "/accounts/a1/workers/scripts/hello/secrets/API_KEY"),
		   "worker-delete-script-secret", "the method picks among rows of one path");

	const struct cft_operation *op = cft_operation_match("GET", "/zones");
	tap_ok(op && op->groups[0] && strcmp(op->groups[0], "Zone Read") == 0 && !op->groups[1],
	       "GET /zones accepts \"Zone Read\" alone (the schema's \"Zone Zone Read\")");
	op = cft_operation_match("GET", "/accounts/a1/workers/scripts/w/secrets");
	tap_ok(op && op->groups[0] && op->groups[1] && op->groups[2] && !op->groups[3] &&
		       strcmp(op->groups[2], "Workers Scripts Read") == 0 && !op->groups_unknown,
	       "the secrets list accepts three groups, in the schema's order");
	op = cft_operation_match("GET", "/accounts");
	tap_ok(op && !op->groups[0] && !op->groups_unknown, "GET /accounts needs no group");
	op = cft_operation_match("POST", "/accounts/a1/d1/database/d9/import");
	tap_ok(op && !op->groups[0] && op->groups_unknown,
	       "the D1 import's groups are unknown, not \"none\"");
	op = cft_operation_match("GET", "/accounts/a1/workers/services/hello");
	tap_ok(op && op->groups_unknown && !op->operation_id && op->source[0],
	       "a row the schema lacks has no operationId and says why in its source");
}

static void test_specificity(void)
{
	tap_is_str(op_id("GET", "/accounts/a1/tokens/verify"), "account-api-tokens-verify-token",
		   "/tokens/verify beats /tokens/{token_id}");
	tap_is_str(op_id("GET", "/accounts/a1/tokens/permission_groups"),
		   "account-api-tokens-list-permission-groups",
		   "/tokens/permission_groups beats /tokens/{token_id}");
	tap_is_str(op_id("GET", "/accounts/a1/tokens/ed17574386854bf78a67040be0a770b0"),
		   "account-api-tokens-token-details", "any other segment is a token id");
	tap_is_str(op_id("GET", "/user/tokens/verify"), "user-api-tokens-verify-token",
		   "the same for user-owned tokens");
	tap_is_str(op_id("PUT", "/user/tokens/t1/value"), "user-api-tokens-roll-token",
		   "a literal after a placeholder still matches");

	size_t count;
	const struct cft_operation *ops = cft_operations(&count);
	size_t reached = 0;
	for (size_t i = 0; i < count; i++)
		if (cft_operation_match(ops[i].method, ops[i].template) == &ops[i])
			reached++;
	tap_ok(count > 40 && reached == count,
	       "each of the %zu rows is the one its own template matches (%zu are)", count,
	       reached);
}

static void test_no_match(void)
{
	tap_is_str(tmpl("GET", "/nowhere"), "(none)", "an unknown path matches nothing");
	tap_is_str(tmpl("POST", "/zones"), "(none)", "a known path with another method: nothing");
	tap_is_str(tmpl("get", "/zones"), "(none)", "methods are compared as sent");
	tap_is_str(tmpl("GET", "/accounts/a1/workers/scripts"), "(none)",
		   "a prefix of a template is no match");
	tap_is_str(tmpl("GET", "/accounts/a1/workers/scripts/w/secrets/k/more"), "(none)",
		   "nor is a path longer than every template");
	tap_is_str(tmpl("GET", "/accounts//tokens"), "(none)",
		   "an empty segment fills no placeholder");
	tap_is_str(tmpl("GET", "zones"), "(none)", "a path must start with '/'");
	tap_is_str(tmpl("GET", ""), "(none)", "the empty path matches nothing");
	tap_is_str(tmpl("GET", "/"), "(none)", "nor does \"/\"");
	tap_ok(!cft_operation_match(NULL, "/zones") && !cft_operation_match("GET", NULL),
	       "NULL matches nothing");
}

static void test_query_and_slash(void)
{
	tap_is_str(op_id("GET", "/zones?name=example.com&account.id=a1&per_page=5"), "zones-get",
		   "the query is ignored");
	tap_is_str(op_id("DELETE", "/accounts/a1/workers/scripts/w/secrets/K?url_encoded=true"),
		   "worker-delete-script-secret", "and so is it after a placeholder");
	tap_is_str(param("DELETE", "/accounts/a1/workers/scripts/w/secrets/K?url_encoded=true",
			 "secret_name"),
		   "K", "a placeholder's value stops at the query");
	tap_is_str(op_id("GET", "/zones#frag"), "zones-get", "a fragment is ignored");
	tap_is_str(op_id("GET", "/zones/"), "zones-get", "one trailing '/' is ignored");
	tap_is_str(op_id("GET", "/zones/?name=x"), "zones-get", "also before a query");
	tap_is_str(tmpl("GET", "/zones//"), "(none)", "two are an empty segment");
	tap_is_str(param("GET", "/zones/z9/workers/routes/", "zone_id"), "z9",
		   "a trailing '/' is not part of the last value");
}

static void test_percent_encoding(void)
{
	const char *put = "/accounts/a1/storage/kv/namespaces/n1/values/dir%2Fkey%20one";

	tap_is_str(op_id("PUT", put), "workers-kv-namespace-write-key-value-pair-with-metadata",
		   "an encoded '/' stays inside its segment");
	tap_is_str(param("PUT", put, "key_name"), "dir%2Fkey%20one",
		   "the value is the segment as sent, still encoded");
	tap_is_str(tmpl("GET", "/accounts/a1/workers/%73ubdomain"), "(none)",
		   "an encoded literal is no match, not a guess");
}

static void test_params(void)
{
	const char *path = "/accounts/023e105f4ecef8ad9ca31a8372d0c353/workers/scripts/hello/"
			   "versions/v-9?x=1";
	const struct cft_operation *op = cft_operation_match("GET", path);
	struct cft_operation_param p[CFT_OPERATION_MAX_PARAMS];
	int n = cft_operation_params(op, path, p, CFT_OPERATION_MAX_PARAMS);

	tap_is_int(n, 3, "a version's path has three placeholders");
	tap_ok(n == 3 && p[0].name_len == 10 && memcmp(p[0].name, "account_id", 10) == 0 &&
		       p[0].value_len == 32 &&
		       memcmp(p[0].value, "023e105f4ecef8ad9ca31a8372d0c353", 32) == 0,
	       "the first is account_id, with the account's id");
	tap_ok(n == 3 && p[1].name_len == 11 && memcmp(p[1].name, "script_name", 11) == 0 &&
		       p[1].value_len == 5 && memcmp(p[1].value, "hello", 5) == 0,
	       "then script_name");
	tap_ok(n == 3 && p[2].name_len == 10 && memcmp(p[2].name, "version_id", 10) == 0 &&
		       p[2].value_len == 3 && memcmp(p[2].value, "v-9", 3) == 0,
	       "then version_id, up to the query");
	tap_is_int(cft_operation_params(op, path, p, 2), -1, "too little room is refused");
	tap_is_int(cft_operation_params(op, "/zones", p, CFT_OPERATION_MAX_PARAMS), -1,
		   "a path the operation does not match is refused");
	tap_is_int(cft_operation_params(cft_operation_match("GET", "/zones"), "/zones", p, 0), 0,
		   "an operation without placeholders has none");
	tap_is_str(param("GET", "/zones/z9/workers/routes", "zone_id"), "z9",
		   "a zone route's path names its zone");
	tap_is_str(param("GET", "/zones/z9/workers/routes", "account_id"), "(absent)",
		   "and no account");
}

int main(void)
{
	test_match();
	test_specificity();
	test_no_match();
	test_query_and_slash();
	test_percent_encoding();
	test_params();
	return tap_done();
}
