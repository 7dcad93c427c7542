/* A request's fingerprint: a hash of everything that decides which token
 * answers it (the configuration files' bytes, the selector, the options and
 * environment that change the account or the API).  The warm path looks a
 * request up by it without parsing the configuration; any change to those
 * inputs is a different fingerprint, so a clean miss.  Not a security
 * boundary: keys live in the user's own keyring. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct cft_fp {
	uint64_t a, b;
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

/* The short identity of an API base URL in key names and Secret Service
 * attributes: 8 hex characters.  L1 keys, the parent key and L2 items all
 * use this one, so cftoken-l2 can find an item from an L1 key's name. */
#define CFT_API_HASH_SIZE 9
void cft_api_hash(const char *api_url, char out[CFT_API_HASH_SIZE]);

/* The user configuration file as cftoken finds it ($CFTOKEN_CONFIG,
 * $XDG_CONFIG_HOME/cftoken/config, ~/.config/cftoken/config), without GLib.
 * Returns 0 and fills buf, or -1 when no home is known. */
int cft_user_config_path(char *buf, size_t size);
