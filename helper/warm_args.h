/* The part of the command line a cached answer depends on, parsed the same
 * way by the front end and by cftoken-l2: get, env or exec, --profile,
 * --min-ttl, --format, --force.  Anything else is the backend's. */
#pragma once

#include <stdbool.h>

#include "cache/l1.h"
#include "core/handover.h"

typedef struct warm_args {
	const char *command;
	int exec_index;              /* exec: where the program's argv starts */
	cft_request rq;
	long min_ttl;
	cft_env_format format;
	bool force;
} warm_args;

/* False when anything is beyond what a cached answer decides. */
bool warm_args_parse(int argc, char **argv, warm_args *w);

/* Hands r over as the command asks: the git answer, env lines, or exec
 * (which returns only on failure).  Returns the exit status; clears r. */
int warm_answer(const warm_args *w, char **argv, cft_l1_record *r);

/* The backend beside this program (a build tree), else the installed one;
 * also for cftoken-l2.  Never returns: exec or exit(1). */
void warm_exec_sibling(const char *name, char **argv) __attribute__((noreturn));
