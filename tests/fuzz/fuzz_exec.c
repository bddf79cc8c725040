/*
 * Fuzzes the exec backend's reader of a command's output: the input is
 * what the command wrote, read as its standard output after exit 0 (for
 * a chat and for an embedding request: a JSON object or plain text),
 * and as its standard error after exit 75 and after another failure.
 * Nothing is run.
 */
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "fuzz.h"

static struct backend	*fuzz_b;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_b = fuzz_backend("{\"type\": \"exec\", \"model\": \"local\", "
	    "\"command\": [\"/usr/local/bin/model\", \"--json\"]}");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*body = fuzz_string(data, size);

	fuzz_parse(fuzz_b, 200, 0, 1, body, size);
	fuzz_parse(fuzz_b, 200, 1, 1, body, size);
	fuzz_parse(fuzz_b, 503, 0, 1, body, size);
	fuzz_parse(fuzz_b, 422, 0, 1, body, size);
	free(body);
	return 0;
}
