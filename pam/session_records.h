/* Which login sessions of a user are open, so that revoke_on_close revokes
 * the token only when the last one ends.  One empty file per session,
 * RUN_DIR/sessions/UID/SESSION, in root-only directories; SESSION is
 * "HOSTPID-TIME" (pam_cftoken.c), and a record whose host process is gone
 * (a crashed sshd) no longer counts.  Root's work, before the helper drops
 * privileges. */
#pragma once

#include <sys/types.h>

#include "error.h"

/* Letters the module uses for a session's name: digits and '-'. */
int session_name_valid(const char *name);

cft_code session_record_add(const char *run_dir, uid_t uid, const char *session,
			    cft_error *err);

/* Removes this session's record (session may be NULL: none known) and the
 * records of dead hosts; *others: the sessions still open. */
cft_code session_record_remove(const char *run_dir, uid_t uid, const char *session,
			       unsigned *others, cft_error *err);
