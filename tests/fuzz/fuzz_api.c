/* libFuzzer target: the API answer parsers.  lib/api/envelope.c (the envelope,
 * errors and their classification) and the result readers of lib/api/api.c
 * (token objects, lists paged by result_info, permission groups, verify,
 * roll, accounts, zones), with lib/core/error.c's formatting of what they fail
 * with and lib/config/policy.c resolving names against a fuzzed group list.
 *
 * The transport is replaced: this file defines cft_http_new / _call /
 * _free / _response_clear / _set_deadline (lib/api/http.c is not linked), and each call
 * answers the next HTTP answer of the input.  Input:
 *
 *   OP ANSWER [ '\0' ANSWER ]...
 *   ANSWER = STATUS(3 digits) CTYPE(1 letter) BODY
 *
 * OP picks the API call (see `ops`); CTYPE is j application/json,
 * p application/problem+json, h text/html, n none.  A missing or
 * non-numeric status is 200.  When the answers run out, the transport
 * fails as a closed connection would. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/envelope.h"
#include "api/http.h"
#include "config/policy.h"
#include "core/error.h"
#include "core/secret.h"

/* ---- the transport: answers from the input -------------------------- */

struct cft_http {
	int unused;
};

static const uint8_t *answers;      /* what is left of the input */
static size_t answers_len;
static int answers_done;

cft_code cft_http_new(const cft_http_options *opts, cft_http **out, cft_error *err)
{
	(void)opts;
	*out = calloc(1, sizeof(**out));
	return *out ? CFT_OK : cft_fail(err, CFT_E_NOMEM, NULL);
}

cft_http *cft_http_free(cft_http *h)
{
	free(h);
	return NULL;
}

/* Every answer comes at once: no deadline to keep. */
void cft_http_set_deadline(cft_http *h, int64_t deadline_ms)
{
	(void)h;
	(void)deadline_ms;
}

const char *cft_http_base_url(const cft_http *h)
{
	(void)h;
	return "https://api.cloudflare.com/client/v4";
}

void cft_http_response_clear(cft_http_response *rs)
{
	if (!rs)
		return;
	if (rs->body)
		cft_wipe(rs->body, rs->cap);
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
	rs->retry_after_s = -1;
}

/* Splits the next answer off the input into *rs. */
static int next_answer(cft_http_response *rs)
{
	if (answers_done)
		return -1;
	const uint8_t *end = memchr(answers, '\0', answers_len);
	size_t n = end ? (size_t)(end - answers) : answers_len;
	const uint8_t *a = answers;
	if (end) {
		answers += n + 1;
		answers_len -= n + 1;
	} else {
		answers_done = 1;
	}
	rs->status = 200;
	if (n >= 3 && a[0] >= '0' && a[0] <= '9' && a[1] >= '0' && a[1] <= '9' && a[2] >= '0' &&
	    a[2] <= '9') {
		rs->status = (a[0] - '0') * 100 + (a[1] - '0') * 10 + (a[2] - '0');
		a += 3;
		n -= 3;
	}
	const char *ct = "application/json; charset=utf-8";
	if (n >= 1) {
		switch (a[0]) {
		case 'p': ct = "application/problem+json"; break;
		case 'h': ct = "text/html"; break;
		case 'n': ct = ""; break;
		default: break;
		}
		a++;
		n--;
	}
	snprintf(rs->content_type, sizeof(rs->content_type), "%s", ct);
	/* Like lib/api/http.c: the body NUL-terminated, exactly as long as sent. */
	rs->body = malloc(n + 1);
	if (!rs->body)
		return -1;
	memcpy(rs->body, a, n);
	rs->body[n] = '\0';
	rs->len = n;
	rs->cap = n + 1;
	rs->retry_after_s = rs->status == 429 ? 7 : -1;
	rs->attempts = 1;
	return 0;
}

cft_code cft_http_call(cft_http *h, const char *method, const char *path, const char *body,
		       const cft_secret *bearer, cft_http_response *rs, cft_error *err)
{
	(void)h;
	(void)bearer;
	/* What the client sends is built by lib/api/api.c: it must be a string. */
	if (!method || !path || path[0] != '/' || (body && strlen(body) > (1u << 20)))
		abort();
	if (next_answer(rs) != 0)
		return cft_fail(err, CFT_E_NETWORK, "connection closed");
	return CFT_OK;
}

/* ---- the calls ------------------------------------------------------- */

#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define TOKEN_ID "fedcba9876543210fedcba9876543210"

