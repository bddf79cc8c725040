/*
 * promptctl: control promptd and work with job files.  See promptctl(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "log.h"

static void
usage(void)
{
	const struct cmd_entry *const *c;

	fprintf(stderr, "usage: promptctl [-v] [-c config] [-d database] "
	    "[-S socket] command [argument ...]\n");
	fprintf(stderr, "commands:\n");
	for (c = cmd_table; *c != NULL; c++)
		fprintf(stderr, "  %s %s\n", (*c)->name, (*c)->usage);
}

int
main(int argc, char **argv)
{
	const struct cmd_entry	*c;
	struct cmd_ctx		 ctx;
	int			 ch;

	memset(&ctx, 0, sizeof ctx);
	log_init("promptctl", 0, NULL);
	while ((ch = getopt(argc, argv, "+c:d:hS:v")) != -1) {
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
			usage();
			return CMD_OK;
		default:
			usage();
			return CMD_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage();
		return CMD_USAGE;
	}
	log_setverbose(ctx.verbose);
	if ((c = cmd_lookup(argv[0])) == NULL) {
		fprintf(stderr, "promptctl: unknown command '%s'\n", argv[0]);
		usage();
		return CMD_USAGE;
	}
	return c->exec(&ctx, argc, argv);
}
