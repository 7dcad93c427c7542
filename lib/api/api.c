#include "api/api.h"

#include <curl/curl.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/envelope.h"
#include "api/http.h"
#include "core/analyzer.h"
#include "core/timeutil.h"

#define PER_PAGE 50          /* the largest page the token list accepts */
#define MAX_PAGES 200        /* a broken server must not keep us paging */

struct cft_client {
	cft_http *http;
	cft_secret *token;
};

/* jansson keeps parsed strings (token values among them) in blocks it frees
 * itself: wipe each block before it goes back to malloc. */
void cft_json_wiping_free(void *p)
{
	if (!p)
		return;
	cft_wipe(p, malloc_usable_size(p));
	free(p);
}

cft_code cft_init(cft_error *err)
{
	static int done;
	if (done)
		return CFT_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cft_fail(err, CFT_E_INTERNAL, "curl_global_init failed");
	done = 1;
	return CFT_OK;
}

cft_code cft_client_new(const cft_client_options *opts, const cft_secret *token,
			cft_client **out, cft_error *err)
{
	cft_client_options none = { 0 };
	cft_code rc;

	if (!opts)
		opts = &none;
	if (!out)
		return cft_fail(err, CFT_E_INVALID_ARG, "no output");
	rc = cft_init(err);
	if (rc)
		return rc;
	cft_client *c = calloc(1, sizeof(*c));
	if (!c)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	cft_http_options ho = {
		.base_url = opts->api_url && *opts->api_url ? opts->api_url : CFT_DEFAULT_API_URL,
		.ca_file = opts->ca_file,
		.proxy = opts->proxy,
		.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : CFT_DEFAULT_TIMEOUT_MS,
		.max_response = opts->max_response,
	};
	rc = cft_http_new(&ho, &c->http, err);
	if (rc) {
		free(c);
		return rc;
	}
	if (token) {
		c->token = cft_secret_new(cft_secret_str(token), cft_secret_len(token));
		if (!c->token) {
			cft_client_free(c);
			return cft_fail(err, CFT_E_NOMEM, NULL);
		}
	}
	*out = c;
	return CFT_OK;
}

cft_client *cft_client_free(cft_client *c)
{
	if (!c)
		return NULL;
	cft_http_free(c->http);
	cft_secret_free(c->token);
	free(c);
	return NULL;
}

void cft_client_set_deadline(cft_client *c, int64_t deadline_ms)
{
	if (c)
		cft_http_set_deadline(c->http, deadline_ms);
}

const char *cft_client_api_url(const cft_client *c)
{
	return cft_http_base_url(c->http);
}

bool cft_is_id(const char *s)
{
	if (!s)
		return false;
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == CFT_ID_LEN;
}

/* "/accounts/<id>/tokens" or "/user/tokens", plus a suffix. */
static cft_code tokens_path(cft_owner owner, const char *suffix, char *buf, size_t size,
			    cft_error *err)
{
	int n;
	if (owner.account_id) {
		if (!cft_is_id(owner.account_id))
			return cft_fail(err, CFT_E_INVALID_ARG,
					"account id \"%.64s\" is not 32 hexadecimal characters",
					owner.account_id);
		n = snprintf(buf, size, "/accounts/%s/tokens%s", owner.account_id, suffix);
	} else {
		n = snprintf(buf, size, "/user/tokens%s", suffix);
	}
	if (n < 0 || (size_t)n >= size)
		return cft_fail(err, CFT_E_INTERNAL, "path too long");
	return CFT_OK;
}

static cft_code check_token_id(const char *token_id, cft_error *err)
{
	if (!cft_is_id(token_id))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"token id \"%.64s\" is not 32 hexadecimal characters",
				token_id ? token_id : "");
	return CFT_OK;
}

/* One request and its envelope.  *root gets the parsed answer. */
static cft_code call(cft_client *c, const char *method, const char *path, const char *body,
		     cft_op op, json_t **root, cft_error *err)
{
	cft_http_response rs = { .retry_after_s = -1 };
	cft_error_clear(err);
	cft_code rc = cft_http_call(c->http, method, path, body, c->token, &rs, err);
	if (rc == CFT_OK)
		rc = cft_envelope_parse(&rs, op, root, err);
	cft_http_response_clear(&rs);
	return rc;
}

static char *dup_string(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? strdup(s) : NULL;
}

