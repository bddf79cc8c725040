/*
 * Fuzzes the job loader: the input is a job file, written to a private
 * directory that also holds the datasets the examples name
 * (reviews.jsonl, problems.csv, messages.jsonl, and data.jsonl and
 * broken.jsonl of tests/integration/bad) and a
 * promptd.conf defining the backends "sim" and "gpt", and loaded with
 * job_load().  A job that loads builds the request for its first seed
 * prompt on its first and last examples.
 *
 * A job names files by path.  Inputs naming a device or a kernel file
 * (which could block or be endless) are skipped, together with escapes
 * that could spell such a path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conf.h"
#include "dataset.h"
#include "fuzz.h"
#include "job.h"

static struct conf	*fuzz_conf;

static const char fuzz_reviews[] =
    "{\"id\": 1, \"text\": \"The remake rewards every minute you give "
    "it.\", \"label\": \"positive\"}\n"
    "{\"id\": 2, \"text\": \"The sequel wasted a talented cast.\", "
    "\"label\": \"negative\"}\n"
    "{\"id\": 3, \"text\": \"A slow start, then a drama I want to see "
    "again.\", \"label\": \"positive\"}\n";
static const char fuzz_problems[] =
    "id,question,answer\n"
    "1,\"Jonas has 3 stickers, buys 3 packs of 3, then loses 3. How many "
    "stickers does Jonas have?\",9\n"
    "2,Maria shares 112 shells equally among 8 friends. How many shells "
    "does each friend get?,14\n";
static const char fuzz_messages[] =
    "{\"id\": 1, \"text\": \"hey, i seriously need the report by friday, "
    "don't forget it.\"}\n"
    "{\"id\": 2, \"text\": \"send me teh slides, i actually can't find "
    "them anywhere.\"}\n";
static const char fuzz_data[] =
    "{\"text\": \"good movie\", \"label\": \"positive\"}\n"
    "{\"text\": \"bad movie\", \"label\": \"negative\"}\n"
    "{\"text\": \"fine movie\", \"label\": \"positive\"}\n";
static const char fuzz_broken[] =
    "{\"text\": \"ok\", \"label\": \"positive\"}\n"
    "{\"text\": \"broken\", \"label\": }\n";
static const char fuzz_promptd_conf[] =
    "{\n"
    "  \"prices\": { \"gpt-4o-mini\": { \"input\": 0.15, \"output\": 0.60 }"
    " },\n"
    "  \"backends\": {\n"
    "    \"sim\": { \"type\": \"sim\", \"model\": \"sim-1\", \"seed\": 1 },\n"
    "    \"gpt\": { \"type\": \"openai\", \"model\": \"gpt-4o-mini\" }\n"
    "  }\n"
    "}\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*path;
	char		*cause = NULL;

	unsetenv("OPENAI_API_KEY");
	fuzz_write("reviews.jsonl", fuzz_reviews, sizeof fuzz_reviews - 1);
	fuzz_write("problems.csv", fuzz_problems, sizeof fuzz_problems - 1);
	fuzz_write("messages.jsonl", fuzz_messages, sizeof fuzz_messages - 1);
	fuzz_write("data.jsonl", fuzz_data, sizeof fuzz_data - 1);
	fuzz_write("broken.jsonl", fuzz_broken, sizeof fuzz_broken - 1);
	path = fuzz_write("promptd.conf", fuzz_promptd_conf,
	    sizeof fuzz_promptd_conf - 1);
	if ((fuzz_conf = conf_load(path, &cause)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", cause);
		abort();
	}
	return 0;
}

/* Whether the input could name a file outside the private directory
 * that is not a plain file. */
static int
fuzz_unsafe(const uint8_t *data, size_t size)
{
	static const char *const bad[] = {
		"/dev", "/proc", "/sys", "/run", "\\/", "\\u", NULL
	};
	size_t	i;

	for (i = 0; bad[i] != NULL; i++) {
		if (memmem(data, size, bad[i], strlen(bad[i])) != NULL)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job		*job;
	struct model_req	 req;
	const struct dataset	*ds;
	const char		*path;
	char			*cause = NULL;

	if (fuzz_unsafe(data, size))
		return 0;
	path = fuzz_write("job.json", data, size);
	if ((job = job_load(path, fuzz_conf, &cause)) == NULL) {
		free(cause);
		return 0;
	}
	ds = job->task.dataset;
	if (ds != NULL && job->task.tmpl != NULL && ds->n > 0) {
		task_build_request(&job->task, job->nseeds > 0 ?
		    job->seeds[0] : NULL, 0, &req);
		model_req_release(&req);
		task_build_request(&job->task, job->nseeds > 0 ?
		    job->seeds[0] : NULL, ds->n - 1, &req);
		model_req_release(&req);
	}
	job_free(job);
	return 0;
}
