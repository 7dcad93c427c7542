/* The L1 cache record: round trips, and every damaged form is a miss. */
#include <string.h>

#include "l1_record.h"
#include "tap.h"

static cft_l1_record sample(bool adopted)
{
	cft_l1_record r = { 0 };
	r.token = cft_secret_new("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234", 49);
	strcpy(r.id, "0123456789abcdef0123456789abcdef");
	strcpy(r.account, "fedcba9876543210fedcba9876543210");
	strcpy(r.profile, "workers-deploy");
	r.expires = 1795366800;
	r.renew_at = 1795365900;
	r.adopted = adopted;
	return r;
}

static cft_code parse(const char *text, cft_l1_record *out)
{
	cft_error err;
	cft_error_clear(&err);
	return cft_l1_record_parse(text, strlen(text), out, &err);
}

int main(void)
{
	cft_secret *text = NULL;
	cft_l1_record in = sample(false), out;
	cft_error err;

	tap_is_int(cft_l1_record_format(&in, &text, &err), CFT_OK, "a record formats");
	tap_is_int(parse(cft_secret_str(text), &out), CFT_OK, "and parses back");
	tap_ok(cft_secret_equal(out.token, in.token), "with the same token");
	tap_is_str(out.id, in.id, "id");
	tap_is_str(out.profile, in.profile, "profile");
	tap_is_int(out.expires, in.expires, "expiry");
	tap_is_int(out.renew_at, in.renew_at, "renewal time");
	tap_ok(!out.adopted, "origin minted");
	cft_l1_record_clear(&out);
	text = cft_secret_free(text);

	cft_l1_record adopted = sample(true);
	cft_l1_record_format(&adopted, &text, &err);
	tap_contains(cft_secret_str(text), "origin=adopted\n", "an adopted record says so");
	tap_is_int(parse(cft_secret_str(text), &out), CFT_OK, "and parses");
	tap_ok(out.adopted, "as adopted");
	cft_l1_record_clear(&out);
	cft_l1_record_clear(&adopted);

	/* Damage each part of a good record in turn. */
	char good[1024];
	snprintf(good, sizeof(good), "%s", cft_secret_str(text));
	text = cft_secret_free(text);
	static const struct {
		const char *from, *to, *what;
	} damage[] = {
		{ "cftoken-l1 1", "cftoken-l1 2", "another version" },
		{ "token=", "tokem=", "a misspelt field" },
		{ "id=0123", "id=x123", "an id that is not hex" },
		{ "profile=workers-deploy", "profile=workers deploy", "a profile with a space" },
		{ "expires=", "expires=-", "a negative expiry" },
		{ "origin=adopted", "origin=unknown", "an unknown origin" },
		{ "renew_at=1795365900", "renew_at=1795366801", "a renewal after the expiry" },
	};
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		char bad[1100];
		const char *at = strstr(good, damage[i].from);
		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(at - good), good, damage[i].to,
			 at + strlen(damage[i].from));
		tap_is_int(parse(bad, &out), CFT_E_MALFORMED, "%s is refused", damage[i].what);
		tap_ok(out.token == NULL, "  and leaves nothing behind");
	}
	char truncated[1024];
	snprintf(truncated, sizeof(truncated), "%.*s", (int)strlen(good) - 4, good);
	tap_is_int(parse(truncated, &out), CFT_E_MALFORMED, "a truncated record is refused");
	char trailing[1100];
	snprintf(trailing, sizeof(trailing), "%sextra=1\n", good);
	tap_is_int(parse(trailing, &out), CFT_E_MALFORMED, "trailing data is refused");
	tap_is_int(parse("", &out), CFT_E_MALFORMED, "an empty key is refused");
	cft_l1_record_clear(&in);
	return tap_done();
}