static void check_error(cft_code rc, const cft_error *err)
{
	char buf[1024];
	if (rc == CFT_OK)
		return;
	if (err->code != rc)
		abort();  /* the returned code and err->code must agree */
	cft_error_format(err, buf, sizeof(buf));
	if (strlen(buf) >= sizeof(buf))
		abort();
	(void)cft_error_is_transient(err);
	(void)cft_error_hint(rc);
	/* Cloudflare's message is made printable before it is kept. */
	for (const char *p = err->cf_message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void check_token(const cft_token *t)
{
	if (!t->id || !t->policies_json)
		abort();
	(void)strlen(t->id);
	if (t->name)
		(void)strlen(t->name);
	if (t->condition_json)
		(void)strlen(t->condition_json);
}

/* One client for the whole run: its token copy lives in a locked mapping,
 * and a mapping per input would cost more than the parsing. */
static cft_client *client(void)
{
	static cft_client *c;
	if (c)
		return c;
	cft_secret *parent = cft_secret_new("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", 45);
	cft_client_options o = { .api_url = "https://127.0.0.1:1/client/v4" };
	if (!parent || cft_client_new(&o, parent, &c, NULL) != CFT_OK)
		abort();
	cft_secret_free(parent);
	return c;
}

static void op_envelope(void)
{
	static const cft_op kinds[] = { CFT_OP_OTHER, CFT_OP_CREATE_TOKEN, CFT_OP_LIST_ACCOUNTS };
	cft_http_response rs = { .retry_after_s = -1 };
	if (next_answer(&rs) != 0)
		return;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		json_t *root = NULL;
		cft_error err;
		cft_code rc = cft_envelope_parse(&rs, kinds[i], &root, &err);
		if (rc == CFT_OK && (!json_is_object(root) || !json_object_get(root, "result")))
			abort();
		check_error(rc, &err);
		json_decref(root);
	}
	cft_http_response_clear(&rs);
}

static void op_verify(cft_client *c)
{
	cft_verify_result v;
	cft_error err;
	check_error(cft_token_verify(c, CFT_ACCOUNT_OWNED(ACCOUNT), &v, &err), &err);
}

static void op_create(cft_client *c)
{
	static const char *const groups[] = { "e086da7e2179491d91ee5f35b3ca210a" };
	static const cft_resource acct = { .key = "com.cloudflare.api.account." ACCOUNT };
	static const cft_policy_spec pol = { .group_ids = groups, .n_groups = 1,
					     .resources = &acct, .n_resources = 1 };
	static const cft_token_spec spec = { .name = "cftoken fuzz", .policies = &pol,
					     .n_policies = 1, .expires_on = 1795366800 };
	cft_token t;
	cft_secret *value = NULL;
	cft_error err;
	cft_code rc = cft_token_create(c, CFT_ACCOUNT_OWNED(ACCOUNT), &spec, &t, &value, &err);
	check_error(rc, &err);
	if (rc == CFT_OK) {
		check_token(&t);
		if (!value || cft_secret_len(value) < CFT_TOKEN_MIN_LEN ||
		    cft_secret_len(value) > CFT_TOKEN_MAX_LEN)
			abort();
		cft_token_clear(&t);
		cft_secret_free(value);
	}
}

static void op_list(cft_client *c, cft_owner owner)
{
	cft_token_list l;
	cft_error err;
	cft_code rc = cft_token_list_all(c, owner, &l, &err);
	check_error(rc, &err);
	if (rc == CFT_OK) {
		for (size_t i = 0; i < l.n; i++)
			check_token(&l.items[i]);
		cft_token_list_clear(&l);
	} else if (l.items || l.n) {
		abort();  /* nothing is left behind on failure */
	}
}

static void op_get(cft_client *c)
{
	cft_token t;
	cft_error err;
	cft_code rc = cft_token_get(c, CFT_USER_OWNED, TOKEN_ID, &t, &err);
	check_error(rc, &err);
	if (rc == CFT_OK) {
		check_token(&t);
		cft_token_clear(&t);
	}
}

static void op_update(cft_client *c)
{
	static const char *const groups[] = { "c8fed203ed3043cba015a93ad1616f1f" };
	static const cft_resource zone = { .key = "com.cloudflare.api.account.zone.*" };
	static const cft_resource acct = { .key = "com.cloudflare.api.account." ACCOUNT,
					   .children = &zone, .n_children = 1 };
	static const cft_policy_spec pol = { .group_ids = groups, .n_groups = 1,
					     .resources = &acct, .n_resources = 1 };
	static const char *const ips[] = { "192.0.2.0/24" };
	static const cft_token_spec spec = { .name = "cftoken fuzz", .policies = &pol,
					     .n_policies = 1, .ip_in = ips, .n_ip_in = 1,
					     .status = "active" };
	cft_token t;
	cft_error err;
	cft_code rc = cft_token_update(c, CFT_ACCOUNT_OWNED(ACCOUNT), TOKEN_ID, &spec, &t, &err);
	check_error(rc, &err);
	if (rc == CFT_OK) {
		check_token(&t);
		cft_token_clear(&t);
	}
}

static void op_delete(cft_client *c)
{
	cft_error err;
	check_error(cft_token_delete(c, CFT_ACCOUNT_OWNED(ACCOUNT), TOKEN_ID, &err), &err);
}

static void op_roll(cft_client *c)
{
	cft_secret *value = NULL;
	cft_error err;
	cft_code rc = cft_token_roll(c, CFT_ACCOUNT_OWNED(ACCOUNT), TOKEN_ID, &value, &err);
	check_error(rc, &err);
	if (rc == CFT_OK && !value)
		abort();
	cft_secret_free(value);
}

static void op_groups(cft_client *c)
{
	static const struct {
		const char *name;
		unsigned scope;
	} want[] = {
		{ "Workers Scripts Write", CFT_SCOPE_ACCOUNT | CFT_SCOPE_ZONE },
		{ "zone read", CFT_SCOPE_ZONE },
		{ "Logs  Edit", CFT_SCOPE_ACCOUNT | CFT_SCOPE_ZONE },
		{ "Logs Write", CFT_SCOPE_ZONE },
		{ "Workers Scrpits Write", 0 },
	};
	cft_perm_group_list l;
	cft_error err;
	cft_code rc = cft_permission_groups(c, CFT_ACCOUNT_OWNED(ACCOUNT), &l, &err);
	check_error(rc, &err);
	if (rc != CFT_OK)
		return;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const cft_perm_group *g = NULL;
		rc = cft_perm_resolve(&l, want[i].name, want[i].scope, &g, &err);
		check_error(rc, &err);
		if (rc == CFT_OK && (!g || g < l.items || g >= l.items + l.n))
			abort();
	}
	cft_perm_group_list_clear(&l);
}

