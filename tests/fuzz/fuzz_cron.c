/*
 * Fuzzes cron expressions (a job's "schedule"): the input is an
 * expression.  One that parses is matched against a time and asked for
 * its next two matches around the two daylight saving changes of 2024
 * in Europe/Berlin (in UTC where the zone database lacks it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0)
		setenv("TZ", "Europe/Berlin", 1);
	else
		setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const time_t	 at[] = { 1711846800, 1729990800 };
	struct cron		 c;
	char			*expr = fuzz_string(data, size), *cause = NULL;
	time_t			 t;
	size_t			 i;

	if (cron_parse(&c, expr, &cause) != 0) {
		free(cause);
		free(expr);
		return 0;
	}
	for (i = 0; i < sizeof at / sizeof at[0]; i++) {
		cron_match(&c, at[i]);
		if ((t = cron_next(&c, at[i])) == (time_t)-1)
			continue;
		if (t <= at[i] || !cron_match(&c, t)) {
			fprintf(stderr, "fuzz: cron_next gave %lld for %lld, "
			    "which does not match\n", (long long)t,
			    (long long)at[i]);
			abort();
		}
		cron_next(&c, t);
	}
	free(expr);
	return 0;
}
