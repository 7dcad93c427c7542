/* A request's fingerprint: a hash of everything that decides which token
 * answers it (the configuration files' bytes, the selector, the options and
 * environment that change the account or the API).  The warm path looks a
 * request up by it without parsing the configuration; any change to those
 * inputs is a different fingerprint, so a clean miss.  SHA-256, cut to
 * 128 bits: the inputs include what others choose (a remote's host and
 * path, an API URL in the environment), and a request whose fingerprint
 * collided with another's would be answered that one's token. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"

typedef struct cft_fp {
	cft_sha256 sha;
} cft_fp;

#define CFT_FP_HEX 33  /* 32 hex characters and the NUL */

void cft_fp_init(cft_fp *fp);
void cft_fp_bytes(cft_fp *fp, const void *data, size_t len);
/* A string with its length, so ("ab","c") differs from ("a","bc"). NULL
 * differs from "". */
void cft_fp_str(cft_fp *fp, const char *s);
/* A file's path and contents (up to 1 MiB), or that it is absent. */
void cft_fp_file(cft_fp *fp, const char *path);
void cft_fp_hex(const cft_fp *fp, char out[CFT_FP_HEX]);

/* An API base URL as cftoken keeps it with every credential: https://
 * only, scheme and host in lower case, no trailing '/', no white space or
 * control character, at most CFT_API_URL_MAX bytes.  0, or -1 when it is
 * none of that (nothing is stored for it, and nothing found). */
#define CFT_API_URL_MAX 512
int cft_api_url_normal(const char *api_url, char out[CFT_API_URL_MAX + 1]);

/* Whether a record's URL (normalised when stored) is this API: exact. */
int cft_api_url_is(const char *recorded, const char *api_url);

/* The identity of an API base URL in key names and Secret Service
 * attributes: 32 hex characters of SHA-256 of the normalised URL.  L1
 * keys, the parent key and L2 items all use this one, so cftoken-l2 can
 * find an item from an L1 key's name.  A name only finds a record: each
 * record holds its full URL, and a load compares it (cft_api_url_is). */
#define CFT_API_HASH_SIZE 33
void cft_api_hash(const char *api_url, char out[CFT_API_HASH_SIZE]);

/* The user configuration file as cftoken finds it ($CFTOKEN_CONFIG,
 * $XDG_CONFIG_HOME/cftoken/config, ~/.config/cftoken/config), without GLib.
 * Returns 0 and fills buf, or -1 when no home is known. */
int cft_user_config_path(char *buf, size_t size);
/* The same without $CFTOKEN_CONFIG: the user's own file, where it lives. */
int cft_user_config_home_path(char *buf, size_t size);
