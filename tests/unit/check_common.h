/*
 * Shared by the Check unit tests: each file defines a suite function and
 * ends with CHECK_MAIN(that_function).
 */
#ifndef CHECK_COMMON_H
#define CHECK_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#define CHECK_MAIN(fn)							\
int									\
main(void)								\
{									\
	SRunner	*sr = srunner_create(fn());				\
	int	 failed;						\
									\
	srunner_run_all(sr, CK_ENV);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

/* A fresh temporary directory for one test (the caller frees the path). */
static inline char *
check_tmpdir(void)
{
	const char	*base = getenv("TMPDIR");
	char		*t;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&t, "%s/promptd-test.XXXXXX", base) == -1)
		abort();
	if (mkdtemp(t) == NULL)
		abort();
	return t;
}

#endif
