/* What the command line said, parsed once; shared by the commands. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/api.h"
#include "cache/parent.h"
#include "cache/secret_service.h"
#include "config/config.h"
#include "core/l1_record.h"

#define CLI_MAX_LIST 32

typedef struct cli {
	const char *command;
	char **args;               /* positional arguments after the command */
	int n_args;

	const char *api_url;
	const char *api_url_from;  /* who named it: "--api-url", the variable, the config */
	const char *ca_file;
	const char *ca_file_from;  /* the same for the CA file */
	long timeout_ms;
	const char *account_id;
	bool user_owned;
	const char *token_file;

	const char *name;
	const char *permissions[CLI_MAX_LIST];
	size_t n_permissions;
	const char *zones[CLI_MAX_LIST];
	size_t n_zones;
	const char *ip_in[CLI_MAX_LIST];
	size_t n_ip_in;
	const char *ip_not_in[CLI_MAX_LIST];
	size_t n_ip_not_in;
	int64_t ttl_s;             /* 0: no expiry */
	int64_t not_before_s;      /* 0: now */
	bool json;
	bool force;
	bool all;                  /* list: every token of the account */
	bool verbose;              /* say which cache answered, and why */
	/* The token key whose Secret Service item cftoken-l2 just found
	 * missing (CFT_L2_MISSED_ENV), or NULL. */
	const char *l2_missed;
	bool dry_run;              /* apply, destroy: say, change nothing */
	const char *worker;        /* bind, unbind: the Worker script */
	const char *binding;       /* bind, unbind: the secret's name */

	/* get, exec, env, login */
	const char *profile;       /* --profile */
	const char *raw_account;   /* --account as given (the request's fingerprint) */
	const char *raw_api_url;   /* --api-url as given */
	long min_ttl;
	long proxy_idle_ms;        /* --proxy-timeout; 0: the forwarder's own */
	const char *format;        /* env --format */
	bool forward;              /* exec --proxy: the token reaches the program's
				    * API calls through the forwarder, never the program */
	bool write;                /* learn --write: into the user's configuration file */
	/* learn's token: minted for the run, never cached (cache = none
	 * whatever the configuration says), never a declared one. */
	bool learning;
	const struct cft_config *cfg;
} cli;

/* Exit codes, documented in --help. */
enum {
	EXIT_OK = 0,
	EXIT_API = 1,        /* the API could not be reached or failed */
	EXIT_USAGE = 2,      /* bad command line or input */
	EXIT_AUTH = 3,       /* the token was refused or lacks a permission */
	EXIT_NOT_FOUND = 4,  /* no such account or token */
	EXIT_LEARNED_PART = 5, /* learn: the profile is incomplete, or the program failed */
};

int cli_exit_code(cft_code code);
void cli_print_error(const char *what, const cft_error *err);
/* Says what failed and why; the exit code for it. */
int cli_fail(const char *what, cft_code rc, const cft_error *err);

/* A client for the token the user gives (--token-file, a pipe or a
 * prompt), or, when parent_ok, the parent token (parent_token_file, or
 * `cftoken login`'s) if no --token-file is named. */
cft_code cli_client(const cli *c, const char *prompt, bool parent_ok, cft_client **out,
		    cft_error *err);

/* The owner the command is about: --user, or the account (--account,
 * CLOUDFLARE_ACCOUNT_ID, or the only account the token can see). */
cft_code cli_owner(const cli *c, cft_client *client, cft_owner *owner,
		   char account_buf[CFT_ID_LEN + 1], cft_error *err);

/* The value goes to stdout for a pipe; a terminal gets it only with
 * --force, so it does not land in scrollback by accident. */
int cli_print_value(const cli *c, const cft_secret *value);

typedef enum cache_mode { CACHE_AUTO, CACHE_SECRET_SERVICE, CACHE_KERNEL, CACHE_NONE } cache_mode;

/* CFTOKEN_CACHE, else cache = in [defaults], else auto. */
cache_mode cli_cache_mode(const cli *c);

/* Whether the cache mode uses the Secret Service (auto, secret-service). */
bool cli_wants_l2(const cli *c);

/* The Secret Service when the mode wants it: required for secret-service
 * (an error without it), tried for auto (*l2 NULL without it). */
cft_code cli_open_l2(const cli *c, cft_l2 **l2, cft_error *err);
/* Before L2 opens: DBUS_SESSION_BUS_ADDRESS set to the session bus, where
 * only $XDG_RUNTIME_DIR/bus names it (cache/session_bus.h). */
void cli_export_session_bus(void);

/* Runs argv as our child with the token in its environment (wiping r
 * here), passing on the signals sent to us alone; its wait status. */
int cli_run_program(char **argv, cft_l1_record *r);
/* The same with envp as its environment: started(ctx, pid) runs here once
 * the program is started (pid < 0: it could not be), before we wait for
 * it; signals sent to us alone are passed on meanwhile. */
int cli_run_child(char **argv, char **envp, void (*started)(void *ctx, pid_t pid), void *ctx);
/* Exits as a program with that wait status did: its exit code, or the
 * signal that ended it, raised again. */
_Noreturn void cli_exit_like(int status);

/* `cftoken COMMAND --help`, or NULL. */
const char *cli_command_help(const char *name);

/* --verbose: which caches this request uses, and why. */
void cli_explain_cache(const cli *c, bool l2_open);

/* The API base the command talks to: --api-url, the environment or the
 * config (already applied to c->api_url), else api.cloudflare.com. */
const char *cli_api_url(const cli *c);

/* The parent token of `cftoken login` for the request's API URL and CA
 * file: the kernel's copy, else the Secret Service's (which then refills
 * the kernel's).  CFT_E_NO_PARENT when there is none for that URL (saying
 * so when the one for the configured API is there); CFT_E_PARENT_ORIGIN
 * when it was verified with another CA file. */
cft_code cli_parent_load(const cli *c, cft_parent *out, cft_error *err);

/* The parent token: with use_file, parent_token_file when the config
 * names one, if the request goes to the API URL and CA file the config
 * file naming it sets (CFT_E_PARENT_ORIGIN otherwise); else
 * cli_parent_load's. */
cft_code cli_parent(const cli *c, bool use_file, cft_parent *out, cft_error *err);

/* The profile --profile names, or the default one (the default profile,
 * else the only profile, else the admin's login policy for this user):
 * choose_profile.c. */
cft_code cli_profile(const cli *c, const cft_profile **out, cft_error *err);

/* The commands, one cmd_*.c file a group: backend.c's table alone calls
 * them, and they call no other (tests/unit/test_helper_calls.py). */
int cmd_apply(const cli *c);
int cmd_bind(const cli *c);
int cmd_unbind(const cli *c);
int cmd_destroy(const cli *c);
int cmd_token(const cli *c);
int cmd_verify(const cli *c);
int cmd_login(const cli *c);
int cmd_doctor(const cli *c);
int cmd_logout(const cli *c);
int cmd_get(const cli *c);
int cmd_store(const cli *c);
int cmd_erase(const cli *c);
int cmd_capability(const cli *c);
int cmd_exec(const cli *c);
int cmd_env(const cli *c);
int cmd_create(const cli *c);
int cmd_list(const cli *c);
int cmd_revoke(const cli *c);
int cmd_roll(const cli *c);
int cmd_accounts(const cli *c);
int cmd_permissions(const cli *c);
int cmd_learn(const cli *c);
