/* The parent token `cftoken login` keeps: the one allowed to create
 * tokens.  Here, the kernel's copy: the user's persistent keyring, which
 * outlives logins (it expires after /proc/sys/kernel/keys/
 * persistent_keyring_expiry seconds unused, three days by default, and at
 * reboot), readable by its possessor only.  The Secret Service keeps the
 * durable copy where there is one (secret_service.h).  One parent per API,
 * so a test emulator's never meets the real one. */
#pragma once

#include "error.h"
#include "fingerprint.h"
#include "secret.h"

typedef struct cft_parent {
	cft_secret *token;
	char account[33];            /* "" when the login named none */
	char api[CFT_API_URL_MAX + 1]; /* the API it was verified at, normalised */
} cft_parent;

#define CFT_PARENT_RECORD_MAX 1024

/* Keeps p for api_url (recorded in it as p->api). */
cft_code cft_parent_store(const char *api_url, const cft_parent *p, cft_error *err);
/* CFT_E_NO_PARENT when there is none for exactly this API URL (a record of
 * another URL, damaged or of an older version is none): the message says
 * to run cftoken login. */
cft_code cft_parent_load(const char *api_url, cft_parent *out, cft_error *err);
cft_code cft_parent_drop(const char *api_url, cft_error *err);
void cft_parent_clear(cft_parent *p);

/* The record both keyrings hold: "cftoken-parent 2", token=, account=,
 * api= (p->api, normalised). */
cft_code cft_parent_format(const cft_parent *p, cft_secret **out, cft_error *err);
cft_code cft_parent_parse(const char *buf, size_t len, cft_parent *out, cft_error *err);