static time_t get_time(json_t *obj, const char *key)
{
	time_t t = 0;
	const char *s = json_string_value(json_object_get(obj, key));
	if (s && cft_time_parse_rfc3339(s, &t) != 0)
		t = 0;
	return t;
}

static cft_code parse_token(json_t *obj, cft_token *t, cft_error *err)
{
	memset(t, 0, sizeof(*t));
	if (!json_is_object(obj) || !json_is_string(json_object_get(obj, "id")))
		return cft_fail(err, CFT_E_MALFORMED, "a token without an id");
	t->id = dup_string(obj, "id");
	t->name = dup_string(obj, "name");
	t->status = dup_string(obj, "status");
	t->issued_on = get_time(obj, "issued_on");
	t->modified_on = get_time(obj, "modified_on");
	t->last_used_on = get_time(obj, "last_used_on");
	t->not_before = get_time(obj, "not_before");
	t->expires_on = get_time(obj, "expires_on");
	json_t *pol = json_object_get(obj, "policies");
	t->policies_json = json_dumps(pol ? pol : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *cond = json_object_get(obj, "condition");
	if (json_is_object(cond) && json_object_size(cond) > 0)
		t->condition_json = json_dumps(cond, JSON_COMPACT);
	if (!t->id || !t->policies_json) {
		cft_token_clear(t);
		return cft_fail(err, CFT_E_NOMEM, NULL);
	}
	return CFT_OK;
}

void cft_token_clear(cft_token *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->status);
	free(t->policies_json);
	free(t->condition_json);
	memset(t, 0, sizeof(*t));
}

void cft_token_list_clear(cft_token_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		cft_token_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Accounts and permission groups are both lists of an id and a name we own:
 * one body for both types. */
#define ID_NAME_LIST_CLEAR(l)                                   \
	do {                                                    \
		if (!(l))                                       \
			break;                                  \
		for (size_t i = 0; i < (l)->n; i++) {           \
			free((l)->items[i].id);                 \
			free((l)->items[i].name);               \
		}                                               \
		free((l)->items);                               \
		(l)->items = NULL;                              \
		(l)->n = 0;                                     \
	} while (0)

void cft_account_list_clear(cft_account_list *l)
{
	ID_NAME_LIST_CLEAR(l);
}

void cft_perm_group_list_clear(cft_perm_group_list *l)
{
	ID_NAME_LIST_CLEAR(l);
}

/* A value of the API's token as a secret; the JSON string is wiped by the
 * allocator when the answer is freed. */
static cft_code take_value(json_t *v, cft_secret **out, cft_error *err)
{
	const char *s = json_string_value(v);
	if (!s)
		return cft_fail(err, CFT_E_MALFORMED, "the answer carries no token value");
	cft_error inner;
	cft_error_clear(&inner);
	if (cft_token_parse(s, json_string_length(v), out, &inner) != CFT_OK)
		return cft_fail(err, CFT_E_MALFORMED,
				"the API returned a token value of unexpected shape");
	return CFT_OK;
}

cft_code cft_token_verify(cft_client *c, cft_owner owner, cft_verify_result *out,
			  cft_error *err)
{
	char path[128];
	json_auto_t *root = NULL;
	cft_code rc = tokens_path(owner, "/verify", path, sizeof(path), err);
	if (!rc)
		rc = call(c, "GET", path, NULL, CFT_OP_OTHER, &root, err);
	if (rc)
		return rc;
	json_t *res = json_object_get(root, "result");
	const char *id = json_string_value(json_object_get(res, "id"));
	const char *status = json_string_value(json_object_get(res, "status"));
	if (!id || !status)
		return cft_fail(err, CFT_E_MALFORMED, "verify answer without id or status");
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->status, sizeof(out->status), "%s", status);
	out->not_before = get_time(res, "not_before");
	out->expires_on = get_time(res, "expires_on");
	if (strcmp(out->status, "expired") == 0)
		return cft_fail(err, CFT_E_TOKEN_EXPIRED, "token %s", out->id);
	return CFT_OK;
}

/* Recursive over a resource tree the caller built (tokenspec.c: an account
 * holding zones, two levels), never over input. */
static json_t *resources_json(const cft_resource *r, size_t n) /* NOLINT(misc-no-recursion) */
{
	json_auto_t *map = json_object();
	for (size_t i = 0; map && i < n; i++) {
		json_t *v = r[i].n_children ? resources_json(r[i].children, r[i].n_children)
					    : json_string("*");
		if (!v || json_object_set_new(map, r[i].key, v) != 0)
			return NULL;
	}
	return TAKE_PTR(map);
}

