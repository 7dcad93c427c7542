/* SHA-256 (FIPS 180-4), small and dependency-free: the warm front ends link
 * libc and libkeyutils only, yet name keys and routes by a hash nobody can
 * make collide (fingerprint.h). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CFT_SHA256_SIZE 32

typedef struct cft_sha256 {
	uint32_t h[8];
	uint64_t bytes;              /* message length so far */
	unsigned char block[64];
	size_t fill;                 /* bytes waiting in block */
} cft_sha256;

void cft_sha256_init(cft_sha256 *s);
void cft_sha256_update(cft_sha256 *s, const void *data, size_t len);
/* Pads and writes the digest; s is spent (init it again to reuse). */
void cft_sha256_final(cft_sha256 *s, unsigned char out[CFT_SHA256_SIZE]);
