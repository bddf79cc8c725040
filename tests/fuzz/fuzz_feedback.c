/*
 * Fuzzes the feedback log's reader: the input is a log, each line of it
 * read as the ingester reads it (and the whole input as one line, so
 * that a line may hold any byte but a newline).  A line that is read
 * must come out whole: a key, a response, a rating in its scale, and the
 * same key when it is read again; a refused line must leave nothing
 * behind.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "fuzz.h"

static void
fuzz_line(const char *line, size_t len)
{
	struct interaction	 it, again;
	char			*cause = NULL, *user;
	double			 v;
	int			 r;

	r = feedback_parse_line(line, len, 1e9, &it, &cause);
	if (r != 0) {
		if ((r == -1) != (cause != NULL) || it.response != NULL ||
		    it.inputs != NULL)
			abort();
		free(cause);
		return;
	}
	if (it.response == NULL || !cJSON_IsObject(it.inputs) ||
	    it.key[0] == '\0' || strlen(it.key) > 64 ||
	    !(it.time >= 0) || it.version < 0)
		abort();
	v = feedback_rating_value(&it);
	if (it.scale == RATING_NONE ? !isnan(v) : !(v >= 0 && v <= 1))
		abort();
	if (feedback_parse_line(line, len, 2e9, &again, &cause) != 0 ||
	    strcmp(it.key, again.key) != 0)
		abort();
	feedback_release(&again);
	user = feedback_user(USERS_HASH, "salt", it.user);
	if ((user == NULL) != (it.user == NULL))
		abort();
	free(user);
	feedback_release(&it);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data, *end = s + size, *nl;

	fuzz_line(s, size);
	while (s < end) {
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		fuzz_line(s, nl - s);
		s = nl + 1;
	}
	return 0;
}
