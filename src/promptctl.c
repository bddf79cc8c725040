/*
 * promptctl: control promptd and work with job files.  See promptctl(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

/* The usage on f: stdout when asked for, stderr after a mistake. */
static void
usage(FILE *f)
{
	const struct cmd_entry *const *c;

	fprintf(f, "usage: promptctl [-hv] [--version] [-c config] "
	    "[-d database] [-S socket] command [argument ...]\n");
	fprintf(f, "The global options come before the command; a command's "
	    "own options\nmay come before or after its arguments "
	    "(\"promptctl command -h\").\n");
	fprintf(f, "commands:\n");
	for (c = cmd_table; *c != NULL; c++)
		fprintf(f, "  %s %s\n", (*c)->name, (*c)->usage);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*c;
	struct cmd_ctx		 ctx;
	const char		*near;
	int			 ch, rc;

	memset(&ctx, 0, sizeof ctx);
	log_init("promptctl", 0, NULL);
	/* "+": the first operand is the command, and what follows is its. */
	while ((ch = getopt_long(argc, argv, "+c:d:hS:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctx.conf_path = optarg;
			break;
		case 'd':
			ctx.db_path = optarg;
			break;
		case 'S':
			ctx.socket_path = optarg;
			break;
		case 'v':
			ctx.verbose++;
			break;
		case 'h':
			usage(stdout);
			return CMD_OK;
		case 'V':
			printf("promptctl %s\n", PROMPTD_VERSION);
			return CMD_OK;
		default:
			usage(stderr);
			return CMD_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return CMD_USAGE;
	}
	log_setverbose(ctx.verbose);
	if ((c = cmd_lookup(argv[0])) == NULL) {
		if ((near = cmd_suggest(argv[0])) != NULL)
			fprintf(stderr, "promptctl: unknown command '%s' (did "
			    "you mean '%s'?)\n", argv[0], near);
		else
			fprintf(stderr, "promptctl: unknown command '%s' "
			    "(\"promptctl -h\" lists them)\n", argv[0]);
		return CMD_USAGE;
	}
	if ((rc = c->exec(&ctx, argc, argv)) == CMD_HELP)
		rc = CMD_OK;
	return rc;
}
