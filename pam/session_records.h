/* Root's records under run_dir (/run/cftoken), in root-only directories.
 *
 * Which login sessions of a user are open, so that revoke_on_close revokes
 * the token only when the last one ends.  One empty file per session,
 * RUN_DIR/sessions/UID/SESSION, in root-only directories; SESSION is
 * "HOSTPID-TIME" (pam_cftoken.c), and a record whose host process is gone
 * (a crashed sshd) no longer counts.  Root's work, before the helper drops
 * privileges. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/error.h"

/* Letters the module uses for a session's name: digits and '-'. */
int session_name_valid(const char *name);

/* RUN_DIR/KIND/UID: where root keeps a record of kind KIND ("orphans")
 * for a user, RUN_DIR (0755) and RUN_DIR/KIND (0700) made root's. */
cft_code root_record_path(const char *run_dir, const char *kind, uid_t uid, char *out,
			  size_t size, cft_error *err);

/* RUN_DIR/users/UID, a runtime directory for a user who has none
 * (no /run/user/UID: no pam_systemd, or it runs after us): created by root
 * in a directory only root writes, then given to the user, mode 0700. */
cft_code user_runtime_dir(const char *run_dir, uid_t uid, gid_t gid, char *out, size_t size,
			  cft_error *err);

cft_code session_record_add(const char *run_dir, uid_t uid, const char *session,
			    cft_error *err);

/* Removes this session's record (session may be NULL: none known) and the
 * records of dead hosts; *others: the sessions still open. */
cft_code session_record_remove(const char *run_dir, uid_t uid, const char *session,
			       unsigned *others, cft_error *err);

/* The last token minted for a user's login policy, as root saw it:
 * RUN_DIR/minted/UID, "ID EXPIRES".  A user may delete their own keys,
 * and with them cftoken's memory of which token a new one replaces; this
 * record is beyond their reach, so a token they made us forget is still
 * deleted once it has expired, and the account's 500-token cap never
 * fills with their leftovers. */
typedef struct minted_record {
	char id[33];                 /* "" when there is none */
	time_t expires;              /* 0: not known (a record of an older version) */
} minted_record;

/* Replaces the record with now; previous gets the old one. */
cft_code minted_record_swap(const char *run_dir, uid_t uid, const minted_record *now,
			    minted_record *previous, cft_error *err);

/* The record alone. */
void minted_record_read(const char *run_dir, uid_t uid, minted_record *r);

/* One login job of a user at a time, whichever process runs it: a PAM
 * open or close, or a renewal by the broker (whose /tmp is private, so the
 * user's own lock under /tmp would not meet the module's).  Holds
 * RUN_DIR/jobs/UID.lock until cft_lock_release; waits until deadline_ms. */
cft_code job_lock_acquire(const char *run_dir, uid_t uid, int64_t deadline_ms, int *fd,
			  cft_error *err);
