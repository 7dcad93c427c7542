/* Handing a token over: the git credential answer, export lines for a
 * shell, or the environment of a program cftoken execs.  Shared by the warm
 * front end and the backend, so both answer alike. */
#pragma once

#include <stdio.h>

#include "core/error.h"
#include "core/l1_record.h"

typedef enum cft_env_format {
	CFT_ENV_SH,
	CFT_ENV_FISH,
	CFT_ENV_JSON,
} cft_env_format;

/* 0 and *out, or -1 for an unknown name. */
int cft_env_format_parse(const char *name, cft_env_format *out);

/* username (the account id), password, password_expiry_utc.  Returns 0 or
 * -1 when the output could not be written. */
int cft_handover_git(FILE *out, const cft_l1_record *r);

int cft_handover_env(FILE *out, cft_env_format format, const cft_l1_record *r);

/* Sets CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and CFTOKEN_EXPIRES_ON
 * in our environment, for a program about to be run; -1 (errno) on
 * failure.  cft_handover_unsetenv wipes the token's copy there again. */
int cft_handover_setenv(const cft_l1_record *r);
void cft_handover_unsetenv(void);

/* Sets CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and CFTOKEN_EXPIRES_ON,
 * wipes r, and execvp()s argv.  Returns only on failure, with the exit
 * status a shell would give (126 or 127); err->detail says why ("cannot
 * run PROGRAM: REASON"), for the program to print. */
int cft_handover_exec(char **argv, cft_l1_record *r, cft_error *err);
/* Its last step: execvp(argv) with the environment as it is. */
int cft_handover_execvp(char **argv, cft_error *err);
