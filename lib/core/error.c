#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *phrase;
	const char *hint;
} messages[CFT__CODE_MAX] = {
	[CFT_OK] = { "success", "" },
	[CFT_E_NOMEM] = { "out of memory", "" },
	[CFT_E_INVALID_ARG] = { "invalid value", "" },
	[CFT_E_TOKEN_FORMAT] = { "this does not look like a Cloudflare API token",
		"An API token is 40 characters, or starts with cfat_ or cfut_; "
		"copy it again from the dashboard (My Profile > API Tokens)." },
	[CFT_E_GLOBAL_API_KEY] = { "this is a legacy Global API Key, not an API token",
		"Global API Keys carry every right of the user and are refused. "
		"Create an API token with \"Account API Tokens Write\" in the dashboard "
		"and use that instead." },
	[CFT_E_NETWORK] = { "could not reach the Cloudflare API",
		"Check the network connection, proxy settings and the API URL." },
	[CFT_E_TLS] = { "the TLS connection to the API could not be verified",
		"The server's certificate is not trusted, has expired or names another host. "
		"If a proxy or test server is intended, give its CA with ca_file or "
		"CFTOKEN_CA_FILE; verification is never switched off." },
	[CFT_E_TIMEOUT] = { "the Cloudflare API did not answer in time",
		"Try again later, or raise the timeout." },
	[CFT_E_MALFORMED] = { "the API sent an answer that is not valid Cloudflare JSON",
		"A proxy or captive portal may be in the way; check the API URL." },
	[CFT_E_TOO_LARGE] = { "the API's answer is larger than allowed",
		"Check the API URL: this is not what the Cloudflare API sends." },
	[CFT_E_AUTH_HEADER] = { "the API refused the Authorization header as malformed",
		"The token contains characters a token cannot have; copy it again." },
	[CFT_E_AUTH_INVALID] = { "the API token is invalid, revoked or expired",
		"Create a new token in the dashboard (or run `cftoken login` again)." },
	[CFT_E_TOKEN_EXPIRED] = { "the API token has expired",
		"Create a new token in the dashboard (or run `cftoken login` again)." },
	[CFT_E_FORBIDDEN] = { "the API token lacks the permission for this request",
		"Add the permission to the token's policy, or use the right account." },
	[CFT_E_CANNOT_CREATE] = { "the API token may not create tokens",
		"The parent token needs the permission \"Account API Tokens Write\" on the "
		"account (\"API Tokens Write\" for user tokens). Edit it in the dashboard." },
	[CFT_E_IP_RESTRICTED] = { "the API token may not be used from this address",
		"Its client IP condition excludes this machine; edit the token's IP filter." },
	[CFT_E_NOT_FOUND] = { "not found: the account or token id is wrong",
		"Check the account id (32 hex characters, shown on the dashboard's "
		"account home) and the token id." },
	[CFT_E_ACCOUNT_TOKEN_REFUSED] = { "this endpoint does not accept account-owned tokens",
		"Give the account id explicitly (--account or `account =` in the config)." },
	[CFT_E_QUOTA] = { "the account already holds the maximum number of API tokens",
		"Cloudflare allows 500 account-owned (50 user-owned) tokens. "
		"Revoke unused ones with `cftoken list` and `cftoken revoke`." },
	[CFT_E_RATE_LIMITED] = { "the Cloudflare API is rate limiting these requests",
		"Wait before trying again (1,200 requests per 5 minutes per user)." },
	[CFT_E_SERVER] = { "the Cloudflare API had a server error",
		"This is on Cloudflare's side; try again in a few minutes." },
	[CFT_E_BAD_REQUEST] = { "the API refused the request", "" },
	[CFT_E_UNKNOWN_PERMISSION] = { "unknown permission group", "" },
	[CFT_E_AMBIGUOUS_PERMISSION] = { "ambiguous permission group", "" },
	[CFT_E_NO_PARENT] = { "there is no parent token to create tokens with",
		"Run `cftoken login` with a token that has \"Account API Tokens Write\", or "
		"set parent_token_file in the configuration." },
	[CFT_E_L2_UNAVAILABLE] = { "no Secret Service is available",
		"Start a keyring daemon (gnome-keyring, KeePassXC) in the session, or set "
		"cache = kernel (CFTOKEN_CACHE=kernel) to use the kernel keyring alone." },
	[CFT_E_L2_LOCKED] = { "the keyring is locked",
		"Unlock it (log in to the desktop, or `secret-tool` / seahorse), then try "
		"again; cftoken does not mint a new token because a keyring is locked." },
	[CFT_E_RENEWAL] = { "the token of this login session could not be renewed",
		"Log in again, or ask the admin to enable the renewal broker "
		"(systemctl enable --now cftoken-broker.socket)." },
	[CFT_E_BUSY] = { "another cftoken process is busy with the same token",
		"It holds the lock longer than the deadline (a slow API, or a stopped "
		"process); try again, or find it with `fuser -v` on the lock file." },
	[CFT_E_INTERNAL] = { "internal error", "" },
	[CFT_E_PARENT_ORIGIN] = { "the parent token goes only to the API and CA it was verified with",
		"To use another API URL or CA file, run `cftoken login` with them set "
		"(CLOUDFLARE_API_BASE_URL or --api-url, CFTOKEN_CA_FILE or --ca-file); for "
		"parent_token_file, set api_url and ca_file in the file that names it." },
};

const char *cft_strerror(cft_code code)
{
	if ((unsigned)code >= CFT__CODE_MAX || !messages[code].phrase)
		return "unknown error";
	return messages[code].phrase;
}

const char *cft_error_hint(cft_code code)
{
	if ((unsigned)code >= CFT__CODE_MAX || !messages[code].hint)
		return "";
	return messages[code].hint;
}

void cft_error_clear(cft_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->retry_after_s = -1;
}

cft_code (cft_fail)(cft_error *err, cft_code code, const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Append to buf at *used, never overflowing; keeps the string terminated. */
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	if (*used >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*used += (size_t)n;
	if (*used >= size)
		*used = size - 1;
}

void cft_error_format(const cft_error *err, char *buf, size_t size)
{
	size_t used = 0;

	if (!buf || size == 0)
		return;
	buf[0] = '\0';
	if (!err) {
		append(buf, size, &used, "%s", cft_strerror(CFT_E_INTERNAL));
		return;
	}
	append(buf, size, &used, "%s", cft_strerror(err->code));
	if (err->detail[0])
		append(buf, size, &used, " (%s)", err->detail);
	if (err->n_cf_codes > 0 || err->http_status > 0) {
		append(buf, size, &used, ": Cloudflare said");
		for (size_t i = 0; i < err->n_cf_codes; i++)
			append(buf, size, &used, "%s%d", i ? ", " : " code ", err->cf_codes[i]);
		if (err->cf_message[0])
			append(buf, size, &used, " \"%s\"", err->cf_message);
		if (err->http_status > 0)
			append(buf, size, &used, " (HTTP %ld)", err->http_status);
	}
	if (err->code == CFT_E_RATE_LIMITED && err->retry_after_s >= 0)
		append(buf, size, &used, "; retry after %ld s", err->retry_after_s);
	const char *hint = cft_error_hint(err->code);
	if (hint[0])
		append(buf, size, &used, ". %s", hint);
}

int cft_error_is_transient(const cft_error *err)
{
	if (!err)
		return 0;
	switch (err->code) {
	case CFT_E_NETWORK:
	case CFT_E_TIMEOUT:
	case CFT_E_RATE_LIMITED:
	case CFT_E_SERVER:
	case CFT_E_BUSY:
		return 1;
	default:
		return 0;
	}
}
