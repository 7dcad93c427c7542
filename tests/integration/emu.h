/* Talking to the API emulator's control endpoints from a C test, and the
 * seed's tokens.  Environment from with-emulator.sh. */
#pragma once

#include <jansson.h>

#include "api/api.h"

/* The client options that point at the emulator. */
cft_client_options emu_client_options(void);

/* A seed token's value by its name, as a secret. */
cft_secret *emu_seed_token(const char *name);

/* A client authenticated with a seed token. */
cft_client *emu_client(const char *token_name);

/* METHOD /__emu/PATH with an optional JSON body; returns the parsed answer
 * (json_decref it) or bails out. */
json_t *emu_control(const char *method, const char *path, const char *body);

/* The number of logged API requests whose method and path match
 * (path: a substring), or -1. */
int emu_count(const char *method, const char *path_part);

/* Schema errors (requests or answers that do not follow the OpenAPI
 * schema) in the log now, plus those of logs cleared with emu_clear_log. */
int emu_schema_errors(void);

/* Clears the request log, keeping count of its schema errors. */
void emu_clear_log(void);

#define EMU_ACCOUNT "0123456789abcdef0123456789abcdef"
