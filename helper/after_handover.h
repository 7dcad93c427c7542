/* The work after the hand-over (issue: one request on the cold path).
 * A mint makes one request, the create, before the token reaches its
 * user; what else there is (deleting the tokens earlier renewals replaced,
 * once they have expired: cft_obtain_tidy) waits until the token is
 * handed over, and runs over the connection the create opened. */
#pragma once

#include "obtain_token.h"

/* get, env and token: once the answer is written and standard output is
 * closed, in this process: the new token (minted: the record handed over)
 * into the Secret Service, then the tidy.  Then releases what after
 * holds. */
void cli_after_handover(const cli *c, after_handover *after, const cft_l1_record *minted);

/* exec: the work runs in a detached process that waits until this one has
 * started the program (exec'd it, or exited failing to), then runs with the
 * same deadlines.  It is nobody's zombie: its parent is gone at once and
 * init reaps it.  It gets the parent token through a pipe (a secret's
 * pages are not copied by fork) and opens its own connection.  Nothing to
 * do: no process.  Releases what after holds, in this process. */
void cli_after_handover_detached(after_handover *after);
