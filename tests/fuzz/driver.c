/*
 * A plain main() for the fuzz harnesses, for builds without libFuzzer
 * (gcc, or clang without --enable-fuzz): every file named on the
 * command line, or every file of a directory named there, is read and
 * given to LLVMFuzzerTestOneInput() once.  make check replays the
 * corpora this way, so an input that once crashed a parser keeps being
 * tried.  The name of each file is printed before it runs, so the last
 * name in a failed run's log is the input that broke it.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int
driver_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one file through the harness; returns 0, or -1 if unreadable. */
static int
driver_file(const char *path)
{
	char	*buf = NULL, *cause = NULL;
	size_t	 len;

	if (file_read(path, 64 << 20, &buf, &len, &cause) != 0) {
		fprintf(stderr, "replay: %s\n", cause);
		free(cause);
		return -1;
	}
	printf("replay: %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

/*
 * Runs every file of a directory in name order (names starting with a
 * dot are skipped); returns how many ran, or -1 on an error.
 */
static int
driver_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL;
	size_t		 n = 0, i;
	int		 count = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, driver_cmp);
	for (i = 0; i < n; i++) {
		if (count >= 0 && driver_file(names[i]) != 0)
			count = -1;
		else if (count >= 0)
			count++;
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	struct stat	st;
	int		i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file|directory ...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			n = driver_dir(argv[i]);
		else
			n = driver_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0)
			return 1;
		total += n;
	}
	printf("replay: %d inputs, no crash\n", total);
	return 0;
}
