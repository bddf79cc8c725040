/*
 * Fuzzes the reader of model replies (reply.c): the input is a reply,
 * optionally followed by a NUL byte and the request it answers (the
 * meta-prompt, also taken as the instructions).  The reply is read for
 * <prompt> elements twice (with the request, at most four of 8192 bytes;
 * without it, one of 64 bytes), and for a verdict and a grade; what
 * reply.h promises about each result is checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reply.h"

static void
fuzz_fail(const char *what, const char *reply)
{
	fprintf(stderr, "fuzz: reply: %s (reply of %zu bytes)\n", what,
	    strlen(reply));
	abort();
}

static void
fuzz_read(const char *reply, const char *meta, size_t max_bytes,
    size_t max)
{
	struct reply_read	r;
	size_t			i;

	reply_read(reply, "prompt", meta, meta, max_bytes, max, &r);
	if ((unsigned)r.outcome >= REPLY_NOUTCOMES)
		fuzz_fail("outcome out of range", reply);
	if (r.n > max || (r.n > 0) != reply_outcome_ok(r.outcome))
		fuzz_fail("items do not agree with the outcome", reply);
	if (!reply_outcome_ok(r.outcome) && r.problem == NULL)
		fuzz_fail("no problem for an unusable reply", reply);
	for (i = 0; i < r.n; i++) {
		if (r.items[i] == NULL || strlen(r.items[i]) > max_bytes)
			fuzz_fail("an item over the limit was kept", reply);
	}
	reply_read_release(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*reply = fuzz_string(data, size);
	const char	*meta = NULL;
	size_t		 len = strlen(reply), at;
	double		 grade;

	if (len < size)
		meta = reply + len + 1;
	fuzz_read(reply, meta, 8192, 4);
	fuzz_read(reply, NULL, 64, 1);
	at = (size_t)-1;
	if (reply_verdict(reply, &at) != VERDICT_NONE && at > len)
		fuzz_fail("verdict offset out of the reply", reply);
	if (reply_grade(reply, &grade, &at) == 1 &&
	    (at > len || !(grade >= 1 && grade <= 10)))
		fuzz_fail("grade or its offset out of range", reply);
	free(reply);
	return 0;
}
