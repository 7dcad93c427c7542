/* Cloudflare's answer envelope {success, errors, messages, result,
 * result_info} turned into a result or one classified cft_error
 * (internal to libcftoken). */
#pragma once

#include <jansson.h>

#include "api/http.h"
#include "core/error.h"

/* What the caller was doing: the same HTTP 403 means "may not create
 * tokens" on create and "lacks a permission" elsewhere. */
typedef enum cft_op {
	CFT_OP_OTHER = 0,
	CFT_OP_CREATE_TOKEN,
	CFT_OP_LIST_ACCOUNTS,
} cft_op;

/* On success returns CFT_OK and *root (to json_decref) whose "result" and
 * "result_info" the caller reads.  Otherwise fills err from the status, the
 * error codes and the first message. */
cft_code cft_envelope_parse(const cft_http_response *rs, cft_op op, json_t **root,
			    cft_error *err);

/* Classification alone, for the tests and for answers without a body. */
cft_code cft_envelope_classify(long status, const int *codes, size_t n_codes,
			       const char *message, cft_op op);

/* The Cloudflare code for "too many tokens" has no public number; the
 * emulator and this client agree on the message, which is what the real
 * API's text says. */
#define CFT_QUOTA_MESSAGE_FRAGMENT "maximum number of"
