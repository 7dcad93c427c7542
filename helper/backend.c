/* cftoken-backend: every command the front end (warm.c) does not answer
 * warm.  Parses the command line once, then hands over to one command
 * function.  Nothing here talks HTTP itself: that is lib/. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cftoken-config.h"
#include "cli.h"
#include "api/api.h"
#include "cache/keyring.h"
#include "cache/l2_read.h"
#include "config/config.h"
#include "core/log.h"
#include "core/quick_exit.h"
#include "core/timeutil.h"

static const struct command {
	const char *name;
	int (*run)(const cli *c);
	const char *summary;
	bool program_follows;      /* exec: everything after the options is the program */
} commands[] = {
	{ "get", cmd_get, "git credential helper: answer with the profile's token", false },
	{ "store", cmd_store, "git credential helper: keep a token a tool hands back", false },
	{ "erase", cmd_erase, "git credential helper: drop the cached token", false },
	{ "capability", cmd_capability, "git credential helper: the capabilities it has (none)", false },
	{ "exec", cmd_exec, "run a program with CLOUDFLARE_API_TOKEN set", true },
	{ "env", cmd_env, "print export lines for eval \"$(cftoken env)\"", false },
	{ "login", cmd_login, "verify and keep the parent token (one that may create tokens)", false },
	{ "logout", cmd_logout, "forget the parent token and the tokens cached with it", false },
	{ "doctor", cmd_doctor, "check configuration, caches, lock, parent token and profiles", false },
	{ "verify", cmd_verify, "check the token given on stdin or with --token-file", false },
	{ "create", cmd_create, "create a token and print its value to a pipe", false },
	{ "apply", cmd_apply, "make the API hold the profile's declared token, as described", false },
	{ "destroy", cmd_destroy, "delete the profile's declared token and its bindings", false },
	{ "bind", cmd_bind, "store the declared token as a Worker's secret (--worker)", false },
	{ "unbind", cmd_unbind, "delete that Worker secret", false },
	{ "token", cmd_token, "print the profile's token to a pipe", false },
	{ "list", cmd_list, "list the tokens cftoken minted (--all: every token)", false },
	{ "revoke", cmd_revoke, "delete the tokens with the given ids", false },
	{ "roll", cmd_roll, "give a token a new value and print it to a pipe", false },
	{ "accounts", cmd_accounts, "list the accounts the token can see", false },
	{ "permissions", cmd_permissions, "list the permission groups and their ids", false },
	{ "learn", cmd_learn, "run a program through the forwarder and print the least "
	  "privilege it needs", true },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cftoken [OPTIONS] COMMAND [ARGS]\n"
		"       cftoken exec [--profile P] [--min-ttl D] [--proxy] -- PROGRAM [ARGS]\n"
		"       eval \"$(cftoken env [--profile P] [--format sh|fish|json])\"\n"
		"       cftoken learn --profile P [--write] [--json] -- PROGRAM [ARGS]\n"
		"\n"
		"Obtains and manages Cloudflare API tokens.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"get, exec and env hand over the profile's token, minting one with the\n"
		"parent token from `cftoken login` when the cache has none that is fresh.\n"
		"Other commands act with --token-file FILE (mode 0600), else the parent\n"
		"token (parent_token_file, or cftoken login's), else standard input or\n"
		"the terminal without echo; verify checks the token it is given.\n"
		"A token is never taken from the command line.\n"
		"\n"
		"Options:\n"
		"  --account ID          account id (default: $CLOUDFLARE_ACCOUNT_ID, account\n"
		"                        in the config, or the only account the token sees)\n"
		"  --user                user-owned tokens (/user/tokens) instead\n"
		"  --token-file FILE     read the token from FILE ('-': standard input)\n"
		"  --api-url URL         API base (default: $CLOUDFLARE_API_BASE_URL, api_url\n"
		"                        in the config, or " CFT_DEFAULT_API_URL ")\n"
		"  --ca-file FILE        an extra CA bundle (default: $CFTOKEN_CA_FILE, ca_file)\n"
		"  --timeout SECONDS     deadline for each API call (default 8)\n"
		"  --profile NAME        the profile (default: profile in [defaults], or the\n"
		"                        only [profile] section)\n"
		"  --min-ttl DURATION    exec, env: the token must last at least this long\n"
		"  --format FORMAT       env: sh (default), fish or json\n"
		"  --proxy               exec: the program gets a stand-in token and a\n"
		"                        forwarder on 127.0.0.1 that adds the real one\n"
		"  --proxy-timeout DURATION  exec --proxy, learn: a forwarded call that\n"
		"                        moves no byte for this long is given up (default 2m)\n"
		"  --json                machine-readable output (verify, list, apply, learn)\n"
		"  --write               learn: put the learned profile into the user's\n"
		"                        configuration file\n"
		"  --all                 list: every token of the account, not only cftoken's\n"
		"  --verbose             get, exec, env: say which cache answered, and why\n"
		"  --force               print a token value even to a terminal\n"
		"  --dry-run             apply, destroy: say what would change, change nothing\n"
		"  --worker NAME         bind, unbind: the Worker script\n"
		"  --binding NAME        bind, unbind: the secret (default CLOUDFLARE_API_TOKEN)\n"
		"  -h, --help            this help;  --version  the version\n"
		"\n"
		"create:\n"
		"  --permission NAME     a permission group, as the dashboard or API names it\n"
		"                        (\"Workers Scripts Write\", \"Zone Read\"); repeatable;\n"
		"                        \"zone:NAME\" or \"account:NAME\" picks the scope\n"
		"  --zone ZONE           limit zone permissions to this zone, by name or id\n"
		"                        (repeatable; default: every zone of the account)\n"
		"  --name NAME           token name (default: cftoken cli USER@HOST DATE)\n"
		"  --ttl DURATION        expire after 30m, 8h, 7d ... (default: no expiry)\n"
		"  --not-before DURATION valid only from this long from now\n"
		"  --ip-in CIDR, --ip-not-in CIDR   client address condition (repeatable)\n"
		"\n"
		"Configuration: " CFT_SYSTEM_CONFIG ", then $CFTOKEN_CONFIG or\n"
		"$XDG_CONFIG_HOME/cftoken/config; [defaults] gives account, api_url, ca_file,\n"
		"timeout.\n"
		"\n"
		"Exit status: 0 success; 1 the API failed or could not be reached; 2 bad\n"
		"usage or input; 3 the token was refused or lacks a permission; 4 no such\n"
		"account or token; 5 learn: the learned profile is incomplete, or the\n"
		"program failed.\n");
}

