/* Cloudflare's envelope to one error: every row of API.md's error table. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "api/envelope.h"

static cft_code parse(long status, const char *ctype, const char *body, cft_op op,
		      cft_error *err, json_t **root)
{
	cft_http_response rs = { .status = status, .retry_after_s = -1 };
	rs.body = (char *)body;
	rs.len = strlen(body);
	snprintf(rs.content_type, sizeof(rs.content_type), "%s", ctype);
	*root = NULL;
	return cft_envelope_parse(&rs, op, root, err);
}

#define FAIL(code, msg) \
	"{\"success\":false,\"errors\":[{\"code\":" #code ",\"message\":\"" msg "\"}]," \
	"\"messages\":[],\"result\":null}"

int main(void)
{
	cft_error err;
	json_t *root;
	const char *json = "application/json; charset=utf-8";

	tap_is_int(parse(200, json, "{\"success\":true,\"errors\":[],\"messages\":[],"
		   "\"result\":{\"id\":\"x\"}}", CFT_OP_OTHER, &err, &root), CFT_OK,
		   "a success envelope parses");
	tap_is_str(json_string_value(json_object_get(json_object_get(root, "result"), "id")),
		   "x", "and gives its result");
	json_decref(root);

	static const struct {
		long status;
		const char *body;
		cft_op op;
		cft_code want;
		const char *what;
	} rows[] = {
		{ 401, FAIL(1000, "Invalid API Token"), CFT_OP_OTHER, CFT_E_AUTH_INVALID,
		  "401/1000 is an invalid token" },
		{ 400, FAIL(1000, "Invalid API Token"), CFT_OP_OTHER, CFT_E_AUTH_INVALID,
		  "400/1000 (also seen) is an invalid token" },
		{ 400, FAIL(6003, "Invalid request headers"), CFT_OP_OTHER, CFT_E_AUTH_HEADER,
		  "6003 is a malformed header" },
		{ 403, FAIL(9109, "Unauthorized to access requested resource"), CFT_OP_CREATE_TOKEN,
		  CFT_E_CANNOT_CREATE, "403 on create means the parent may not create tokens" },
		{ 403, FAIL(9109, "Unauthorized to access requested resource"), CFT_OP_OTHER,
		  CFT_E_FORBIDDEN, "403 elsewhere is a missing permission" },
		{ 403, FAIL(10000, "Authentication error"), CFT_OP_OTHER, CFT_E_FORBIDDEN,
		  "403/10000 is a token not valid for this resource" },
		{ 403, FAIL(9109, "Cannot use the access token from location: 127.0.0.1"),
		  CFT_OP_OTHER, CFT_E_IP_RESTRICTED, "the IP condition is recognised" },
		{ 404, FAIL(7003, "Could not route to /accounts/x/tokens"), CFT_OP_OTHER,
		  CFT_E_NOT_FOUND, "7003 is a wrong id" },
		{ 400, FAIL(1001, "List accounts endpoint does not support account owned tokens"),
		  CFT_OP_LIST_ACCOUNTS, CFT_E_ACCOUNT_TOKEN_REFUSED, "1001 asks for the account id" },
		{ 400, FAIL(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"),
		  CFT_OP_LIST_ACCOUNTS, CFT_E_ACCOUNT_TOKEN_REFUSED,
		  "9106 on a listing is an account token refused" },
		{ 429, FAIL(971, "Please wait and consider throttling your request speed"),
		  CFT_OP_OTHER, CFT_E_RATE_LIMITED, "429/971 is rate limiting" },
		{ 503, FAIL(1200, "Service unavailable"), CFT_OP_OTHER, CFT_E_SERVER,
		  "503 is a server error" },
		{ 400, FAIL(1005, "You have reached the maximum number of API tokens"),
		  CFT_OP_CREATE_TOKEN, CFT_E_QUOTA, "the quota is recognised by its message" },
		{ 400, FAIL(6007, "Malformed JSON in request body"), CFT_OP_OTHER,
		  CFT_E_BAD_REQUEST, "another 400 is a refused request" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cft_code got = parse(rows[i].status, json, rows[i].body, rows[i].op, &err, &root);
		tap_is_int(got, rows[i].want, "%s", rows[i].what);
		tap_is_int(err.http_status, rows[i].status, "  keeps HTTP %ld", rows[i].status);
		tap_ok(err.n_cf_codes == 1, "  keeps Cloudflare's code");
		tap_ok(root == NULL, "  returns no result");
	}

	parse(401, json, FAIL(1000, "Invalid API Token"), CFT_OP_OTHER, &err, &root);
	char msg[1024];
	cft_error_format(&err, msg, sizeof(msg));
	tap_contains(msg, "invalid, revoked or expired", "the message says what 1000 means");
	tap_contains(msg, "code 1000", "and carries the code");
	tap_contains(msg, "HTTP 401", "and the status");

	tap_is_int(parse(200, "text/html", "<html>portal</html>", CFT_OP_OTHER, &err, &root),
		   CFT_E_MALFORMED, "HTML instead of JSON is malformed");
	tap_contains(err.detail, "text/html", "and the detail names the type");
	tap_is_int(parse(200, json, "{\"success\": tru", CFT_OP_OTHER, &err, &root),
		   CFT_E_MALFORMED, "truncated JSON is malformed");
	tap_contains(err.detail, "invalid JSON", "and says why");
	tap_is_int(parse(200, json, "", CFT_OP_OTHER, &err, &root), CFT_E_MALFORMED,
		   "an empty 200 is malformed");
	tap_is_int(parse(200, json, "[1,2]", CFT_OP_OTHER, &err, &root), CFT_E_MALFORMED,
		   "a JSON array is not an envelope");
	tap_is_int(parse(200, json, "{\"success\":true,\"errors\":[]}", CFT_OP_OTHER, &err, &root),
		   CFT_E_MALFORMED, "success without result is malformed");
	tap_is_int(parse(502, "text/html", "<html>Bad gateway</html>", CFT_OP_OTHER, &err, &root),
		   CFT_E_SERVER, "a proxy's 502 page is a server error, not malformed");
	tap_is_int(parse(429, "text/plain", "", CFT_OP_OTHER, &err, &root), CFT_E_RATE_LIMITED,
		   "a 429 without a body is still rate limiting");

	/* Control characters from the server do not reach a terminal. */
	parse(400, json, "{\"success\":false,\"errors\":[{\"code\":1,\"message\":\"a\\u001b[2Jb\"}],"
	      "\"messages\":[],\"result\":null}", CFT_OP_OTHER, &err, &root);
	tap_ok(strchr(err.cf_message, 0x1b) == NULL, "escape characters are dropped from messages");
	return tap_done();
}
