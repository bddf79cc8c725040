/*
 * Fuzzes the control protocol's client (promptctl's side): the input is
 * what the daemon sends (its handshake line, then replies, events and
 * end lines).  A thread plays the daemon on a socket in a private
 * directory: it accepts a connection, sends the input, ends its side
 * and reads until the client has gone.  The client connects, makes a
 * call, then a stream whose first event makes another call, as
 * promptctl's feedback does.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fuzz.h"

static char		 fuzz_path[sizeof ((struct sockaddr_un *)0)->sun_path];
static int		 fuzz_fd = -1;
static pthread_t	 fuzz_thread;
static sem_t		 fuzz_ready;	/* an input waits to be sent */
static sem_t		 fuzz_done;	/* the connection is over */
static const uint8_t	*fuzz_data;
static size_t		 fuzz_size;

/* The daemon: one connection per input. */
static void *
fuzz_daemon(void *arg)
{
	char	buf[65536];
	size_t	off;
	ssize_t	n;
	int	fd;

	for (;;) {
		while (sem_wait(&fuzz_ready) == -1 && errno == EINTR)
			continue;
		while ((fd = accept(fuzz_fd, NULL, NULL)) == -1) {
			if (errno != EINTR) {
				perror("fuzz: accept");
				abort();
			}
		}
		for (off = 0; off < fuzz_size; off += (size_t)n) {
			n = send(fd, fuzz_data + off, fuzz_size - off,
			    MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				n = 0;
			else if (n == -1)
				break;
		}
		shutdown(fd, SHUT_WR);
		while ((n = recv(fd, buf, sizeof buf, 0)) != 0) {
			if (n == -1 && errno != EINTR)
				break;
		}
		close(fd);
		sem_post(&fuzz_done);
	}
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un	sun;

	snprintf(fuzz_path, sizeof fuzz_path, "%s/client.sock", fuzz_dir());
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, fuzz_path, sizeof sun.sun_path);
	if ((fuzz_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fuzz_fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fuzz_fd, 4) == -1) {
		perror("fuzz: listen");
		abort();
	}
	if (sem_init(&fuzz_ready, 0, 0) == -1 ||
	    sem_init(&fuzz_done, 0, 0) == -1 ||
	    pthread_create(&fuzz_thread, NULL, fuzz_daemon, NULL) != 0) {
		perror("fuzz: thread");
		abort();
	}
	return 0;
}

struct fuzz_stream {
	struct client	*client;
	int		 events;
};

/* The first event makes a call in the middle of the stream. */
static int
fuzz_event(void *arg, const cJSON *event)
{
	struct fuzz_stream	*fs = arg;
	cJSON			*result = NULL;
	char			*code = NULL, *cause = NULL;

	if (fs->events++ == 0) {
		client_call(fs->client, "feedback", NULL, &result, &code,
		    &cause);
		cJSON_Delete(result);
		free(code);
		free(cause);
	}
	return fs->events > 100;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_stream	 fs;
	struct client		*c;
	cJSON			*result = NULL, *args;
	char			*code = NULL, *cause = NULL;

	fuzz_data = data;
	fuzz_size = size;
	sem_post(&fuzz_ready);
	if ((c = client_connect_timeout(fuzz_path, 5000, &cause)) == NULL) {
		if (errno == ENOENT || errno == ECONNREFUSED ||
		    errno == EAGAIN) {
			fprintf(stderr, "fuzz: %s\n", cause);
			abort();
		}
		goto out;
	}
	if (client_call(c, "status", NULL, &result, &code, &cause) == 0) {
		cJSON_Delete(result);
		result = NULL;
		args = cJSON_CreateObject();
		cJSON_AddStringToObject(args, "job", "sentiment");
		fs.client = c;
		fs.events = 0;
		client_stream(c, "watch", args, fuzz_event, &fs, &result,
		    &code, &cause);
		cJSON_Delete(args);
	}
	cJSON_Delete(result);
	client_close(c);
out:
	free(code);
	free(cause);
	while (sem_wait(&fuzz_done) == -1 && errno == EINTR)
		continue;
	return 0;
}
