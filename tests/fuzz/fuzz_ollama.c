/*
 * Fuzzes the ollama backend's reply parser: the input is a reply body,
 * read as the answer to a chat request, to an embedding request, and as
 * the body of a 404 (Ollama's {"error": "..."}).
 */
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "fuzz.h"

static struct backend	*fuzz_b;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_b = fuzz_backend("{\"type\": \"ollama\", \"model\": "
	    "\"llama3.2\"}");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*body = fuzz_string(data, size);

	fuzz_parse(fuzz_b, 200, 0, 1, body, size);
	fuzz_parse(fuzz_b, 200, 1, 1, body, size);
	fuzz_parse(fuzz_b, 404, 0, 1, body, size);
	free(body);
	return 0;
}
