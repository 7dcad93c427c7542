/* The policy a login session's token is made from, on a shared
 * workstation: the admin's [user NAME] and [group NAME] sections of the
 * system configuration.
 *
 * Precedence, key by key: the user's own section, then the first [group]
 * section in the file (in file order) naming a group the user belongs to,
 * then [defaults].  A user matched by neither gets no token.
 *
 * The token is cached under the profile name "login", so `cftoken get`,
 * `exec` and `env` inside the session find the token the login minted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"
#include "core/error.h"
#include "core/trusted_file.h"

#define CFT_LOGIN_PROFILE "login"

typedef struct cft_login_policy {
	cft_profile merged;           /* name "login"; points into the config */
	const cft_profile *user;      /* the sections it came from, or NULL */
	const cft_profile *group;
} cft_login_policy;

/* groups: the names of the groups the user belongs to.  CFT_E_NOT_FOUND
 * when no section matches. */
cft_code cft_login_policy_find(const cft_config *cfg, const char *user,
			       const char *const *groups, size_t n_groups,
			       cft_login_policy *out, cft_error *err);

/* The same for a uid, its name and groups looked up through NSS. */
cft_code cft_login_policy_for_uid(const cft_config *cfg, uid_t uid, cft_login_policy *out,
				  cft_error *err);

/* Where the policy came from, for messages: "[user alice]",
 * "[group devs]" or "[user alice] over [group devs]". */
void cft_login_policy_describe(const cft_login_policy *p, char *buf, size_t size);
