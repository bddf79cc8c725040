/*
 * Fuzzes the JSONC parser (job files and promptd.conf): the input is a
 * document.  When it parses, every node's position is looked up, the
 * root is checked against a list of keys (which adds errors with their
 * positions and suggestions) and printed back.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "jsonc.h"

static const char *const fuzz_keys[] = {
	"name", "task", "seed_prompts", "backends", "roles", NULL
};

/* Looks up where each node of the tree starts. */
static void
fuzz_walk(struct jdoc *doc, const cJSON *node, int depth)
{
	const cJSON	*v;
	unsigned	 line, col;

	jsonc_where(doc, node, &line, &col);
	jsonc_where_key(doc, node, &line, &col);
	if (depth > 64)
		return;
	cJSON_ArrayForEach(v, node)
		fuzz_walk(doc, v, depth + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jdoc	*doc;
	char		*text = fuzz_string(data, size), *cause = NULL, *s;
	const char	*str;
	double		 num;

	if ((doc = jsonc_parse("fuzz.json", text, size, &cause)) == NULL) {
		free(cause);
		free(text);
		return 0;
	}
	fuzz_walk(doc, doc->root, 0);
	if (cJSON_IsObject(doc->root)) {
		jv_keys(doc, doc->root, "", fuzz_keys);
		jv_string(doc, doc->root, "", "name", 1, &str);
		jv_number(doc, doc->root, "", "alpha", 0, 0, 1, &num);
	}
	s = jv_errors(doc);
	free(s);
	s = json_text(doc->root);
	free(s);
	jsonc_free(doc);
	free(text);
	return 0;
}
