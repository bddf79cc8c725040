/*
 * What the fuzz harnesses (tests/fuzz/fuzz_*.c) share.  Each harness
 * defines LLVMFuzzerTestOneInput() and, where it needs one-time setup,
 * LLVMFuzzerInitialize(); it is linked either with libFuzzer
 * (--enable-fuzz) or with driver.c, which replays files.  A harness
 * frees everything an input made, so that what LeakSanitizer reports is
 * a leak of promptd's.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct backend;

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	 LLVMFuzzerInitialize(int *, char ***);

/* The input as a NUL-terminated string (allocated; it may hold NULs). */
char	*fuzz_string(const uint8_t *, size_t);

/*
 * A private directory for the files (and sockets) a harness makes, made
 * on the first call and removed with everything in it when the program
 * exits.  Borrowed.
 */
const char *fuzz_dir(void);
/* Writes len bytes to name in fuzz_dir(); returns the path (borrowed,
 * valid until the next call). */
const char *fuzz_write(const char *name, const void *, size_t len);

/*
 * Builds a backend from the text of its configuration object (one
 * backend: {"type": "openai", ...}); aborts when the configuration is
 * refused, since that is the harness's mistake.
 */
struct backend	*fuzz_backend(const char *conf);

/*
 * Runs a reply body through the backend's parse() as the engine does:
 * with the given status, for a chat request (of n samples) or an
 * embedding request, releasing the response whatever the outcome.  A
 * response parsed with success must survive the cache's form
 * (model_resp_to_json() and back) with its text and vector intact.
 */
void	 fuzz_parse(struct backend *, long status, int embed, unsigned n,
	    const char *body, size_t len);

#endif
