/* The L1 cache record: what one kernel-keyring key holds for a token.
 *
 *   cftoken-l1 2\n
 *   token=<value>\n          first, so a wipe of the buffer's head covers it
 *   id=<32 hex>\n
 *   account=<32 hex>\n
 *   profile=<name>\n
 *   api=<URL>\n             the API it was minted at, normalised
 *                            (fingerprint.h): a load compares it
 *   expires=<unix seconds>\n
 *   renew_at=<unix seconds>\n  (the expiry less the profile's renew margin)
 *   origin=minted|adopted\n  (adopted: handed over by `store`; cftoken
 *                            never deletes such a token on the API)
 *   grant=<32 hex>\n         what the profile granted when the token was
 *                            minted (cft_profile_grant); absent when not
 *                            known: an adopted token, an earlier cftoken's
 *
 * Text, so a person debugging with keyctl can read everything but the
 * token; strict, so a damaged key is a miss, never a wrong answer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"
#include "core/fingerprint.h"
#include "core/secret.h"

#define CFT_PROFILE_NAME_MAX 64
#define CFT_L1_RECORD_MAX 1024

typedef struct cft_l1_record {
	cft_secret *token;
	char id[33];
	char account[33];
	char profile[CFT_PROFILE_NAME_MAX + 1];
	char api[CFT_API_URL_MAX + 1];
	time_t expires;
	time_t renew_at;
	bool adopted;
	char grant[CFT_FP_HEX];       /* "": not known */
} cft_l1_record;

/* Serialises into a secret (it holds the token). */
cft_code cft_l1_record_format(const cft_l1_record *r, cft_secret **out, cft_error *err);

/* Parses; on any deviation returns CFT_E_MALFORMED and leaves r empty. */
cft_code cft_l1_record_parse(const char *buf, size_t len, cft_l1_record *r, cft_error *err);

void cft_l1_record_clear(cft_l1_record *r);

/* A profile name as cftoken accepts it: 1-64 of [A-Za-z0-9._-]. */
int cft_profile_name_valid(const char *s);