enum {
	OPT_ACCOUNT = 256, OPT_USER, OPT_TOKEN_FILE, OPT_API_URL, OPT_CA_FILE,
	OPT_TIMEOUT, OPT_JSON, OPT_FORCE, OPT_PERMISSION, OPT_ZONE, OPT_NAME, OPT_TTL,
	OPT_NOT_BEFORE, OPT_IP_IN, OPT_IP_NOT_IN, OPT_VERSION, OPT_PROFILE, OPT_MIN_TTL,
	OPT_FORMAT, OPT_ALL, OPT_VERBOSE, OPT_DRY_RUN, OPT_WORKER, OPT_BINDING, OPT_PROXY,
	OPT_PROXY_TIMEOUT, OPT_WRITE,
};

static int add_to(const char **list, size_t *n, const char *value, const char *option)
{
	if (*n >= CLI_MAX_LIST) {
		fprintf(stderr, "cftoken: at most %d %s options\n", CLI_MAX_LIST, option);
		return -1;
	}
	list[(*n)++] = value;
	return 0;
}

static int parse_duration_option(const char *value, const char *option, int64_t *out)
{
	if (cft_duration_parse(value, out) != 0) {
		fprintf(stderr, "cftoken: %s \"%.40s\": give a duration such as 30m, 8h or 7d\n",
			option, value);
		return -1;
	}
	return 0;
}

static const struct option opts[] = {
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "user", no_argument, NULL, OPT_USER },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "api-url", required_argument, NULL, OPT_API_URL },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "permission", required_argument, NULL, OPT_PERMISSION },
	{ "zone", required_argument, NULL, OPT_ZONE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "not-before", required_argument, NULL, OPT_NOT_BEFORE },
	{ "ip-in", required_argument, NULL, OPT_IP_IN },
	{ "ip-not-in", required_argument, NULL, OPT_IP_NOT_IN },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "min-ttl", required_argument, NULL, OPT_MIN_TTL },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "binding", required_argument, NULL, OPT_BINDING },
	{ "proxy", no_argument, NULL, OPT_PROXY },
	{ "proxy-timeout", required_argument, NULL, OPT_PROXY_TIMEOUT },
	{ "write", no_argument, NULL, OPT_WRITE },
	{ 0 },
};

/* One pass of getopt over argv; `stop_at_first` leaves everything from the
 * first non-option on (the command; exec's program).  `command`: the
 * command whose options these are (its --help), or NULL. */
