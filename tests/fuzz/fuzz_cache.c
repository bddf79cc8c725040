/*
 * Fuzzes model_resp_from_json(), the reader of the call cache's form of
 * a response: the input is the text of a cache row.  As in engine_cache.c, a
 * response is released only when it was read.
 */
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_resp	 resp;
	char			*text = fuzz_string(data, size);
	char			*cause = NULL;

	if (model_resp_from_json(text, &resp, &cause) == 0)
		model_resp_release(&resp);
	free(cause);
	free(text);
	return 0;
}