static void op_accounts(cft_client *c)
{
	cft_account_list l;
	cft_error err;
	cft_code rc = cft_accounts_list(c, &l, &err);
	check_error(rc, &err);
	if (rc == CFT_OK)
		cft_account_list_clear(&l);
}

static void op_zone(cft_client *c)
{
	char id[CFT_ID_LEN + 1];
	cft_error err;
	cft_code rc = cft_zone_id(c, ACCOUNT, "Example.com", id, &err);
	check_error(rc, &err);
	if (rc == CFT_OK && !cft_is_id(id))
		abort();
}

static void op_worker_secret(cft_client *c)
{
	cft_secret *text = cft_secret_new("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789zz", 44);
	cft_error err;
	if (!text)
		abort();
	check_error(cft_worker_secret_put(c, ACCOUNT, "my-worker", "CLOUDFLARE_API_TOKEN", text,
					  &err), &err);
	cft_secret_free(text);
	check_error(cft_worker_secret_delete(c, ACCOUNT, "my-worker", "CLOUDFLARE_API_TOKEN", &err),
		    &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int allocator_set;
	if (!allocator_set) {
		/* As cftoken's programs set it: the wiping free runs under ASan. */
		json_set_alloc_funcs(malloc, cft_json_wiping_free);
		allocator_set = 1;
	}
	if (size < 1)
		return 0;
	answers = data + 1;
	answers_len = size - 1;
	answers_done = 0;
	char op = (char)data[0];
	if (op == 'e') {
		op_envelope();
		return 0;
	}
	cft_client *c = client();
	switch (op) {
	case 'v': op_verify(c); break;
	case 'c': op_create(c); break;
	case 'l': op_list(c, CFT_ACCOUNT_OWNED(ACCOUNT)); break;
	case 'L': op_list(c, CFT_USER_OWNED); break;
	case 'g': op_get(c); break;
	case 'u': op_update(c); break;
	case 'd': op_delete(c); break;
	case 'r': op_roll(c); break;
	case 'p': op_groups(c); break;
	case 'a': op_accounts(c); break;
	case 'z': op_zone(c); break;
	case 'w': op_worker_secret(c); break;
	default: op_list(c, CFT_ACCOUNT_OWNED(ACCOUNT)); break;
	}
	return 0;
}
