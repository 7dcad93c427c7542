/* One interface to the cache levels in force: L1 (the kernel keyring,
 * l1.h), then L2 (the Secret Service) when the caller has one open.  A
 * profile's token is looked up, stored and dropped here, so the order of
 * the levels and what "drop" means are written once.
 *
 * This file and cache.c need only libc and libkeyutils, like L1: L2 is
 * reached through a table of functions the caller passes in
 * (cft_l2_cache in secret_service.h gives libsecret's), so the warm front
 * ends, which pass none, never link GLib. */
#pragma once

#include "core/error.h"
#include "core/l1_record.h"

typedef struct cft_l2 cft_l2;

/* What a level of L2 does; each call has the contract of its cft_l2_*
 * namesake in secret_service.h. */
typedef struct cft_cache_l2_ops {
	cft_code (*lookup)(cft_l2 *l2, const char *account, const char *profile,
			   const char *api_url, cft_l1_record *out, cft_error *err);
	cft_code (*store)(cft_l2 *l2, const cft_l1_record *r, const char *api_url,
			  cft_error *err);
	cft_code (*drop)(cft_l2 *l2, const char *account, const char *profile,
			 const char *api_url, cft_error *err);
	cft_code (*drop_id)(cft_l2 *l2, const char *token_id, cft_error *err);
	cft_code (*drop_api)(cft_l2 *l2, const char *api_url, cft_error *err);
} cft_cache_l2_ops;

/* The levels in force.  { 0 } (CFT_CACHE_L1_ALONE) is L1 alone; L2 is in
 * force when both ops and l2 are set. */
typedef struct cft_cache {
	const cft_cache_l2_ops *ops;
	cft_l2 *l2;
} cft_cache;

#define CFT_CACHE_L1_ALONE ((cft_cache){ 0 })

/* Which levels a call reaches; a level not in force is skipped. */
typedef enum cft_cache_level {
	CFT_CACHE_L1 = 1,
	CFT_CACHE_L2 = 2,
	CFT_CACHE_BOTH = CFT_CACHE_L1 | CFT_CACHE_L2,
} cft_cache_level;

/* A profile's token, from the first of the levels that has it (L1, then
 * L2).  Three answers: CFT_OK, a hit; CFT_E_NOT_FOUND, absent from every
 * level asked; any other code, a level could not answer (CFT_E_L2_LOCKED:
 * its collection is locked; CFT_E_L2_UNAVAILABLE: no answer in time), and
 * that is never to be taken for absent.  err holds the last level's
 * reason.  An L2 hit does not refill L1: the caller decides (the route to
 * point at it, whether the record is fresh enough). */
cft_code cft_cache_lookup(cft_cache c, cft_cache_level levels, const char *account,
			  const char *profile, const char *api_url, cft_l1_record *out,
			  cft_error *err);

/* The warm path's look-up: the token a request's route (fingerprint)
 * points at, in L1; see cft_l1_lookup for api_url, route_to and
 * dropped. */
cft_code cft_cache_lookup_route(const char *fp_hex, const char *api_url, cft_l1_record *out,
				char *route_to, bool *dropped, cft_error *err);

/* Stores r with api_url as its API, in L1 (with fp_hex, pointing that
 * route at it) then L2; the first failure is returned and stops it. */
cft_code cft_cache_store(cft_cache c, cft_cache_level levels, const char *fp_hex,
			 const cft_l1_record *r, const char *api_url, cft_error *err);

/* Drops the token of account + profile + API from L1, then L2 (absent is
 * fine); the first failure is returned and stops it. */
cft_code cft_cache_drop(cft_cache c, const char *account, const char *profile,
			const char *api_url, cft_error *err);

/* cft_cache_drop, then, once every level in force has dropped it, the
 * route fp_hex remembers that (cft_l1_note_dropped, until expires): the
 * next request on it mints without asking L2, which holds nothing. */
cft_code cft_cache_drop_on_route(cft_cache c, const char *fp_hex, const char *account,
				 const char *profile, const char *api_url, time_t expires,
				 cft_error *err);

/* Drops the token with this id (revoked, or gone on the API) from every
 * level, wherever it is cached.  Returns how many L1 keys held it; L2's
 * failures are ignored (its items expire with the token). */
int cft_cache_drop_id(cft_cache c, const char *token_id);

/* Drops every token minted at this API from every level (logout).
 * Returns how many L1 keys held one; L2's failures are ignored. */
int cft_cache_drop_api(cft_cache c, const char *api_url);
