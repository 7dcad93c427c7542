/* The API's operations and the permission groups each accepts, from
 * data/api-operations.tsv (made into a table at build time by
 * data/gen_operations.py): which operation a request path is, and the
 * values its placeholders took.  For the forwarder's explanation of a 403
 * and for `learn` (internal to libcftoken). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The most placeholders one path template may hold; the generator refuses
 * a row with more. */
#define CFT_OPERATION_MAX_PARAMS 8

struct cft_operation {
	const char *method;        /* "GET", "PUT" ... */
	const char *template;      /* relative to /client/v4: "/zones/{zone_id}/workers/routes" */
	const char *operation_id;  /* the schema's operationId; NULL when none was found */
	/* The groups any one of which allows the operation, in the schema's
	 * order, NULL-terminated; empty when it needs none or when they are
	 * unknown (groups_unknown tells which). */
	const char *const *groups;
	bool groups_unknown;       /* "?" in the table: never read as "needs none" */
	const char *used_by;       /* the commands that call it: "whoami; deploy" */
	const char *source;        /* where the groups come from */
};

/* The value one placeholder took in a request path: spans into the
 * template and into the path given, not NUL-terminated.  The value is the
 * segment as sent, still percent-encoded. */
struct cft_operation_param {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* Every operation of the table, and how many there are (defined in the
 * generated api_operations_table.c). */
const struct cft_operation *cft_operations(size_t *count);

/* The operation a request is, or NULL when the table has none.  path is the
 * request path after /client/v4; a query ("?...") is ignored and so is one
 * trailing '/'.  Each "{name}" of a template matches one non-empty segment;
 * other segments must be equal, byte for byte (no percent-decoding: an
 * encoded literal is no match, never a guess).  Where two templates match,
 * the more specific wins: the first segment where they differ is literal
 * in the winner ("/tokens/verify" over "/tokens/{token_id}"). */
const struct cft_operation *cft_operation_match(const char *method, const char *path);

/* The placeholders' values for a path that op matches, in the template's
 * order, into params (room for max).  Returns how many, or -1 when op does
 * not match path or max is too small. */
int cft_operation_params(const struct cft_operation *op, const char *path,
			 struct cft_operation_param *params, size_t max);

/* Of groups (NULL-terminated, any one of which allows an operation of
 * method), the narrowest to hold: a Read group whose Write is accepted
 * too ("Workers Scripts Read" over "Workers Tail Read" beside "Workers
 * Scripts Write"); else, for a GET, the first Read group; else the
 * first.  NULL when groups is empty.  The refusal line suggests it and
 * `learn` chooses it, so that a profile learned and then lacking the
 * group is told to add exactly that group. */
const char *cft_operation_narrowest(const char *method, const char *const *groups);
