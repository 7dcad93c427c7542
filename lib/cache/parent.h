/* The parent token `cftoken login` keeps: the one allowed to create
 * tokens.  Here, the kernel's copy: the user's persistent keyring, which
 * outlives logins (it expires after /proc/sys/kernel/keys/
 * persistent_keyring_expiry seconds unused, three days by default, and at
 * reboot), readable by its possessor only.  The Secret Service keeps the
 * durable copy where there is one (secret_service.h).  One parent per API,
 * so a test emulator's never meets the real one.
 *
 * The parent goes only where it was verified: its record names the API URL
 * and the CA file `cftoken login` checked it with, and it is handed out for
 * exactly those.  Another CA (CFTOKEN_CA_FILE naming an interceptor's, say)
 * is refused, not merely a miss: the person learns how to log in for it. */
#pragma once

#include "core/error.h"
#include "core/fingerprint.h"
#include "core/secret.h"

#define CFT_CA_PATH_MAX 1024

typedef struct cft_parent {
	cft_secret *token;
	char account[33];            /* "" when the login named none */
	char api[CFT_API_URL_MAX + 1]; /* the API it was verified at, normalised */
	char ca[CFT_CA_PATH_MAX];    /* and the extra CA file, as cft_ca_path made it */
} cft_parent;

#define CFT_PARENT_RECORD_MAX 2048

/* A CA file as a parent record names it: its real path (no link, no
 * "..") when it resolves, else as given; "" for none (the system's CAs
 * alone).  -1 when the path is too long to keep. */
int cft_ca_path(const char *ca_file, char out[CFT_CA_PATH_MAX]);

/* CFT_OK when p was verified with this CA file, else CFT_E_PARENT_ORIGIN
 * naming the CA it was verified with. */
cft_code cft_parent_check_ca(const cft_parent *p, const char *ca_file, cft_error *err);

/* Keeps p for api_url (recorded in it as p->api; p->ca is kept as it is). */
cft_code cft_parent_store(const char *api_url, const cft_parent *p, cft_error *err);
/* The parent for exactly this API URL, verified with this CA file (NULL or
 * "": none).  CFT_E_NO_PARENT when there is none for the URL (a record of
 * another URL, damaged or of an older version is none): the message says
 * to run cftoken login.  CFT_E_PARENT_ORIGIN when it was verified with
 * another CA file. */
cft_code cft_parent_load(const char *api_url, const char *ca_file, cft_parent *out,
			 cft_error *err);
cft_code cft_parent_drop(const char *api_url, cft_error *err);
void cft_parent_clear(cft_parent *p);

/* The record both keyrings hold: "cftoken-parent 2", token=, account=,
 * api= (p->api, normalised), ca= (p->ca). */
cft_code cft_parent_format(const cft_parent *p, cft_secret **out, cft_error *err);
cft_code cft_parent_parse(const char *buf, size_t len, cft_parent *out, cft_error *err);
