/* What `cftoken apply` compares between the token a profile describes and
 * the token the API holds: name, policies (effect, permission groups as a
 * set, resources), condition (request.ip in / not_in as sets), not_before
 * and expires_on (to within CFT_DIFF_TIME_SLACK seconds: a create's own
 * clock and the API's differ by a moment). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "api/api.h"

#define CFT_DIFF_TIME_SLACK 5

enum {
	CFT_DIFF_NAME = 1u << 0,
	CFT_DIFF_POLICIES = 1u << 1,
	CFT_DIFF_CONDITION = 1u << 2,
	CFT_DIFF_NOT_BEFORE = 1u << 3,
	CFT_DIFF_EXPIRES_ON = 1u << 4,
};

/* The fields that differ, as bits; -1 (with err) when the spec cannot be
 * put into JSON. */
int cft_token_diff(const cft_token_spec *want, const cft_token *have, cft_error *err);

/* "name, policies": the names of the bits, in order. */
void cft_token_diff_names(int diff, char *buf, size_t size);

/* Each differing field, one line each: "  FIELD: HAVE -> WANT" (JSON for
 * policies and condition, RFC 3339 for times), for --dry-run. */
void cft_token_diff_print(int diff, const cft_token_spec *want, const cft_token *have,
			  FILE *out);

/* Whether every right a token's policies give (have_policies_json, as the
 * API describes the token) lies within what want's policies give: each
 * permission group of an allow policy, on each resource it names, is
 * granted by want on that resource or on one that holds it (an account
 * holds its zones, "zone.*" every zone).  Deny policies only take rights
 * away.  Anything not understood (an unknown effect, a malformed resource
 * map) does not fit.  False with why: the first right that does not fit,
 * its group's id and name and the resource, control characters dropped. */
bool cft_policies_within(const cft_token_spec *want, const char *have_policies_json,
			 char *why, size_t why_size);