static json_t *strings_json(const char *const *v, size_t n)
{
	json_auto_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0)
			return NULL;
	return TAKE_PTR(a);
}

cft_code cft_token_spec_json(const cft_token_spec *spec, char **out, cft_error *err)
{
	char nb[CFT_RFC3339_SIZE], eo[CFT_RFC3339_SIZE];

	if (!spec || !spec->name || !*spec->name)
		return cft_fail(err, CFT_E_INVALID_ARG, "a token needs a name");
	if (spec->n_policies == 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "a token needs at least one policy");
	json_auto_t *body = json_object();
	json_t *policies = json_array();
	json_object_set_new(body, "name", json_string(spec->name));
	json_object_set_new(body, "policies", policies);
	for (size_t i = 0; i < spec->n_policies; i++) {
		const cft_policy_spec *p = &spec->policies[i];
		if (p->n_groups == 0 || p->n_resources == 0)
			return cft_fail(err, CFT_E_INVALID_ARG,
					"policy %zu needs permission groups and resources", i + 1);
		json_t *groups = json_array();
		for (size_t g = 0; g < p->n_groups; g++)
			json_array_append_new(groups, json_pack("{s:s}", "id", p->group_ids[g]));
		json_array_append_new(policies,
			json_pack("{s:s, s:o, s:o*}", "effect", p->deny ? "deny" : "allow",
				  "permission_groups", groups, "resources",
				  resources_json(p->resources, p->n_resources)));
	}
	if (spec->not_before) {
		cft_time_format_rfc3339(spec->not_before, nb);
		json_object_set_new(body, "not_before", json_string(nb));
	}
	if (spec->expires_on) {
		cft_time_format_rfc3339(spec->expires_on, eo);
		json_object_set_new(body, "expires_on", json_string(eo));
	}
	if (spec->n_ip_in || spec->n_ip_not_in) {
		json_t *ip = json_object();
		if (spec->n_ip_in)
			json_object_set_new(ip, "in", strings_json(spec->ip_in, spec->n_ip_in));
		if (spec->n_ip_not_in)
			json_object_set_new(ip, "not_in",
					    strings_json(spec->ip_not_in, spec->n_ip_not_in));
		json_object_set_new(body, "condition", json_pack("{s:o}", "request.ip", ip));
	}
	if (spec->status)
		json_object_set_new(body, "status", json_string(spec->status));
	*out = json_dumps(body, JSON_COMPACT);
	if (!*out)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	return CFT_OK;
}

cft_code cft_token_create(cft_client *c, cft_owner owner, const cft_token_spec *spec,
			  cft_token *info, cft_secret **value, cft_error *err)
{
	char path[128];
	char *body = NULL;
	json_auto_t *root = NULL;
	cft_code rc = tokens_path(owner, "", path, sizeof(path), err);
	if (!rc)
		rc = cft_token_spec_json(spec, &body, err);
	if (!rc)
		rc = call(c, "POST", path, body, CFT_OP_CREATE_TOKEN, &root, err);
	free(body);
	if (rc)
		return rc;
	json_t *res = json_object_get(root, "result");
	cft_token t;
	rc = parse_token(res, &t, err);
	if (!rc) {
		rc = take_value(json_object_get(res, "value"), value, err);
		if (rc)
			cft_token_clear(&t);
	}
	if (rc)
		return rc;
	if (info)
		*info = t;
	else
		cft_token_clear(&t);
	return CFT_OK;
}

/* Appends the array `result` of one page through `each`. */
typedef cft_code (*page_item_fn)(json_t *item, void *list, cft_error *err);

