/* Running cftoken-pam-helper under a hard deadline, for the PAM module
 * and the broker: fork, exec with a clean environment, collect stdout,
 * stderr and the log records on LOG_RECORD_FD (log_record.h), kill the
 * child's whole process group if it overruns.  libc only, and after
 * fork() only async-signal-safe calls until exec (a PAM host such as gdm
 * is threaded). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SPAWN_OUT_MAX 4096
#define SPAWN_ERR_MAX 4096
#define SPAWN_LOG_MAX 8192

typedef struct spawn_result {
	int status;                  /* the exit code, or -1 (killed, timed out) */
	bool timed_out;
	char out[SPAWN_OUT_MAX];     /* may hold a token: wipe it */
	size_t out_len;
	char err[SPAWN_ERR_MAX];     /* stderr: no record, logged escaped */
	size_t err_len;
	char log[SPAWN_LOG_MAX];     /* log records (log_record.h) */
	size_t log_len;
} spawn_result;

long long spawn_now_ms(void);

/* deadline: spawn_now_ms() milliseconds.  0 when the program ran
 * (whatever it answered, see r->status); -1 when it could not be started,
 * with the reason in r->err. */
int spawn_with_deadline(const char *path, char *const argv[], char *const envp[],
			long long deadline, spawn_result *r);
