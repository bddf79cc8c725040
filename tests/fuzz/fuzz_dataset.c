/*
 * Fuzzes the dataset loader: the input is a dataset file, loaded as
 * JSONL and as CSV.  One that loads is split and its fields looked up,
 * as a job does.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dataset.h"
#include "fuzz.h"

static void
fuzz_load(const char *path, const char *format)
{
	struct dataset	*ds;
	char		*cause = NULL;
	size_t		 i;

	if ((ds = dataset_load(path, format, &cause)) == NULL) {
		free(cause);
		return;
	}
	dataset_split(ds, 0.3, 0.4, 0.3, 7);
	dataset_count(ds, SPLIT_DEV);
	for (i = 0; i < ds->nfields; i++) {
		dataset_has_field(ds, ds->fields[i]);
		example_field(&ds->ex[ds->n - 1], ds->fields[i]);
	}
	dataset_free(ds);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*path;

	path = fuzz_write("data", data, size);
	fuzz_load(path, "jsonl");
	fuzz_load(path, "csv");
	return 0;
}
