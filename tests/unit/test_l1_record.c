/* The L1 cache record: round trips, and every damaged form is a miss.
 * The API's identity: a normalised URL, and its name a SHA-256.  The
 * parent token's record: bound to its API URL and CA file. */
#include <string.h>

#include "tap.h"
#include "cache/parent.h"
#include "core/fingerprint.h"
#include "core/l1_record.h"
#include "core/sha256.h"

static cft_l1_record sample(bool adopted)
{
	cft_l1_record r = { 0 };
	r.token = cft_secret_new("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234", 49);
	strcpy(r.id, "0123456789abcdef0123456789abcdef");
	strcpy(r.account, "fedcba9876543210fedcba9876543210");
	strcpy(r.profile, "workers-deploy");
	strcpy(r.api, "https://api.cloudflare.com/client/v4");
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

/* A good record with one part damaged: from becomes to. */
typedef struct damage {
	const char *from, *to, *what;
} damage;

/* Each damage of good in turn is refused, and leaves nothing behind. */
static void refuse_damaged(const char *good, const damage *d, size_t n)
{
	cft_l1_record out;
	for (size_t i = 0; i < n; i++) {
		char bad[1100];
		const char *at = strstr(good, d[i].from);
		snprintf(bad, sizeof(bad), "%.*s%s%s", (int)(at - good), good, d[i].to,
			 at + strlen(d[i].from));
		tap_is_int(parse(bad, &out), CFT_E_MALFORMED, "%s is refused", d[i].what);
		tap_ok(out.token == NULL, "  and leaves nothing behind");
	}
}

static void sha256_hex(const char *msg, size_t repeat, char out[65])
{
	cft_sha256 s;
	unsigned char d[CFT_SHA256_SIZE];
	cft_sha256_init(&s);
	for (size_t i = 0; i < repeat; i++)
		cft_sha256_update(&s, msg, strlen(msg));
	cft_sha256_final(&s, d);
	for (int i = 0; i < CFT_SHA256_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-4's examples, a block boundary, and a million bytes fed in
 * pieces that straddle blocks. */
static void test_sha256(void)
{
	char hex[65];
	sha256_hex("abc", 1, hex);
	tap_is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		   "SHA-256(\"abc\")");
	sha256_hex("", 1, hex);
	tap_is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   "SHA-256 of nothing");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, hex);
	tap_is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		   "SHA-256 of the two-block example");
	sha256_hex("aaaaaaaaaaaaaaaaaaaaaaaaa", 40000, hex);
	tap_is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "SHA-256 of a million a's, 25 at a time");
}

static void test_api_identity(void)
{
	char url[CFT_API_URL_MAX + 1], h1[CFT_API_HASH_SIZE], h2[CFT_API_HASH_SIZE];
	tap_is_int(cft_api_url_normal("HTTPS://API.Cloudflare.com/client/v4//", url), 0,
		   "an API URL normalises");
	tap_is_str(url, "https://api.cloudflare.com/client/v4",
		   "  scheme and host in lower case, no trailing slash, the path as it was");
	cft_api_url_normal("https://x.example/Client/V4", url);
	tap_is_str(url, "https://x.example/Client/V4", "  a path keeps its case");
	tap_is_int(cft_api_url_normal("http://api.cloudflare.com/client/v4", url), -1,
		   "plain http is no API URL");
	tap_is_int(cft_api_url_normal("https://a.example/x y", url), -1, "nor one with a space");
	tap_is_int(cft_api_url_normal("https://", url), -1, "nor one with no host");
	tap_ok(cft_api_url_is("https://api.cloudflare.com/client/v4",
			      "https://api.cloudflare.com/client/v4/"),
	       "a recorded URL is the same URL with a trailing slash");
	tap_ok(!cft_api_url_is("https://api.cloudflare.com/client/v4",
			       "https://api.cloudflare.com/client/v4x"),
	       "but not a longer one");
	/* The pair: the same 8 hex digits under the old 32-bit name. */
	cft_api_hash("https://api.cloudflare.com/client/v4", h1);
	cft_api_hash("https://evil.example/v4/f2vkUH", h2);
	tap_is_int((int)strlen(h1), 32, "an API's name is 128 bits (32 hex digits)");
	tap_ok(strcmp(h1, h2) != 0, "URLs whose old 32-bit names collided have different names");
	cft_api_hash("https://API.cloudflare.com/client/v4/", h2);
	tap_is_str(h2, h1, "and one API has one name, however its URL is spelt");
}