static cft_code list_pages(cft_client *c, const char *base_path, const char *query,
			   page_item_fn each, void *list, cft_error *err)
{
	char path[256];
	size_t seen = 0;
	for (int page = 1; page <= MAX_PAGES; page++) {
		json_auto_t *root = NULL;
		snprintf(path, sizeof(path), "%s?page=%d&per_page=%d%s", base_path, page, PER_PAGE,
			 query);
		cft_code rc = call(c, "GET", path, NULL,
				   strcmp(base_path, "/accounts") == 0 ? CFT_OP_LIST_ACCOUNTS
								       : CFT_OP_OTHER,
				   &root, err);
		if (rc)
			return rc;
		json_t *result = json_object_get(root, "result");
		if (!json_is_array(result))
			return cft_fail(err, CFT_E_MALFORMED, "a list answer without a list");
		size_t i, got = json_array_size(result);
		json_t *item;
		json_array_foreach(result, i, item) {
			rc = each(item, list, err);
			if (rc)
				return rc;
		}
		json_t *info = json_object_get(root, "result_info");
		json_t *total = json_object_get(info, "total_count");
		json_t *per_page = json_object_get(info, "per_page");
		seen += got;
		/* Compared as doubles: a negative or huge number in a broken
		 * answer converted to size_t is undefined behaviour. */
		double page_size = json_is_number(per_page) ? json_number_value(per_page) : PER_PAGE;
		bool all_seen = json_is_number(total) && (double)seen >= json_number_value(total);
		/* The schema's result_info has no total_pages: stop on a short
		 * page, or once total_count items have been seen. */
		if (got == 0 || (double)got < page_size || all_seen)
			return CFT_OK;
	}
	return cft_fail(err, CFT_E_MALFORMED, "more than %d pages", MAX_PAGES);
}

static cft_code add_token(json_t *item, void *list, cft_error *err)
{
	cft_token_list *l = list;
	cft_token *items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (!items)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	l->items = items;
	cft_code rc = parse_token(item, &l->items[l->n], err);
	if (!rc)
		l->n++;
	return rc;
}

cft_code cft_token_list_all(cft_client *c, cft_owner owner, cft_token_list *out,
			    cft_error *err)
{
	char path[128];
	memset(out, 0, sizeof(*out));
	cft_code rc = tokens_path(owner, "", path, sizeof(path), err);
	if (!rc)
		/* Expired tokens still count against the account's cap: show them. */
		rc = list_pages(c, path, "&include_expired=true", add_token, out, err);
	if (rc)
		cft_token_list_clear(out);
	return rc;
}

cft_code cft_token_get(cft_client *c, cft_owner owner, const char *token_id,
		       cft_token *out, cft_error *err)
{
	char path[160], suffix[40];
	json_auto_t *root = NULL;
	cft_code rc = check_token_id(token_id, err);
	if (rc)
		return rc;
	snprintf(suffix, sizeof(suffix), "/%s", token_id);
	rc = tokens_path(owner, suffix, path, sizeof(path), err);
	if (!rc)
		rc = call(c, "GET", path, NULL, CFT_OP_OTHER, &root, err);
	if (rc)
		return rc;
	rc = parse_token(json_object_get(root, "result"), out, err);
	return rc;
}

cft_code cft_token_update(cft_client *c, cft_owner owner, const char *token_id,
			  const cft_token_spec *spec, cft_token *out, cft_error *err)
{
	char path[160], suffix[40];
	char *body = NULL;
	json_auto_t *root = NULL;
	cft_code rc = check_token_id(token_id, err);
	if (rc)
		return rc;
	snprintf(suffix, sizeof(suffix), "/%s", token_id);
	rc = tokens_path(owner, suffix, path, sizeof(path), err);
	if (!rc)
		rc = cft_token_spec_json(spec, &body, err);
	if (!rc)
		rc = call(c, "PUT", path, body, CFT_OP_OTHER, &root, err);
	free(body);
	if (rc)
		return rc;
	cft_token t;
	rc = parse_token(json_object_get(root, "result"), &t, err);
	if (!rc && out)
		*out = t;
	else if (!rc)
		cft_token_clear(&t);
	return rc;
}

cft_code cft_token_delete(cft_client *c, cft_owner owner, const char *token_id,
			  cft_error *err)
{
	char path[160], suffix[40];
	json_auto_t *root = NULL;
	cft_code rc = check_token_id(token_id, err);
	if (rc)
		return rc;
	snprintf(suffix, sizeof(suffix), "/%s", token_id);
	rc = tokens_path(owner, suffix, path, sizeof(path), err);
	if (!rc)
		/* The official schema requires a JSON body on DELETE. */
		rc = call(c, "DELETE", path, "{}", CFT_OP_OTHER, &root, err);
	return rc;
}

cft_code cft_token_roll(cft_client *c, cft_owner owner, const char *token_id,
			cft_secret **value, cft_error *err)
{
	char path[160], suffix[48];
	json_auto_t *root = NULL;
	cft_code rc = check_token_id(token_id, err);
	if (rc)
		return rc;
	snprintf(suffix, sizeof(suffix), "/%s/value", token_id);
	rc = tokens_path(owner, suffix, path, sizeof(path), err);
	if (!rc)
		rc = call(c, "PUT", path, "{}", CFT_OP_OTHER, &root, err);
	if (rc)
		return rc;
	rc = take_value(json_object_get(root, "result"), value, err);
	return rc;
}

