/* Drives login sessions through real libpam (under pam_wrapper) with
 * libpamtest, as a login program would:
 *
 *   pam-session [--sessions N] [--no-close] SERVICE USER [-- CMD ARGS...]
 *
 * opens N sessions of USER, one after the other; runs CMD (if given) with
 * the last session's environment added to its own, as a login shell would
 * get it; then closes the sessions in the order they were opened.  Prints
 * what a test needs: each step's PAM result and time, the exported names
 * (CLOUDFLARE_ACCOUNT_ID and CFTOKEN_EXPIRES_ON with their values, the
 * token only as a hash so it never lands in a log), CMD's exit status. */
#include <libpamtest.h>
#include <security/pam_appl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SESSIONS 8

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a, 64 bits: enough to tell tokens apart, useless to use one. */
static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void show_env(int i, char **env)
{
	int token = 0;
	for (size_t k = 0; env && env[k]; k++) {
		const char *e = env[k];
		if (!strncmp(e, "CLOUDFLARE_API_TOKEN=", 21)) {
			printf("token %d: %016llx (%zu characters)\n", i,
			       (unsigned long long)hash(e + 21), strlen(e + 21));
			token = 1;
		} else if (!strncmp(e, "CLOUDFLARE_", 11) || !strncmp(e, "CFTOKEN_", 8)) {
			printf("env %d: %s\n", i, e);
		}
	}
	if (!token)
		printf("token %d: none\n", i);
}

/* The module never converses: a session is opened without a password. */
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp,
			   void *data)
{
	return PAM_CONV_ERR;
}

static int run_cmd(char **cmd, char **env)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* What the session's programs see: no test wrapper. */
		unsetenv("LD_PRELOAD");
		unsetenv("PAM_WRAPPER");
		unsetenv("PAM_WRAPPER_SERVICE_DIR");
		for (size_t k = 0; env && env[k]; k++)
			putenv(env[k]);
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void free_env(char **env)
{
	for (size_t k = 0; env && env[k]; k++) {
		explicit_bzero(env[k], strlen(env[k]));
		free(env[k]);
	}
	free(env);
}

int main(int argc, char **argv)
{
	int n = 1, close_them = 1, i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (!strcmp(argv[i], "--sessions") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-close"))
			close_them = 0;
		else
			break;
	}
	if (argc - i < 2 || n < 1 || n > MAX_SESSIONS) {
		fprintf(stderr, "usage: pam-session [--sessions N] [--no-close] SERVICE USER "
				"[-- CMD ARGS...]\n");
		return 2;
	}
	const char *service = argv[i], *user = argv[i + 1];
	char **cmd = i + 2 < argc && !strcmp(argv[i + 2], "--") ? argv + i + 3 : NULL;
	pam_handle_t *handles[MAX_SESSIONS] = { 0 };
	char **env = NULL;
	int failures = 0;

	for (int s = 0; s < n; s++) {
		struct pam_testcase open_cases[] = {
			pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
			pam_test(PAMTEST_GETENVLIST, PAM_SUCCESS),
			pam_test(PAMTEST_KEEPHANDLE, PAM_SUCCESS),
		};
		/* pam_start (reading the service file, loading the modules)
		 * happens once per process in a login program: not timed. */
		pam_handle_t *ph = NULL;
		struct pam_conv conv = { no_conversation, NULL };
		if (pam_start(service, user, &conv, &ph) != PAM_SUCCESS) {
			printf("pam_start failed\n");
			return 1;
		}
		long long t0 = now_ms();
		enum pamtest_err perr = run_pamtest(service, user, NULL, open_cases, ph);
		long long took = now_ms() - t0;
		int rc = open_cases[0].op_rv;
		printf("open %d: %s (%d) in %lld ms\n", s + 1,
		       rc == PAM_SUCCESS ? "PAM_SUCCESS" : rc == PAM_IGNORE ? "PAM_IGNORE"
		       : rc == PAM_SESSION_ERR ? "PAM_SESSION_ERR" : "other", rc, took);
		if (perr == PAMTEST_ERR_CASE && rc != PAM_SUCCESS) {
			/* run_pamtest stops at a failed case and ends the handle. */
			failures++;
			continue;
		}
		if (perr != PAMTEST_ERR_OK) {
			printf("pamtest error %d\n", (int)perr);
			return 1;
		}
		handles[s] = open_cases[2].case_out.ph;
		free_env(env);
		env = open_cases[1].case_out.envlist;
		show_env(s + 1, env);
	}
	if (cmd)
		printf("cmd: exit %d\n", run_cmd(cmd, env));
	for (int s = 0; s < n; s++) {
		if (!handles[s])
			continue;
		if (!close_them) {
			pam_end(handles[s], PAM_SUCCESS);
			continue;
		}
		struct pam_testcase close_cases[] = {
			pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
		};
		long long t0 = now_ms();
		run_pamtest(service, user, NULL, close_cases, handles[s]);
		int rc = close_cases[0].op_rv;
		printf("close %d: %s (%d) in %lld ms\n", s + 1,
		       rc == PAM_SUCCESS ? "PAM_SUCCESS" : rc == PAM_IGNORE ? "PAM_IGNORE" : "other",
		       rc, now_ms() - t0);
	}
	free_env(env);
	return failures ? 3 : 0;
}
