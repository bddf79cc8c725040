/*
 * Fuzzes the openai backend's reply parser: the input is a reply body,
 * read as the answer to a chat request, to a chat request for four
 * samples ("n"), to an embedding request, and as the body of a 429 and
 * a 401 (the provider's error objects).
 */
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "fuzz.h"

static struct backend	*fuzz_one;
static struct backend	*fuzz_four;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsetenv("OPENAI_API_KEY");
	fuzz_one = fuzz_backend("{\"type\": \"openai\", \"model\": "
	    "\"gpt-4o-mini\"}");
	fuzz_four = fuzz_backend("{\"type\": \"openai\", \"model\": "
	    "\"gpt-4o-mini\", \"n\": 4}");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*body = fuzz_string(data, size);

	fuzz_parse(fuzz_one, 200, 0, 1, body, size);
	fuzz_parse(fuzz_four, 200, 0, 4, body, size);
	fuzz_parse(fuzz_one, 200, 1, 1, body, size);
	fuzz_parse(fuzz_one, 429, 0, 1, body, size);
	fuzz_parse(fuzz_one, 401, 0, 1, body, size);
	free(body);
	return 0;
}
