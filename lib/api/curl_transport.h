/* The transport settings every libcurl request of cftoken's carries: the
 * API client's (http.c) and exec --proxy's forwarder upstream
 * (helper/forward_relay.c), so that both verify TLS alike and neither
 * takes a proxy from the environment. */
#pragma once

#include <curl/curl.h>

#include "core/error.h"

/* HTTPS only, no redirects, no signals, TCP keep-alive, HTTP/2 where the
 * server offers it, TLS sessions cached; ca_file (or NULL): an extra CA
 * bundle beside the system's; proxy: the configured one, or NULL for
 * none, whatever HTTPS_PROXY, ALL_PROXY or NO_PROXY say. */
void cft_curl_transport(CURL *c, const char *ca_file, const char *proxy);

/* What a failed transfer means to a person, as every call of cftoken's
 * says it: could not reach the API, the TLS connection could not be
 * verified, did not answer in time ... (errbuf: curl's CURLOPT_ERRORBUFFER,
 * or NULL), with curl's own words as the detail. */
cft_code cft_curl_failure(CURLcode rc, const char *errbuf, cft_error *err);