static void test_parent_record(void)
{
	cft_parent p = { 0 }, back;
	cft_secret *text = NULL;
	cft_error err;
	p.token = cft_secret_new("cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234", 49);
	strcpy(p.api, "https://api.cloudflare.com/client/v4");
	strcpy(p.ca, "/etc/test-ca.pem");
	tap_is_int(cft_parent_format(&p, &text, &err), CFT_OK, "a parent record formats");
	tap_contains(cft_secret_str(text), "api=https://api.cloudflare.com/client/v4\nca=/etc/test-ca.pem\n",
		     "  with its API URL and CA file");
	tap_is_int(cft_parent_parse(cft_secret_str(text), cft_secret_len(text), &back, &err), CFT_OK,
		   "  and parses back");
	tap_ok(cft_secret_equal(back.token, p.token) && !strcmp(back.api, p.api) &&
	       !strcmp(back.ca, p.ca), "  the same token, API and CA");
	tap_is_int(cft_parent_check_ca(&back, "/etc/test-ca.pem", &err), CFT_OK,
		   "the CA it was verified with passes");
	tap_is_int(cft_parent_check_ca(&back, "/tmp/attacker-ca.pem", &err), CFT_E_PARENT_ORIGIN,
		   "another CA file is refused");
	tap_contains(err.detail, "with CA file /etc/test-ca.pem, and this request names CA file "
		     "/tmp/attacker-ca.pem: refused", "  saying both");
	tap_is_int(cft_parent_check_ca(&back, NULL, &err), CFT_E_PARENT_ORIGIN,
		   "and so is none, for a parent verified with one");
	cft_parent_clear(&back);
	const char *old = "cftoken-parent 1\ntoken=cfat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1234\n"
			  "account=\n";
	tap_is_int(cft_parent_parse(old, strlen(old), &back, &err), CFT_E_MALFORMED,
		   "a record of the older version (no API URL) is none");
	tap_ok(back.token == NULL, "  and leaves nothing behind");
	cft_secret_free(text);
	cft_parent_clear(&p);
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
	tap_is_str(out.api, in.api, "API URL");
	cft_l1_record_clear(&out);
	char good_minted[1024];
	snprintf(good_minted, sizeof(good_minted), "%s", cft_secret_str(text));
	text = cft_secret_free(text);

	cft_l1_record no_api = sample(false);
	no_api.api[0] = '\0';
	tap_is_int(cft_l1_record_format(&no_api, &text, &err), CFT_E_INVALID_ARG,
		   "a record without its API URL is not written");
	strcpy(no_api.api, "https://API.cloudflare.com/client/v4");
	tap_is_int(cft_l1_record_format(&no_api, &text, &err), CFT_E_INVALID_ARG,
		   "nor one whose URL is not normalised");
	cft_l1_record_clear(&no_api);

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
	static const damage damaged[] = {
		{ "cftoken-l1 2", "cftoken-l1 1", "another version" },
		{ "api=https://api.cloudflare.com/client/v4\n", "", "a record without its API" },
		{ "api=https://api.", "api=http://api.", "an API that is not https://" },
		{ "api=https://api.", "api=https://API.", "an API URL not normalised" },
		{ "token=", "tokem=", "a misspelt field" },
		{ "id=0123", "id=x123", "an id that is not hex" },
		{ "profile=workers-deploy", "profile=workers deploy", "a profile with a space" },
		{ "expires=", "expires=-", "a negative expiry" },
		{ "origin=adopted", "origin=unknown", "an unknown origin" },
		{ "renew_at=1795365900", "renew_at=1795366801", "a renewal after the expiry" },
	};
	refuse_damaged(good, damaged, sizeof(damaged) / sizeof(damaged[0]));
	/* The grant the token was minted under (cft_profile_grant). */
	cft_l1_record granted = sample(false);
	strcpy(granted.grant, "00112233445566778899aabbccddeeff");
	tap_is_int(cft_l1_record_format(&granted, &text, &err), CFT_OK, "a record with its grant formats");
	tap_contains(cft_secret_str(text), "origin=minted\ngrant=00112233445566778899aabbccddeeff\n",
		     "  the grant last");
	tap_is_int(parse(cft_secret_str(text), &out), CFT_OK, "  and parses back");
	tap_is_str(out.grant, granted.grant, "  with the same grant");
	cft_l1_record_clear(&out);
	char with_grant[1024];
	snprintf(with_grant, sizeof(with_grant), "%s", cft_secret_str(text));
	text = cft_secret_free(text);
	tap_ok(in.grant[0] == '\0' && parse(good_minted, &out) == CFT_OK && out.grant[0] == '\0',
	       "a record without a grant (an earlier cftoken's) parses, its grant not known");
	cft_l1_record_clear(&out);
	strcpy(granted.grant, "0011223344556677");
	tap_is_int(cft_l1_record_format(&granted, &text, &err), CFT_E_INVALID_ARG,
		   "a grant that is not 32 hex is not written");
	cft_l1_record_clear(&granted);
	static const damage grant_damaged[] = {
		{ "grant=0011", "grant=x011", "a grant that is not hex" },
		{ "grant=0011", "grant=011", "a short grant" },
		{ "grant=", "grants=", "a misspelt grant" },
	};
	refuse_damaged(with_grant, grant_damaged, sizeof(grant_damaged) / sizeof(grant_damaged[0]));

	char truncated[1024];
	snprintf(truncated, sizeof(truncated), "%.*s", (int)strlen(good) - 4, good);
	tap_is_int(parse(truncated, &out), CFT_E_MALFORMED, "a truncated record is refused");
	char trailing[1100];
	snprintf(trailing, sizeof(trailing), "%sextra=1\n", good);
	tap_is_int(parse(trailing, &out), CFT_E_MALFORMED, "trailing data is refused");
	tap_is_int(parse("", &out), CFT_E_MALFORMED, "an empty key is refused");
	cft_l1_record_clear(&in);
	test_sha256();
	test_api_identity();
	test_parent_record();
	return tap_done();
}
