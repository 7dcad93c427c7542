/* `cftoken learn`: from the requests a program made through exec
 * --proxy's forwarder to the least privilege that covers them, by
 * data/api-operations.tsv.  A pure function of the requests and of the
 * groups the learning token could hold, so that the choice is checked
 * word for word (tests/unit/test_least_privilege.c); the profile section
 * it writes is the one cftoken.conf(5) reads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "api/operations.h"
#include "config/tokenspec.h"
#include "core/l1_record.h"

/* One request the forwarder passed on. */
typedef struct cft_learn_call {
	const char *method;
	const char *path;            /* after /client/v4: a query is allowed */
	int status;                  /* the API's answer; 0 when none came */
} cft_learn_call;

/* What became of an operation. */
typedef enum cft_learn_kind {
	CFT_LEARN_GROUP,             /* covered by its group: learned */
	CFT_LEARN_NO_GROUP,          /* "-" in the table: needs none */
	CFT_LEARN_USER_SCOPE,        /* only groups an account-owned token cannot hold */
	CFT_LEARN_GROUPS_UNKNOWN,    /* "?" in the table: the profile is incomplete */
	CFT_LEARN_NOT_IN_TABLE,      /* the table lacks it: the profile is incomplete */
} cft_learn_kind;

/* The groups the learning token held, by scope (the table's names). */
typedef struct cft_learn_holdable {
	const char *const *account;
	size_t n_account;
	const char *const *zone;
	size_t n_zone;
} cft_learn_holdable;

#define CFT_LEARN_MAX_OPS 128
#define CFT_LEARN_SHOWN 176

typedef struct cft_learn_op {
	const struct cft_operation *op;  /* NULL: not in the table */
	char method[16];
	/* The template, or a path the table lacks as the refusal line shows
	 * it: no id, no query. */
	char shown[CFT_LEARN_SHOWN];
	cft_learn_kind kind;
	const char *group;           /* CFT_LEARN_GROUP: the chosen group that covers it */
	unsigned calls;
	unsigned failed;             /* calls answered 4xx or 5xx, or not at all */
	int status;                  /* the last call's */
} cft_learn_op;

typedef struct cft_learned {
	/* Sorted by shown, then method: the same run learns the same way
	 * whatever order its requests came in. */
	cft_learn_op ops[CFT_LEARN_MAX_OPS];
	size_t n_ops;
	size_t ops_left_out;         /* operations past CFT_LEARN_MAX_OPS */
	const char *groups[CFT_SPEC_MAX_GROUPS];  /* chosen, in name order */
	size_t n_groups;
	bool zone_group;             /* one of them is zone-scoped */
	char zones[CFT_SPEC_MAX_ZONES][CFT_ID_LEN + 1];  /* ids the paths named, in order */
	size_t n_zones;
	bool zones_left_out;         /* more than CFT_SPEC_MAX_ZONES */
	size_t n_unknown;            /* operations CFT_LEARN_GROUPS_UNKNOWN or NOT_IN_TABLE */
	bool incomplete;             /* n_unknown or ops_left_out */
} cft_learned;

/* The least privilege that covers calls: per operation one accepted group
 * the token could hold (cft_operation_narrowest among them: Read before
 * Write where both are accepted); then, in name order and until nothing
 * changes, a chosen group is dropped when every operation it was chosen
 * for is covered by another chosen group, and those operations take the
 * narrowest of the groups left.  Zones: the ids the paths' {zone_id}
 * named. */
void cft_learn_least(const cft_learn_call *calls, size_t n, const cft_learn_holdable *h,
		     cft_learned *out);

/* The profile section, as cftoken.conf(5) reads it: [profile NAME], a
 * comment naming the program (its arguments, unprintable bytes as '?'),
 * one saying the profile is incomplete and why when it is, account =,
 * permissions =, and zones = when a zone group was learned (or a comment
 * that no path named a zone: the zone groups then cover every zone).
 * Nothing when no group was learned but the comments and account. */
void cft_learned_section(FILE *f, const cft_learned *l, const char *profile,
			 const char *account, const char *const *argv, size_t argc);

/* The comment line the section's first comment starts with: --write
 * replaces the comments of an earlier learn with the new ones. */
#define CFT_LEARNED_MARK "# cftoken learn:"
