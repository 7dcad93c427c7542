/* Asking cftoken-broker (root's, see pam/broker.c) to renew this user's
 * login token: the broker refreshes it in the user's own keyrings and
 * answers with the token's id, never its value. */
#pragma once

#include "core/error.h"

#define CFT_BROKER_SOCKET_NAME "broker.sock"

/* socket_path: RUN_DIR/broker.sock.  On success id holds the token's id
 * and the token is in the caller's kernel keyring.  CFT_E_NOT_FOUND when
 * no broker listens or it has no policy for us, CFT_E_RATE_LIMITED when
 * it asks us to wait, CFT_E_RENEWAL when its queue stayed full until the
 * deadline, CFT_E_TIMEOUT, or CFT_E_INTERNAL with its reason. */
cft_code cft_broker_renew(const char *socket_path, long min_ttl, long timeout_ms,
			  char id[33], cft_error *err);
