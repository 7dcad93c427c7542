/* L2: the Secret Service (gnome-keyring, KeePassXC ...) through libsecret,
 * durable across reboots.  Only the backend links this; the warm path never
 * touches GLib.
 *
 * Every call runs on a private main context with a deadline, so a prompt
 * or a daemon that does not answer cannot hang a login or a git call.  A
 * lookup has three outcomes: found, absent, locked; a locked collection is
 * reported, never taken for "absent" (nothing is re-minted or erased
 * because of it).  The bus is the one DBUS_SESSION_BUS_ADDRESS names,
 * which the program exports (cache/session_bus.h); never autolaunched. */
#pragma once

#include "cache/cache.h"
#include "cache/parent.h"
#include "core/error.h"
#include "core/l1_record.h"
#include "core/secret.h"

/* CFT_E_L2_UNAVAILABLE when there is no session bus or no Secret Service
 * answers within timeout_ms; err says which. */
cft_code cft_l2_open(long timeout_ms, cft_l2 **out, cft_error *err);
cft_l2 *cft_l2_close(cft_l2 *l2);

/* The levels in force with l2 open (cache.h): L1, then this Secret
 * Service; with l2 NULL, L1 alone. */
cft_cache cft_l2_cache(cft_l2 *l2);

/* CFT_OK, CFT_E_NOT_FOUND, or CFT_E_L2_LOCKED.  Items are found by the
 * API's hash (cft_api_hash); one whose record holds another URL is not
 * the one. */
cft_code cft_l2_lookup_token(cft_l2 *l2, const char *account, const char *profile,
			     const char *api_url, cft_l1_record *out, cft_error *err);
/* Stores r with api_url as its API (r->api, if set, must be the same). */
cft_code cft_l2_store_token(cft_l2 *l2, const cft_l1_record *r, const char *api_url,
			    cft_error *err);
cft_code cft_l2_drop_token(cft_l2 *l2, const char *account, const char *profile,
			   const char *api_url, cft_error *err);
/* Every item of the token with this id (revoke), or of this API (logout). */
cft_code cft_l2_drop_id(cft_l2 *l2, const char *token_id, cft_error *err);
cft_code cft_l2_drop_api(cft_l2 *l2, const char *api_url, cft_error *err);

/* The durable copy of `cftoken login`'s parent token (one per API; a
 * record of another URL is CFT_E_NOT_FOUND). */
cft_code cft_l2_store_parent(cft_l2 *l2, const char *api_url, const cft_parent *p,
			     cft_error *err);
cft_code cft_l2_lookup_parent(cft_l2 *l2, const char *api_url, cft_parent *out,
			      cft_error *err);
cft_code cft_l2_drop_parent(cft_l2 *l2, const char *api_url, cft_error *err);
