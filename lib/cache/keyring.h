/* The kernel user keyring (keyutils): cftoken's L1 cache.  Keys are of type
 * "user" in @u, readable by their user (view, read, search) so that a warm
 * lookup needs no possession, and expire on their own.  Nothing here needs
 * more than libc and libkeyutils: the warm path uses it. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "core/error.h"
#include "core/secret.h"

#define CFT_KEY_DESC_MAX 160

/* As pam_keyinit does at login: make sure the session keyring links @u,
 * so that keys cftoken adds to @u are possessed and can be given their
 * permissions.  An anonymous session (keyctl new_session, some service
 * managers, su without pam_keyinit) would otherwise leave new keys
 * unreadable.  Returns CFT_OK or a CFT_E_INTERNAL explaining the errno. */
cft_code cft_keyring_prepare(cft_error *err);

/* The error for a failed keyctl call on what (e: its errno), in words a
 * person can act on: no such key, the quota exhausted, no keyrings. */
cft_code cft_keyring_errno(cft_error *err, const char *what, int e);

/* For a process that has just become the user (pam_cftoken's helper): a
 * session keyring of its own, as pam_keyinit makes at login, with the user
 * keyring linked in.  The inherited one belongs to whoever started us. */
cft_code cft_keyring_new_session(cft_error *err);

/* Reads the key with this description from @u into a secret.
 * CFT_E_NOT_FOUND when there is none (or it expired). */
cft_code cft_keyring_read(const char *desc, cft_secret **out, cft_error *err);

/* Adds (replacing any key of that description) with a timeout of
 * `expires` - now seconds (at least 1).  The key ends up user view, read
 * and search; possessor the same plus setattr. */
cft_code cft_keyring_store(const char *desc, const void *payload, size_t len, time_t expires,
			   cft_error *err);

/* Removes the key if present (invalidates it, so no keyring still holds it). */
cft_code cft_keyring_drop(const char *desc, cft_error *err);

/* Calls fn for every key in @u whose description starts with prefix
 * (enumerating keys this user can see).  Stops when fn returns non-zero. */
typedef int (*cft_keyring_fn)(const char *desc, void *ctx);
cft_code cft_keyring_each(const char *prefix, cft_keyring_fn fn, void *ctx, cft_error *err);
