#include "api/envelope.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cleanup.h"

/* Cloudflare's codes that say the same thing whatever the status. */
enum {
	CF_INVALID_TOKEN = 1000,
	CF_ACCOUNT_TOKEN_REFUSED = 1001,
	CF_BAD_HEADERS = 6003,
	CF_BAD_AUTH_FORMAT = 6111,
	CF_NO_ROUTE = 7003,
	CF_AUTH_MISSING = 9106,
	CF_UNAUTHORIZED = 9109,
	CF_AUTH_ERROR = 10000,
	CF_RATE_LIMITED = 971,
};

static int has_code(const int *codes, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

cft_code cft_envelope_classify(long status, const int *codes, size_t n,
			       const char *message, cft_op op)
{
	const char *msg = message ? message : "";

	if (status == 429 || has_code(codes, n, CF_RATE_LIMITED))
		return CFT_E_RATE_LIMITED;
	if (status >= 500)
		return CFT_E_SERVER;
	if (strcasestr(msg, CFT_QUOTA_MESSAGE_FRAGMENT) && strcasestr(msg, "token"))
		return CFT_E_QUOTA;
	if (has_code(codes, n, CF_ACCOUNT_TOKEN_REFUSED))
		return CFT_E_ACCOUNT_TOKEN_REFUSED;
	if (has_code(codes, n, CF_BAD_HEADERS) || has_code(codes, n, CF_BAD_AUTH_FORMAT))
		return CFT_E_AUTH_HEADER;
	if (has_code(codes, n, CF_INVALID_TOKEN) || status == 401)
		return CFT_E_AUTH_INVALID;
	if (has_code(codes, n, CF_AUTH_MISSING))
		return op == CFT_OP_LIST_ACCOUNTS ? CFT_E_ACCOUNT_TOKEN_REFUSED : CFT_E_AUTH_HEADER;
	if (status == 403 || has_code(codes, n, CF_UNAUTHORIZED) ||
	    has_code(codes, n, CF_AUTH_ERROR)) {
		if (strcasestr(msg, "location"))
			return CFT_E_IP_RESTRICTED;
		return op == CFT_OP_CREATE_TOKEN ? CFT_E_CANNOT_CREATE : CFT_E_FORBIDDEN;
	}
	if (status == 404 || has_code(codes, n, CF_NO_ROUTE))
		return CFT_E_NOT_FOUND;
	if (status >= 400)
		return CFT_E_BAD_REQUEST;
	return CFT_E_MALFORMED;
}

/* Cloudflare's message, made safe to print: control characters dropped,
 * length capped by the destination. */
static void copy_message(char *dst, size_t size, const char *src)
{
	size_t j = 0;
	for (size_t i = 0; src[i] && j + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[j++] = (char)((c < 0x20 || c == 0x7f) ? ' ' : c);
	}
	dst[j] = '\0';
}

static void collect_errors(json_t *errors, cft_error *err)
{
	size_t i;
	json_t *e;

	if (!err || !json_is_array(errors))
		return;
	json_array_foreach(errors, i, e) {
		json_t *code = json_object_get(e, "code");
		json_t *msg = json_object_get(e, "message");
		if (json_is_integer(code) && err->n_cf_codes < CFT_ERROR_MAX_CF_CODES)
			err->cf_codes[err->n_cf_codes++] = (int)json_integer_value(code);
		if (json_is_string(msg) && !err->cf_message[0])
			copy_message(err->cf_message, sizeof(err->cf_message),
				     json_string_value(msg));
	}
}

static int is_json_type(const char *ct)
{
	/* "application/json; charset=utf-8", also "application/problem+json" */
	return strncasecmp(ct, "application/", 12) == 0 && strcasestr(ct, "json");
}

cft_code cft_envelope_parse(const cft_http_response *rs, cft_op op, json_t **root_out,
			    cft_error *err)
{
	json_error_t jerr = { 0 };  /* unset when there is no body to parse */
	int codes[CFT_ERROR_MAX_CF_CODES];
	size_t n_codes = 0;
	cft_error local;

	if (!err) {
		cft_error_clear(&local);
		err = &local;
	}
	cft_error_clear(err);
	err->http_status = rs->status;
	err->retry_after_s = rs->retry_after_s;

	json_auto_t *root = NULL;
	if (rs->len > 0 && rs->body)
		root = json_loadb(rs->body, rs->len, 0, &jerr);
	if (!json_is_object(root)) {
		cft_code code = cft_envelope_classify(rs->status, NULL, 0, NULL, op);
		/* A 502 page from a proxy is a server error first; only a 2xx
		 * that is not JSON is "malformed". */
		if (rs->status < 400 || code == CFT_E_BAD_REQUEST)
			code = CFT_E_MALFORMED;
		if (!rs->len)
			cft_fail(err, code, "empty answer");
		else if (!is_json_type(rs->content_type))
			cft_fail(err, code, "answer of type %.60s, not JSON",
				 rs->content_type[0] ? rs->content_type : "(none)");
		else if (!root)
			cft_fail(err, code, "invalid JSON at line %d column %d: %.80s",
				 jerr.line, jerr.column, jerr.text);
		else
			cft_fail(err, code, "the answer is not a JSON object");
		return code;
	}

	json_t *success = json_object_get(root, "success");
	collect_errors(json_object_get(root, "errors"), err);
	if (json_is_true(success) && rs->status >= 200 && rs->status < 300) {
		if (!json_object_get(root, "result"))
			return cft_fail(err, CFT_E_MALFORMED, "the answer has no result");
		err->http_status = 0;
		*root_out = TAKE_PTR(root);
		return CFT_OK;
	}
	if (!json_is_boolean(success) && rs->status < 400)
		return cft_fail(err, CFT_E_MALFORMED, "the answer has no success field");
	for (size_t i = 0; i < err->n_cf_codes; i++)
		codes[n_codes++] = err->cf_codes[i];
	cft_code code = cft_envelope_classify(rs->status, codes, n_codes,
					      err->cf_message, op);
	err->code = code;
	return code;
}
