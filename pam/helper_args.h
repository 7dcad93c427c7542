/* The command line pam_cftoken.so (and the broker) give
 * cftoken-pam-helper, which hands it on unchanged to cftoken-pam-worker:
 *
 *   open|close|renew [--config PATH] [--timeout-ms=N] [--deadline-ms=T] [--debug]
 *       [--no-export] [--revoke-on-close] [--session ID] [--min-ttl=S] [--log-fd=N] -- USER
 *
 * --deadline-ms: the moment (CLOCK_MONOTONIC milliseconds, one clock for
 * every process of the machine) at which the caller stops waiting.
 * --timeout-ms alone would start counting only when the worker starts, so
 * the time the helper and the worker take to start (seconds under valgrind)
 * would push the worker's deadline past the caller's, and the caller would
 * stop it before it could say why it has no token.
 *
 * --log-fd: where the log records go (log_record.h); without it, or when
 * N is not open, they are escaped lines on stderr (a run by hand).
 * Nothing secret is among them.  libc only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Exit codes of both programs; pam_cftoken.c and broker.c know them. */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_NO_POLICY = 10 };

/* The worker's file name; the helper finds it beside itself. */
#define PAM_WORKER_NAME "cftoken-pam-worker"

/* Whether the helper only hands a call on to the worker: anything but an
 * open, and an open under revoke_on_close (whose logout empties the
 * cache, so there is never a warm token to give).  pam_cftoken.c then
 * runs the worker itself, one exec fewer. */
static inline bool helper_hands_on(const char *stage, bool revoke_on_close)
{
	return strcmp(stage, "open") != 0 || revoke_on_close;
}

typedef struct args {
	const char *stage;
	const char *config;
	long timeout_ms;
	long long deadline_ms;          /* 0: none given */
	int debug;
	int no_export;
	int revoke_on_close;
	const char *session;
	long min_ttl;
	int log_fd;                  /* -1: lines on stderr */
	const char *user;
} args;

/* 0, or -1 with the reason in why. */
int helper_args_parse(int argc, char **argv, args *a, char *why, size_t why_size);
