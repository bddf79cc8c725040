/*
 * Fuzzes the control socket's server side: the input is what a client
 * sends (the handshake line, then requests), written over a real
 * connection to a control socket in a private directory, followed by
 * the end of the connection.  The server is run until it has answered
 * everything and closed, while the harness reads whatever it sends.
 * Requests are answered as the daemon would: "watch" with two events
 * and an end line, "fail" with an error, anything else with its
 * arguments as the result.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fuzz.h"

/* Passes of the server after which a connection that is still open is a
 * hang. */
#define FUZZ_PASSES	100000

static struct control	*fuzz_ctl;
static char		 fuzz_path[sizeof ((struct sockaddr_un *)0)->sun_path];

static void
fuzz_request(void *arg, struct control_client *c, long long id,
    const char *cmd, const cJSON *args)
{
	if (strcmp(cmd, "watch") == 0) {
		control_event(c, id, cJSON_Duplicate(args, 1));
		control_event(c, id, cJSON_CreateString(cmd));
		control_end(c, id, NULL);
	} else if (strcmp(cmd, "fail") == 0)
		control_error(c, id, "usage", "'%s' failed (%zu pending)",
		    cmd, control_pending(c));
	else
		control_reply(c, id, cJSON_Duplicate(args, 1));
}

static void
fuzz_free(void)
{
	control_free(fuzz_ctl);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*cause = NULL;

	snprintf(fuzz_path, sizeof fuzz_path, "%s/control.sock", fuzz_dir());
	if ((fuzz_ctl = control_open(fuzz_path, &cause)) == NULL) {
		fprintf(stderr, "fuzz: %s\n", cause);
		abort();
	}
	control_set_handler(fuzz_ctl, fuzz_request, NULL, NULL);
	atexit(fuzz_free);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un	 sun;
	char			 buf[65536];
	size_t			 off = 0;
	ssize_t			 n;
	int			 fd, pass, closed = 0, sending = 1;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		perror("fuzz: socket");
		abort();
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, fuzz_path, sizeof sun.sun_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		perror("fuzz: connect");
		abort();
	}
	for (pass = 0; !closed && pass < FUZZ_PASSES; pass++) {
		while (sending && off < size) {
			n = send(fd, data + off, size - off, MSG_NOSIGNAL);
			if (n == -1) {
				/* The server closed: the rest goes unread. */
				if (errno != EAGAIN && errno != EINTR)
					sending = 0;
				break;
			}
			off += (size_t)n;
		}
		if (sending && off == size) {
			shutdown(fd, SHUT_WR);
			sending = 0;
		}
		control_process(fuzz_ctl);
		while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
			continue;
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			closed = 1;
	}
	close(fd);
	if (!closed) {
		fprintf(stderr, "fuzz: the server kept the connection open\n");
		abort();
	}
	/* Let the server forget the connection if it has not yet. */
	control_process(fuzz_ctl);
	return 0;
}
