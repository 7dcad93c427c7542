/* Files root trusts: pam_cftoken's policy and the admin's parent token;
 * and the configuration files cftoken reads for a user, which may name
 * hosts, permissions and a parent token file.  libc only (the PAM warm
 * path checks the policy file too). */
#pragma once

#include "core/error.h"

/* A file the policy depends on (the system configuration, the parent
 * token) must be owned by root, or by the user the caller runs as (a
 * personal set-up, where nobody else is involved), and writable by nobody
 * else; so must the directory holding it.  A regular file, not a link. */
cft_code cft_check_trusted_file(const char *path, const char *what, cft_error *err);
