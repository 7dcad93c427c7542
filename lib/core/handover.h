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

/* The environment a program receives its token in: ours, with
 * CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and CFTOKEN_EXPIRES_ON set
 * to r's.  Built beside our own environment, which stays as it was: the
 * library sets no process-wide state, and the token is in no environment
 * of ours to leak into another child.  vars[0] holds the token: clear
 * wipes it. */
typedef struct cft_token_environ {
	char **envp;
	char *vars[3];
} cft_token_environ;

/* 0, or -1 (errno) when out of memory. */
int cft_token_environ_build(const cft_l1_record *r, cft_token_environ *out);
/* exec --proxy's: CLOUDFLARE_API_TOKEN the forwarder's stand-in,
 * CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_BASE_URL the forwarder's URL, and
 * no CFTOKEN_EXPIRES_ON (the stand-in lasts as long as the program).
 * vars[0] holds the stand-in. */
int cft_proxy_environ_build(const cft_secret *stand_in, const char *account,
			    const char *base_url, cft_token_environ *out);
void cft_token_environ_clear(cft_token_environ *e);

/* Wipes r and execvpe()s argv with r's token in its environment.  Returns
 * only on failure, with the exit status a shell would give (126 or 127);
 * err->detail says why ("cannot run PROGRAM: REASON"), for the program to
 * print. */
int cft_handover_exec(char **argv, cft_l1_record *r, cft_error *err);
/* Its last step: execvpe(argv, envp). */
int cft_handover_execvpe(char **argv, char **envp, cft_error *err);
