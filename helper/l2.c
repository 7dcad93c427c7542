/* cftoken-l2: the front end's second step when the kernel keyring has lost
 * a token its route still names (a reboot, a purge): look in the Secret
 * Service, refill the kernel keyring and answer.  It reads over libdbus
 * (l2_read.c): no libcurl, jansson, GLib or libsecret; on a miss, a locked collection or no Secret
 * Service, cftoken-backend takes the request as it came (same arguments,
 * same standard input), and decides and explains.
 *   cftoken-l2 TOKEN-KEY FINGERPRINT ARGV... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "warm_args.h"
#include "cache/l2_read.h"
#include "cache/session_bus.h"

/* Short: past it, the backend (which also tries the Secret Service) has
 * the rest of the request's time. */
#define L2_TIMEOUT_MS 1000

int main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	if (argc < 5)
		return 2;
	const char *desc = argv[1], *fp = argv[2];
	char **orig = argv + 3;
	int orig_argc = argc - 3;
	char account[33], profile[CFT_PROFILE_NAME_MAX + 1], api[CFT_API_HASH_SIZE];
	warm_args w;
	cft_l1_record r = { 0 };

	if (!warm_args_parse(orig_argc, orig, &w) || cft_l1_desc_parse(desc, account, profile, api))
		warm_exec_sibling("cftoken-backend", orig);
	/* The item is found by the API's hash; its record's URL must be the
	 * one that hash is of (cft_l1_store_desc checks) and the one the
	 * request names, if it names one. */
	const char *api_url = cft_request_api_url(&w.rq);
	/* The library sets no environment: the bus is exported here, as
	 * cftoken-backend does, for libdbus to find it. */
	char bus[CFT_SESSION_BUS_ADDRESS_MAX];
	if (cft_session_bus_address(bus, sizeof(bus)))
		setenv("DBUS_SESSION_BUS_ADDRESS", bus, 1);
	cft_code found = cft_l2_read(account, profile, api, L2_TIMEOUT_MS, &r, NULL);
	/* The Secret Service answered that it holds no token for the key:
	 * the backend need not ask it again before it mints (a locked
	 * collection, or no answer, is not a miss, and says nothing). */
	if (found == CFT_E_NOT_FOUND)
		setenv(CFT_L2_MISSED_ENV, desc, 1);
	bool hit = found == CFT_OK && cft_l1_fresh(&r, time(NULL), w.min_ttl) &&
		   strcmp(r.account, account) == 0 && strcmp(r.profile, profile) == 0 &&
		   (!api_url || cft_api_url_is(r.api, api_url));
	if (!hit || cft_l1_store_desc(fp, desc, &r, NULL) != CFT_OK) {
		cft_l1_record_clear(&r);
		warm_exec_sibling("cftoken-backend", orig);
	}
	return warm_answer(&w, orig, &r);
}