static unsigned scope_bit(const char *s)
{
	if (!s)
		return 0;
	if (strcmp(s, "com.cloudflare.api.account") == 0)
		return CFT_SCOPE_ACCOUNT;
	if (strcmp(s, "com.cloudflare.api.account.zone") == 0)
		return CFT_SCOPE_ZONE;
	if (strcmp(s, "com.cloudflare.api.user") == 0)
		return CFT_SCOPE_USER;
	if (strcmp(s, "com.cloudflare.edge.r2.bucket") == 0)
		return CFT_SCOPE_R2_BUCKET;
	return CFT_SCOPE_OTHER;
}

/* Both append to a list (analyzer.h): the list owns the strings, and
 * frees them on failure too. */
CFT_ANALYZER_ARRAY_STORES_BEGIN
cft_code cft_permission_groups(cft_client *c, cft_owner owner, cft_perm_group_list *out,
			       cft_error *err)
{
	char path[160];
	json_auto_t *root = NULL;
	memset(out, 0, sizeof(*out));
	cft_code rc = tokens_path(owner, "/permission_groups", path, sizeof(path), err);
	if (!rc)
		rc = call(c, "GET", path, NULL, CFT_OP_OTHER, &root, err);
	if (rc)
		return rc;
	json_t *result = json_object_get(root, "result");
	size_t n = json_array_size(result), i;
	if (!json_is_array(result))
		return cft_fail(err, CFT_E_MALFORMED, "permission groups answer without a list");
	out->items = calloc(n ? n : 1, sizeof(*out->items));
	if (!out->items)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	json_t *g;
	json_array_foreach(result, i, g) {
		const char *id = json_string_value(json_object_get(g, "id"));
		const char *name = json_string_value(json_object_get(g, "name"));
		if (!id || !name)
			continue;  /* tolerate a stray entry rather than fail the list */
		cft_perm_group *pg = &out->items[out->n];
		pg->id = strdup(id);
		pg->name = strdup(name);
		json_t *scopes = json_object_get(g, "scopes"), *sc;
		size_t k;
		if (json_is_string(scopes))
			pg->scopes = scope_bit(json_string_value(scopes));
		json_array_foreach(scopes, k, sc)
			pg->scopes |= scope_bit(json_string_value(sc));
		out->n++;
		if (!pg->id || !pg->name) {
			cft_perm_group_list_clear(out);
			return cft_fail(err, CFT_E_NOMEM, NULL);
		}
	}
	return CFT_OK;
}

static cft_code add_account(json_t *item, void *list, cft_error *err)
{
	cft_account_list *l = list;
	const char *id = json_string_value(json_object_get(item, "id"));
	const char *name = json_string_value(json_object_get(item, "name"));
	if (!id)
		return cft_fail(err, CFT_E_MALFORMED, "an account without an id");
	cft_account *items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (!items)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	l->items = items;
	l->items[l->n].id = strdup(id);
	l->items[l->n].name = strdup(name ? name : "");
	l->n++;
	if (!l->items[l->n - 1].id || !l->items[l->n - 1].name)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	return CFT_OK;
}
CFT_ANALYZER_ARRAY_STORES_END

cft_code cft_accounts_list(cft_client *c, cft_account_list *out, cft_error *err)
{
	memset(out, 0, sizeof(*out));
	cft_code rc = list_pages(c, "/accounts", "", add_account, out, err);
	if (rc)
		cft_account_list_clear(out);
	return rc;
}

bool cft_is_zone_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool dot = false;
	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.')
			dot = true;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return dot;
}

