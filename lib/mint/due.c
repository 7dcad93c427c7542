/* A token due for renewal is still a valid token until it expires: when
 * its renewal fails for a reason of the moment (the API down, slow, rate
 * limiting, the broker unable to help), serving it beats failing the
 * command that asked, and a person hears why and until when. */
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "core/log.h"
#include "mint/obtain.h"

bool cft_renewal_may_wait(cft_code rc)
{
	switch (rc) {
	case CFT_E_NETWORK:
	case CFT_E_TIMEOUT:
	case CFT_E_RATE_LIMITED:
	case CFT_E_SERVER:
	case CFT_E_MALFORMED:
	case CFT_E_TOO_LARGE:
	case CFT_E_BUSY:
	case CFT_E_RENEWAL:
		return true;
	default:
		/* refused, forbidden, quota, bad configuration: the person
		 * must act, and a token served now would hide it */
		return false;
	}
}

cft_code cft_obtain_due_token(const cft_obtain *o, const cft_error *why, cft_l1_record *out)
{
	cft_l1_record r = { 0 };
	if (o->no_due_fallback)
		return CFT_E_NOT_FOUND;
	if (cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, o->account_id, o->profile->name,
			     o->api_url, &r, NULL) != CFT_OK)
		return CFT_E_NOT_FOUND;
	time_t now = time(NULL);
	long left = (long)(r.expires - now);
	bool refused = o->refused_id && strcmp(o->refused_id, r.id) == 0;
	if (refused || left <= 0 || (o->min_ttl > 0 && left < o->min_ttl) ||
	    !cft_obtain_granted(o, &r)) {
		cft_l1_record_clear(&r);
		return CFT_E_NOT_FOUND;
	}
	char msg[1024];
	cft_error_format(why, msg, sizeof(msg));
	cft_log(CFT_LOG_WARNING, "profile %s: token %s is due for renewal, which failed (%s); it "
		"stays in use until it expires in %ld min %ld s", o->profile->name, r.id, msg,
		left / 60, left % 60);
	*out = r;
	return CFT_OK;
}
