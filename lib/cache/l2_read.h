/* The fast read of L2 for cftoken-l2: one Secret Service item, over the
 * session bus with libdbus (no GLib, no libsecret), in a "plain" session.
 * Three calls: OpenSession, SearchItems, GetSecrets.  It finds exactly the
 * items secret_service.c (libsecret) writes: same schema name, same
 * attributes (l2_schema.h).  Locked items are reported, never unlocked or prompted for. */
#pragma once

/* What cftoken-l2 hands cftoken-backend after the Secret Service answered
 * that it holds no token for a key, and the front end when the request's
 * route remembers its token was dropped from both levels: the key's
 * description.  Internal to the programs; the backend takes it out of its
 * environment first. */
#define CFT_L2_MISSED_ENV "CFTOKEN_L2_MISSED"

#include "core/error.h"
#include "core/l1_record.h"

/* CFT_OK; CFT_E_NOT_FOUND; CFT_E_L2_LOCKED; CFT_E_L2_UNAVAILABLE (no bus,
 * no service, or no answer within timeout_ms). */
cft_code cft_l2_read(const char *account, const char *profile, const char *api_hash,
		     long timeout_ms, cft_l1_record *out, cft_error *err);