cft_code cft_zone_id(cft_client *c, const char *account_id, const char *name_or_id,
		     char out[CFT_ID_LEN + 1], cft_error *err)
{
	char path[400], name[254];
	json_auto_t *root = NULL;

	if (strcmp(name_or_id, "*") == 0 || cft_is_id(name_or_id)) {
		snprintf(out, CFT_ID_LEN + 1, "%s", name_or_id);
		return CFT_OK;
	}
	if (!cft_is_zone_name(name_or_id))
		return cft_fail(err, CFT_E_INVALID_ARG, "\"%.64s\" is neither a zone id nor a zone name",
				name_or_id);
	if (!cft_is_id(account_id))
		return cft_fail(err, CFT_E_INVALID_ARG, "finding a zone by name needs the account id");
	/* Zone names are case-insensitive; the API stores them lower-case. */
	size_t i = 0;
	for (; name_or_id[i] && i + 1 < sizeof(name); i++)
		name[i] = (char)((name_or_id[i] >= 'A' && name_or_id[i] <= 'Z') ? name_or_id[i] + 32
									      : name_or_id[i]);
	name[i] = '\0';
	snprintf(path, sizeof(path), "/zones?name=%s&account.id=%s&per_page=5", name, account_id);
	cft_code rc = call(c, "GET", path, NULL, CFT_OP_OTHER, &root, err);
	if (rc)
		return rc;
	json_t *result = json_object_get(root, "result"), *z;
	size_t k;
	rc = cft_fail(err, CFT_E_NOT_FOUND,
		      "no zone %s in account %s that this token can see (finding a zone by name "
		      "needs \"Zone Read\" on it; or give the zone id)", name, account_id);
	json_array_foreach(result, k, z) {
		const char *zn = json_string_value(json_object_get(z, "name"));
		const char *id = json_string_value(json_object_get(z, "id"));
		if (zn && id && strcmp(zn, name) == 0 && cft_is_id(id)) {
			snprintf(out, CFT_ID_LEN + 1, "%s", id);
			cft_error_clear(err);
			rc = CFT_OK;
			break;
		}
	}
	return rc;
}

cft_code cft_zone_ids(cft_client *c, const char *account_id, const char *const *names,
		      size_t n, char (*ids)[CFT_ID_LEN + 1], const char **ptrs, cft_error *err)
{
	for (size_t i = 0; i < n; i++) {
		cft_code rc = cft_zone_id(c, account_id, names[i], ids[i], err);
		if (rc)
			return rc;
		ptrs[i] = ids[i];
	}
	return CFT_OK;
}

bool cft_worker_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= 63 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

bool cft_binding_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= 64 && !(s[0] >= '0' && s[0] <= '9') &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static cft_code secrets_path(const char *account_id, const char *script, const char *name,
			     char *buf, size_t size, cft_error *err)
{
	if (!cft_is_id(account_id))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"account id \"%.64s\" is not 32 hexadecimal characters",
				account_id ? account_id : "");
	if (!cft_worker_name_valid(script))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"Worker name \"%.64s\": use lowercase letters, digits, '-' and '_'",
				script ? script : "");
	if (name && !cft_binding_name_valid(name))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"binding name \"%.64s\": use letters, digits and '_'", name);
	snprintf(buf, size, "/accounts/%s/workers/scripts/%s/secrets%s%s", account_id, script,
		 name ? "/" : "", name ? name : "");
	return CFT_OK;
}

cft_code cft_worker_secret_put(cft_client *c, const char *account_id, const char *script,
			       const char *name, const cft_secret *text, cft_error *err)
{
	char path[256];
	json_auto_t *root = NULL;
	cft_code rc = secrets_path(account_id, script, NULL, path, sizeof(path), err);
	if (!rc && !cft_binding_name_valid(name))
		rc = cft_fail(err, CFT_E_INVALID_ARG,
			      "binding name \"%.64s\": use letters, digits and '_'", name ? name : "");
	if (rc)
		return rc;
	/* The value is a token, [A-Za-z0-9_-]: nothing to escape, and the
	 * body never leaves locked memory. */
	_cleanup_secret_ cft_secret *body = cft_secret_alloc(256 + cft_secret_len(text));
	if (!body)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	int n = snprintf(cft_secret_buffer(body), cft_secret_capacity(body),
			 "{\"name\":\"%s\",\"text\":\"%s\",\"type\":\"secret_text\"}", name,
			 cft_secret_str(text));
	cft_secret_set_len(body, (size_t)n);
	rc = call(c, "PUT", path, cft_secret_str(body), CFT_OP_OTHER, &root, err);
	return rc;
}

cft_code cft_worker_secret_delete(cft_client *c, const char *account_id, const char *script,
				  const char *name, cft_error *err)
{
	char path[256];
	json_auto_t *root = NULL;
	cft_code rc = secrets_path(account_id, script, name, path, sizeof(path), err);
	if (!rc)
		rc = call(c, "DELETE", path, NULL, CFT_OP_OTHER, &root, err);
	return rc;
}
