/*
 * Fuzzes the anthropic backend's reply parser: the input is a reply
 * body, read as the answer to a chat request and as the body of a 529
 * and a 401 (the provider's error objects).  The Messages API has no
 * embeddings.
 */
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "fuzz.h"

static struct backend	*fuzz_b;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsetenv("ANTHROPIC_API_KEY");
	fuzz_b = fuzz_backend("{\"type\": \"anthropic\", \"model\": "
	    "\"claude-3-5-haiku-latest\"}");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*body = fuzz_string(data, size);

	fuzz_parse(fuzz_b, 200, 0, 1, body, size);
	fuzz_parse(fuzz_b, 529, 0, 1, body, size);
	fuzz_parse(fuzz_b, 401, 0, 1, body, size);
	free(body);
	return 0;
}
