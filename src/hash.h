/*
 * Hashes: SHA-256 for content hashes and cache keys, and a fast 64-bit
 * hash that stays the same across platforms and releases.
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256, used for content hashes and cache keys. */
struct sha256 {
	uint32_t	h[8];
	uint64_t	len;
	uint8_t		buf[64];
	size_t		nbuf;
};
void	 sha256_init(struct sha256 *);
void	 sha256_update(struct sha256 *, const void *, size_t);
void	 sha256_final(struct sha256 *, uint8_t out[32]);
/* Hex digest of a buffer into out (65 bytes with the NUL). */
void	 sha256_hex(const void *, size_t, char out[65]);
void	 sha256_final_hex(struct sha256 *, char out[65]);

/* A fast 64-bit hash, stable across platforms and releases. */
uint64_t hash64(const void *, size_t, uint64_t seed);
uint64_t hash64_str(const char *, uint64_t seed);
/* Mixes two 64-bit values (splitmix64 finalizer). */
uint64_t hash_mix(uint64_t, uint64_t);

#endif
