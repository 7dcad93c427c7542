/* One error type for everything libcftoken does: a code a program can switch
 * on, plus what a person needs to act (HTTP status, Cloudflare's own error
 * codes and messages, a detail line).  Never holds a token value. */
#pragma once

#include <stddef.h>

typedef enum cft_code {
	CFT_OK = 0,
	CFT_E_NOMEM,
	CFT_E_INVALID_ARG,        /* a caller or user supplied a bad value */
	CFT_E_TOKEN_FORMAT,       /* not shaped like an API token */
	CFT_E_GLOBAL_API_KEY,     /* a legacy Global API Key: refused */
	CFT_E_NETWORK,            /* could not connect, reset, closed early */
	CFT_E_TLS,                /* certificate or handshake failure */
	CFT_E_TIMEOUT,            /* the deadline passed */
	CFT_E_MALFORMED,          /* the answer is not the JSON we expect */
	CFT_E_TOO_LARGE,          /* the answer exceeds the size cap */
	CFT_E_AUTH_HEADER,        /* 6003/6111: the header or token is malformed */
	CFT_E_AUTH_INVALID,       /* 401 / 1000: unknown, revoked or expired */
	CFT_E_TOKEN_EXPIRED,      /* known to have expired */
	CFT_E_FORBIDDEN,          /* 403 / 9109, 10000: lacks a permission */
	CFT_E_CANNOT_CREATE,      /* 403 on create: needs API Tokens Write */
	CFT_E_IP_RESTRICTED,      /* the token's request.ip condition refuses us */
	CFT_E_NOT_FOUND,          /* 404 / 7003: wrong account or token id */
	CFT_E_ACCOUNT_TOKEN_REFUSED, /* 1001: endpoint refuses account tokens */
	CFT_E_QUOTA,              /* the account holds the maximum of tokens */
	CFT_E_RATE_LIMITED,       /* 429 past the deadline */
	CFT_E_SERVER,             /* 5xx past the deadline */
	CFT_E_BAD_REQUEST,        /* another 4xx */
	CFT_E_UNKNOWN_PERMISSION, /* a permission group name that does not exist */
	CFT_E_AMBIGUOUS_PERMISSION, /* a name at several scopes, none chosen */
	CFT_E_NO_PARENT,          /* no parent token: cftoken login */
	CFT_E_L2_UNAVAILABLE,     /* no session bus or Secret Service */
	CFT_E_L2_LOCKED,          /* the keyring collection is locked */
	CFT_E_RENEWAL,            /* a login token is due and nobody can renew it */
	CFT_E_BUSY,               /* another process held the lock past the deadline */
	CFT_E_INTERNAL,
	CFT_E_PARENT_ORIGIN,      /* the parent was verified for another API or CA */
	CFT__CODE_MAX
} cft_code;

#define CFT_ERROR_MAX_CF_CODES 4

typedef struct cft_error {
	cft_code code;
	long http_status;                    /* 0 when no HTTP answer */
	int cf_codes[CFT_ERROR_MAX_CF_CODES];
	size_t n_cf_codes;
	char cf_message[256];                /* Cloudflare's first error message */
	char detail[512];                    /* what we were doing, or extra context */
	long retry_after_s;                  /* for CFT_E_RATE_LIMITED, -1 unknown */
} cft_error;

/* A short, stable phrase for a code ("the API token is invalid, revoked or expired"). */
const char *cft_strerror(cft_code code);

/* What a person can do about it: one or two sentences, or "" when the
 * phrase says it all. */
const char *cft_error_hint(cft_code code);

/* Set *err (may be NULL) and return code, printf-style detail.  Lets code
 * say `return cft_fail(err, CFT_E_INVALID_ARG, "ttl %s", s);`. */
cft_code (cft_fail)(cft_error *err, cft_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same call, written so that the static analysers (GCC -fanalyzer,
 * clang-tidy) see the code it returns without looking into error.c: a
 * caller's `if (rc) return cft_fail(...)` then carries the nonzero code
 * onto the error path, instead of a path where the call "returned 0". */
#define cft_fail(err, code, ...)                                              \
	__extension__({                                                       \
		cft_code cft_fail_code_ = (code);                             \
		(cft_fail)((err), cft_fail_code_, __VA_ARGS__);               \
		cft_fail_code_;                                               \
	})

void cft_error_clear(cft_error *err);

/* rc, except that CFT_E_NOT_FOUND (an absent file or record, which is no
 * error to the caller) becomes CFT_OK and clears err (may be NULL). */
static inline cft_code cft_absent_ok(cft_code rc, cft_error *err)
{
	if (rc != CFT_E_NOT_FOUND)
		return rc;
	if (err)
		cft_error_clear(err);
	return CFT_OK;
}

/* The full explanation in one line: phrase, Cloudflare codes and message,
 * HTTP status, detail, hint.  Always NUL-terminated. */
void cft_error_format(const cft_error *err, char *buf, size_t size);

/* True when the error says the API was not reachable or did not answer in time
 * (worth retrying later, as opposed to a verdict on the request). */
int cft_error_is_transient(const cft_error *err);
