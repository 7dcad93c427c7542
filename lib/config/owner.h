/* Who owns a profile's token.  Account-owned by default; user-owned when
 * its permissions reach a service that does not take account-owned tokens
 * yet (lib/config/data/user-token-only.tsv), unless the profile says
 * owner = account, which then fails with the reason.  owner = user forces
 * a user-owned token. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "config/config.h"
#include "core/error.h"

typedef struct cft_user_token_group {
	const char *service;
	const char *group;
} cft_user_token_group;

/* The table, ended by { NULL, NULL } (generated from the data file). */
extern const cft_user_token_group cft_user_token_only[];

/* The service a permission name reaches that needs a user token, or NULL.
 * Case-insensitive; "zone:"/"account:" qualifiers and the dashboard's
 * "Edit" for "Write" are understood as everywhere else. */
const char *cft_user_token_service(const char *permission);

/* *user_owned, and in why (when user-owned) the reason for the person. */
cft_code cft_profile_owner(const cft_profile *p, bool *user_owned, char *why, size_t size,
			   cft_error *err);

/* The owner of the tokens p makes in account, for deleting one of them:
 * user-owned when cft_profile_owner says so, else the account's (also
 * when the profile is refused: no token of it was made user-owned). */
cft_owner cft_profile_token_owner(const cft_profile *p, const char *account);
