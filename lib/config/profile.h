/* What a profile asks for, with [defaults] and the built-in defaults
 * filled in: the accessors every layer above config reads a profile
 * through. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/error.h"
#include "core/fingerprint.h"

/* The most permission names of a profile (its presets' and its own) that
 * are gathered: every list of them is this long. */
#define CFT_PROFILE_MAX_NAMES 128

/* Permission names of a profile: each preset's, then its own.  An error
 * when it names none. */
cft_code cft_profile_permissions(const cft_profile *p, const char **names, size_t max,
				 size_t *n, cft_error *err);

/* The profile's effective TTL and renew margin, [defaults] and built-in
 * defaults filled in. */
int64_t cft_profile_ttl(const cft_config *cfg, const cft_profile *p);
int64_t cft_profile_renew_margin(const cft_config *cfg, const cft_profile *p);

/* The profile's IP conditions: its own, or [defaults]' when it sets none. */
const char *const *cft_profile_ip_in(const cft_config *cfg, const cft_profile *p, size_t *n);
const char *const *cft_profile_ip_not_in(const cft_config *cfg, const cft_profile *p, size_t *n);

/* What a token of the profile is granted, as a fingerprint: its
 * permission names (its presets' and its own), owner, zones, IP
 * conditions, life and start; not its name, hosts or renew margin.  A
 * token's cache record keeps the grant it was minted under, so that a
 * token of a profile edited since is replaced instead of served: a
 * narrower profile holds from the next request, not from the old token's
 * expiry. */
void cft_profile_grant(const cft_config *cfg, const cft_profile *p, char out[CFT_FP_HEX]);
