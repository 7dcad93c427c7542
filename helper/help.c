/* `cftoken COMMAND --help`: what one command does, its options, and how it
 * ends.  `cftoken --help` (backend.c) has the overview. */
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	const char *text;
} help[] = {
	{ "get",
	  "Usage: git credential-cftoken get   (or: cftoken [--profile P] get < request)\n"
	  "\n"
	  "The git credential helper's get: reads protocol=, host=, path= lines ended by\n"
	  "a blank line and answers username= (the account id), password= (the token)\n"
	  "and password_expiry_utc=.  api.cloudflare.com (and the configured API's host)\n"
	  "means the default profile; hosts = in a profile maps others.  A host that is\n"
	  "not cftoken's gets no answer, so git asks its next helper.  Only\n"
	  "protocol=https is answered, and never a path with a \".\" or \"..\" segment\n"
	  "(encoded or not).  Over-long lines, more than 128 lines, NUL bytes and lines\n"
	  "without '=' are refused (exit 2).  Refuses to print to a terminal unless\n"
	  "--force.  Set it up with: git config --global credential.helper cftoken\n" },
	{ "store",
	  "Usage: git credential-cftoken store < credential\n"
	  "\n"
	  "git's confirmation that a credential worked.  The token get gave is cached\n"
	  "already.  Another token (typed at git's prompt, say) is adopted for the\n"
	  "profile when it is shaped like a Cloudflare API token (anything else never\n"
	  "reaches the API), is not the parent token, the API verifies it as active,\n"
	  "and its policies, read with the parent token, give no more than the\n"
	  "profile's tokens get.  Then it is cached with its expiry, replaced when due,\n"
	  "and never deleted on the API by cftoken.  A refusal says why and exits\n"
	  "non-zero; nothing is cached.\n" },
	{ "erase",
	  "Usage: git credential-cftoken erase < credential\n"
	  "\n"
	  "git's report that a server refused the credential: the profile's cached token\n"
	  "is dropped from both caches (and revoked with revoke_on_erase = true), so the\n"
	  "next get mints a new one.  A password that is not the cached one is ignored.\n" },
	{ "capability",
	  "Usage: git credential-cftoken capability\n"
	  "\n"
	  "Answers as git credential capability does: \"version 0\", then the\n"
	  "capabilities it has: none (neither authtype nor state).\n" },
	{ "exec",
	  "Usage: cftoken exec [--profile P] [--min-ttl DURATION] [--verbose] [--proxy]\n"
	  "                    -- PROGRAM [ARGS...]\n"
	  "\n"
	  "Runs PROGRAM with CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and\n"
	  "CFTOKEN_EXPIRES_ON set to the profile's token, minting one if the cache has\n"
	  "none that is fresh.  --min-ttl: the token must last at least this long.\n"
	  "--verbose says which cache answered (or that it minted), and why.\n"
	  "The exit status is PROGRAM's (127: not found).  With cache none, cftoken\n"
	  "stays PROGRAM's parent and deletes the token when PROGRAM exits.\n"
	  "--proxy (or proxy = true in the profile): PROGRAM never gets the token.\n"
	  "cftoken stays its parent and runs a forwarder on 127.0.0.1; PROGRAM gets\n"
	  "CLOUDFLARE_API_BASE_URL=http://127.0.0.1:PORT/client/v4 and, as\n"
	  "CLOUDFLARE_API_TOKEN, a stand-in valid only there, for this run.  The\n"
	  "forwarder sends each request on to the API with the real token.\n"
	  "Example: cftoken exec -- wrangler deploy\n" },
	{ "learn",
	  "Usage: cftoken learn --profile NAME [--write] [--json] -- PROGRAM [ARGS...]\n"
	  "\n"
	  "Runs PROGRAM as exec --proxy does, with a learning token: minted for this\n"
	  "run with every group cftoken's operations table knows (15 minutes, never\n"
	  "cached, deleted when PROGRAM exits).  Records each API operation PROGRAM\n"
	  "calls, then prints the least privilege that covers them as a [profile NAME]\n"
	  "section (one group per operation, Read before Write; the account, and the\n"
	  "zones the paths named) and a table of operation -> group.  Operations that\n"
	  "need no group, or only user-scope groups, are listed, not learned.  An\n"
	  "operation whose groups the table does not know marks the profile incomplete.\n"
	  "--write: add or update [profile NAME] in the user's configuration file\n"
	  "($CFTOKEN_CONFIG or $XDG_CONFIG_HOME/cftoken/config), keeping its other\n"
	  "lines.  --json: one JSON object.  PROGRAM's standard output goes to\n"
	  "cftoken's standard error.  Exit status 0, or 5 when the profile is\n"
	  "incomplete or PROGRAM failed (what was seen is still printed).\n"
	  "Example: cftoken learn --profile deploy --write -- wrangler deploy\n" },
	{ "env",
	  "Usage: eval \"$(cftoken env [--profile P] [--min-ttl D] [--format sh|fish|json])\"\n"
	  "\n"
	  "Prints the lines that set CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and\n"
	  "CFTOKEN_EXPIRES_ON.  Refuses to print to a terminal unless --force.\n"
	  "With cache none, the token lasts at most 15 minutes.\n" },
	{ "apply",
	  "Usage: cftoken apply [--profile P] [--dry-run] [--json]\n"
	  "\n"
	  "Makes the API hold exactly one token for the profile, as the profile\n"
	  "describes it.  None recorded: creates it.  Recorded (by id, in\n"
	  "$XDG_STATE_HOME/cftoken/declared): compares name, policies, condition,\n"
	  "not_before and expires_on with what the API holds, and updates it in place\n"
	  "(the value is kept) when they differ.  Times count from the token's issue\n"
	  "time, so applying twice changes nothing.  A token deleted behind cftoken's\n"
	  "back is created again, an expired one replaced, and the output says so.\n"
	  "Prints \"created\", \"updated (FIELDS)\" or \"unchanged\"; --dry-run prints\n"
	  "the differences field by field and writes nothing; --json for scripts.\n"
	  "exec, env, get and token then hand over this token.\n" },
	{ "destroy",
	  "Usage: cftoken destroy [--profile P] [--dry-run] [--json]\n"
	  "\n"
	  "Deletes the profile's declared token on the API and in the caches, and\n"
	  "forgets it.  Nothing declared, or already gone: says so, exit 0.\n" },
	{ "token",
	  "Usage: cftoken token [--profile P] [--min-ttl D] [--force] | PROGRAM\n"
	  "\n"
	  "Prints the profile's token (its declared token, else one from the cache or\n"
	  "minted) and a newline, for a pipe:\n"
	  "  cftoken token --profile api | wrangler secret put API_TOKEN --name my-worker\n"
	  "Refuses to print to a terminal unless --force.\n" },
	{ "login",
	  "Usage: cftoken login [--account ID] [--token-file FILE]\n"
	  "\n"
	  "Reads a token that may create tokens (\"Account API Tokens Write\") from the\n"
	  "terminal without echo, from standard input, or from FILE; trims it; refuses a\n"
	  "Global API Key; verifies it against the API; and keeps it in the keyring for\n"
	  "get, exec and env to mint with.\n" },
	{ "logout",
	  "Usage: cftoken logout\n"
	  "\n"
	  "Forgets the parent token for the API, and drops the tokens minted with it\n"
	  "from both caches (they expire on their own at Cloudflare).\n" },
	{ "doctor",
	  "Usage: cftoken doctor [--profile P]\n"
	  "\n"
	  "Checks the configuration, the kernel keyring, the Secret Service (and says\n"
	  "which cache is used, and why), the lock directory, the parent token against\n"
	  "the API, and whether every profile's permissions resolve.  Exit 1 when\n"
	  "anything fails, with what to do about it.\n" },
	{ "verify",
	  "Usage: cftoken verify [--account ID | --user] [--token-file FILE|-] [--json]\n"
	  "\n"
	  "Checks the token given on standard input or in FILE: its id, status and\n"
	  "expiry.\n" },
	{ "create",
	  "Usage: cftoken create --permission NAME... [--zone ID]... [--ttl D]\n"
	  "                      [--not-before D] [--ip-in CIDR]... [--ip-not-in CIDR]...\n"
	  "                      [--name NAME] [--force] > pipe\n"
	  "\n"
	  "Creates a token with the parent token and prints its value to a pipe (to a\n"
	  "terminal only with --force); its id goes to standard error.\n" },
	{ "list",
	  "Usage: cftoken list [--all] [--json]\n"
	  "\n"
	  "The tokens cftoken minted (named by its default template, or cached here),\n"
	  "with status, expiry, last use and whether this machine caches them; --all\n"
	  "shows every token of the account.  Standard error counts them against the\n"
	  "account's cap of 500.\n" },
	{ "revoke",
	  "Usage: cftoken revoke TOKEN_ID...\n"
	  "\n"
	  "Deletes the tokens on the API and drops them from both caches.\n" },
	{ "roll",
	  "Usage: cftoken roll TOKEN_ID > pipe\n"
	  "       cftoken roll --profile P\n"
	  "\n"
	  "Gives the token a new value, prints it to a pipe, and puts it in the caches\n"
	  "in place of the old one, which stops working.  With --profile: the\n"
	  "profile's declared token (cftoken apply), its new value cached and put into\n"
	  "every Worker secret bound to it; one that fails is reported and retried at\n"
	  "the next apply, bind or roll (exit 1).\n" },
	{ "bind",
	  "Usage: cftoken bind [--profile P] --worker NAME [--binding SECRET]\n"
	  "\n"
	  "Stores the profile's declared token as Worker NAME's secret SECRET\n"
	  "(CLOUDFLARE_API_TOKEN by default), as `wrangler secret put` does, and records\n"
	  "the binding: roll and apply keep it up to date, destroy deletes it.  The\n"
	  "parent token needs \"Workers Scripts Write\".\n" },
	{ "unbind",
	  "Usage: cftoken unbind [--profile P] --worker NAME [--binding SECRET]\n"
	  "\n"
	  "Deletes that Worker secret and forgets the binding.  Already gone: exit 0.\n" },
	{ "accounts", "Usage: cftoken accounts\n\nThe accounts the token can see.\n" },
	{ "permissions",
	  "Usage: cftoken permissions\n"
	  "\n"
	  "The permission groups of the account, with their ids and scopes.\n" },
};

const char *cli_command_help(const char *name)
{
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
		if (strcmp(help[i].name, name) == 0)
			return help[i].text;
	return NULL;
}