static int parse_options(int argc, char **argv, bool stop_at_first, const char *command,
			 cli *c)
{
	int o;
	int64_t seconds;

	opterr = 0;
	optind = 0;  /* glibc: start afresh, at argv[1] */
	while ((o = getopt_long(argc, argv, stop_at_first ? "+h" : "h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_ACCOUNT: c->account_id = c->raw_account = optarg; break;
		case OPT_PROFILE: c->profile = optarg; break;
		case OPT_FORMAT: c->format = optarg; break;
		case OPT_ALL: c->all = true; break;
		case OPT_VERBOSE: c->verbose = true; break;
		case OPT_DRY_RUN: c->dry_run = true; break;
		case OPT_WORKER: c->worker = optarg; break;
		case OPT_BINDING: c->binding = optarg; break;
		case OPT_PROXY: c->forward = true; break;
		case OPT_PROXY_TIMEOUT:
			/* (at most the forwarder's whole-call limit, 30 minutes) */
			if (cft_duration_parse(optarg, &seconds) != 0 || seconds < 1 ||
			    seconds > 1800) {
				fprintf(stderr, "cftoken: --proxy-timeout \"%.40s\": give 1 second "
					"to 30 minutes\n", optarg);
				return -1;
			}
			c->proxy_idle_ms = (long)seconds * 1000;
			break;
		case OPT_WRITE: c->write = true; break;
		case OPT_MIN_TTL:
			if (parse_duration_option(optarg, "--min-ttl", &seconds))
				return -1;
			c->min_ttl = (long)seconds;
			break;
		case OPT_USER: c->user_owned = true; break;
		case OPT_TOKEN_FILE: c->token_file = optarg; break;
		case OPT_API_URL: c->api_url = c->raw_api_url = optarg; break;
		case OPT_CA_FILE: c->ca_file = optarg; break;
		case OPT_JSON: c->json = true; break;
		case OPT_FORCE: c->force = true; break;
		case OPT_NAME: c->name = optarg; break;
		case OPT_TIMEOUT:
			if (cft_duration_parse(optarg, &seconds) != 0 || seconds > 600) {
				fprintf(stderr, "cftoken: --timeout \"%.40s\": give 1 to 600 seconds\n",
					optarg);
				return -1;
			}
			c->timeout_ms = (long)seconds * 1000;
			break;
		case OPT_PERMISSION:
			if (add_to(c->permissions, &c->n_permissions, optarg, "--permission"))
				return -1;
			break;
		case OPT_ZONE:
			if (add_to(c->zones, &c->n_zones, optarg, "--zone"))
				return -1;
			break;
		case OPT_IP_IN:
			if (add_to(c->ip_in, &c->n_ip_in, optarg, "--ip-in"))
				return -1;
			break;
		case OPT_IP_NOT_IN:
			if (add_to(c->ip_not_in, &c->n_ip_not_in, optarg, "--ip-not-in"))
				return -1;
			break;
		case OPT_TTL:
			if (parse_duration_option(optarg, "--ttl", &c->ttl_s))
				return -1;
			break;
		case OPT_NOT_BEFORE:
			if (parse_duration_option(optarg, "--not-before", &c->not_before_s))
				return -1;
			break;
		case 'h':
			if (command && cli_command_help(command))
				printf("%s\nOptions for every command: cftoken --help\n",
				       cli_command_help(command));
			else
				usage(stdout);
			exit(EXIT_OK);
		case OPT_VERSION:
			printf("cftoken %s\n", CFTOKEN_VERSION);
			exit(EXIT_OK);
		default:
			fprintf(stderr, "cftoken: unknown or incomplete option \"%s\" "
				"(cftoken --help lists them)\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* Options before the command, the command, then its options (anywhere
 * among its arguments, except for exec, whose program comes after them). */
static const struct command *parse_args(int argc, char **argv, cli *c)
{
	int at = parse_options(argc, argv, true, NULL, c);
	if (at < 0)
		return NULL;
	if (at >= argc) {
		usage(stderr);
		return NULL;
	}
	c->command = argv[at];
	const struct command *cmd = find_command(c->command);
	/* git requires a helper to ignore operations it does not know (a
	 * newer git may send some): as git-credential-cftoken, say nothing. */
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (!cmd && strncmp(self, "git-credential-", 15) == 0)
		exit(EXIT_OK);
	if (!cmd) {
		fprintf(stderr, "cftoken: unknown command \"%.40s\" (cftoken --help lists them)\n",
			c->command);
		return NULL;
	}
	int sub_argc = argc - at;
	char **sub_argv = argv + at;
	int rest = parse_options(sub_argc, sub_argv, cmd->program_follows, cmd->name, c);
	if (rest < 0)
		return NULL;
	c->args = sub_argv + rest;
	c->n_args = sub_argc - rest;
	if (c->forward && strcmp(cmd->name, "exec") != 0) {
		fprintf(stderr, "cftoken: --proxy is an option of exec alone\n");
		return NULL;
	}
	if (c->write && strcmp(cmd->name, "learn") != 0) {
		fprintf(stderr, "cftoken: --write is an option of learn alone\n");
		return NULL;
	}
	return cmd;
}

/* The command line wins, then the environment, then the configuration
 * files' [defaults], then the built-in defaults. */
static void apply_settings(cli *c, const cft_config *cfg)
{
	c->api_url_from = c->api_url ? "--api-url" : NULL;
	if (!c->api_url) {
		c->api_url = secure_getenv("CLOUDFLARE_API_BASE_URL");
		c->api_url_from = "CLOUDFLARE_API_BASE_URL";
	}
	if (!c->api_url || !*c->api_url) {
		c->api_url = cfg->api_url;
		c->api_url_from = NULL;  /* the configuration's own */
	}
	c->ca_file_from = c->ca_file ? "--ca-file" : NULL;
	if (!c->ca_file) {
		c->ca_file = secure_getenv("CFTOKEN_CA_FILE");
		c->ca_file_from = "CFTOKEN_CA_FILE";
	}
	if (!c->ca_file || !*c->ca_file) {
		c->ca_file = cfg->ca_file;
		c->ca_file_from = cfg->ca_file ? "ca_file in the configuration" : NULL;
	}
	if (!c->account_id && !c->user_owned) {
		const char *a = secure_getenv("CLOUDFLARE_ACCOUNT_ID");
		c->account_id = a && *a ? a : cfg->account_id;
	}
	if (!c->timeout_ms && cfg->timeout_s)
		c->timeout_ms = (long)cfg->timeout_s * 1000;
}

/* A login session without a runtime directory (no pam_systemd): the one
 * pam_cftoken's worker made for this user under run_dir, so that this
 * process and the worker take the same locks, and no lock ever goes to a
 * shared directory.  Root made it in a directory only root writes; it
 * must be ours and private.  (The library reads XDG_RUNTIME_DIR; only a
 * program sets it.) */
static void use_login_runtime_dir(const cft_config *cfg)
{
	const char *set = getenv("XDG_RUNTIME_DIR");
	char own[64], users[4096], dir[4200];
	struct stat st;
	if (set && *set)
		return;
	snprintf(own, sizeof(own), "/run/user/%u", (unsigned)getuid());
	if (access(own, W_OK) == 0)
		return;
	int n = snprintf(users, sizeof(users), "%s/users",
			 cfg->run_dir ? cfg->run_dir : CFT_DEFAULT_RUN_DIR);
	if (n < 0 || (size_t)n >= sizeof(users) || lstat(users, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return;
	snprintf(dir, sizeof(dir), "%s/%u", users, (unsigned)getuid());
	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
	    (st.st_mode & 077) == 0)
		setenv("XDG_RUNTIME_DIR", dir, 1);
}

/* What the library says beside its errors (core/log.h), on stderr as
 * cftoken words it: "cftoken: ", then "warning: " for a warning.  It has
 * no debug lines a user of this program needs. */
static void print_log(void *ctx, cft_log_level level, const char *text)
{
	if (level != CFT_LOG_DEBUG)
		fprintf(stderr, "cftoken: %s%s\n", level == CFT_LOG_WARNING ? "warning: " : "",
			text);
}

static int run(int argc, char **argv)
{
	cli c = { 0 };

	/* This process holds token values: no core dumps, no ptrace by
	 * other processes of the user. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* API answers carry token values: wiped when jansson frees them. */
	json_set_alloc_funcs(malloc, cft_json_wiping_free);
	cft_set_log_handler(print_log, NULL);

	/* Taken out at once: nothing this process runs inherits it. */
	static char missed[CFT_KEY_DESC_MAX];
	const char *hint = getenv(CFT_L2_MISSED_ENV);
	if (hint && snprintf(missed, sizeof(missed), "%s", hint) < (int)sizeof(missed))
		c.l2_missed = missed;
	unsetenv(CFT_L2_MISSED_ENV);
	const struct command *cmd = parse_args(argc, argv, &c);
	if (!cmd)
		return EXIT_USAGE;
	cft_config cfg;
	cft_error err;
	cft_error_clear(&err);
	if (cft_config_load(&cfg, &err) != CFT_OK) {
		fprintf(stderr, "cftoken: configuration: %s\n", err.detail);
		return EXIT_USAGE;
	}
	apply_settings(&c, &cfg);
	use_login_runtime_dir(&cfg);
	c.cfg = &cfg;
	int status = cmd->run(&c);
	cft_config_clear(&cfg);
	return status;
}

/* run() lets go of what is ours (secrets wiped, locks released); the
 * libraries' exit handlers are skipped (core/quick_exit.h). */
int main(int argc, char **argv)
{
	cft_quick_exit(run(argc, argv));
}
