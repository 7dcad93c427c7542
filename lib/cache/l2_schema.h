/* The names of cftoken's Secret Service items, in one place for the two
 * that speak to it: secret_service.c (libsecret) writes and reads them,
 * l2_read.c (libdbus, for cftoken-l2) reads them, and must ask with the
 * very names the other stored.  Names only: no GLib, no libsecret. */
#pragma once

/* A token; its secret is an L1 record (core/l1_record.h). */
#define CFT_L2_SCHEMA "org.cftoken.Token"
#define CFT_L2_ATTR_ACCOUNT "account"
#define CFT_L2_ATTR_PROFILE "profile"
#define CFT_L2_ATTR_API "api"            /* the URL by its cft_api_hash */
#define CFT_L2_ATTR_TOKEN_ID "token_id"
#define CFT_L2_ATTR_EXPIRES "expires"    /* RFC 3339 */

/* `cftoken login`'s parent token, one per API (CFT_L2_ATTR_API). */
#define CFT_L2_PARENT_SCHEMA "org.cftoken.Parent"

/* The attribute libsecret adds to every item with its schema's name, and
 * matches on in a search. */
#define CFT_L2_ATTR_XDG_SCHEMA "xdg:schema"
