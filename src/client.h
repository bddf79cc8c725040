/*
 * The client side of the control protocol (promptctl talking to promptd):
 * newline-delimited JSON over a Unix socket, with the version handshake,
 * request ids, replies and streams.  Every wait for the daemon has a
 * timeout (CLIENT_TIMEOUT_MS) except the wait for the next event of a
 * stream, which lasts as long as the stream does.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <cjson/cJSON.h>

#define CLIENT_PROTOCOL		1
#define CLIENT_TIMEOUT_MS	10000
#define CLIENT_MAX_LINE		(1024 * 1024)

struct client;

/*
 * Connects to the daemon's socket at path (borrowed) and exchanges the
 * handshake.  Returns NULL with *cause on failure; errno is then ENOENT
 * (no socket) or ECONNREFUSED (nothing listening) when the daemon is not
 * running, and something else (EPROTO for a refused handshake, ETIMEDOUT
 * for no answer) otherwise.  A daemon that refuses the connection says
 * why in an error line, even when it closes before reading the
 * handshake; *cause is then "daemon at 'PATH' refused the connection: "
 * and its message.
 */
struct client	*client_connect(const char *path, char **cause);
/* The same with another timeout in milliseconds (for tests). */
struct client	*client_connect_timeout(const char *path, int ms,
		    char **cause);
/* Sets the timeout of the client's later waits, in milliseconds. */
void		 client_set_timeout(struct client *, int ms);

/*
 * Sends one request and waits for its reply.  args (borrowed, may be
 * NULL) is sent as the request's "args".  Returns 0 with *result (the
 * caller's), or -1 with *cause and, when the daemon answered with an
 * error, *code (its code, allocated); *code is NULL after a transport
 * error (timeout, closed connection, a reply that is not JSON).  When
 * the daemon has closed the connection with an error line (it dropped
 * the client), that line's code and message are *code and *cause.
 */
int		 client_call(struct client *, const char *cmd, cJSON *args,
		    cJSON **result, char **code, char **cause);

/*
 * Sends a streaming request (watch) and calls on_event(arg, event) for
 * each event line (the "event" object, borrowed) until the end line,
 * whose "result" goes to *final (the caller's).  on_event returns 0 to
 * go on; anything else stops the stream with -1 and *cause "stopped"
 * (close the client then).  A reply that is not a stream is taken as the
 * final result at once.  Errors as for client_call().  on_event may
 * itself make client_call()s on the same client (feedback answers):
 * event and end lines that arrive meanwhile are held for the stream.
 */
int		 client_stream(struct client *, const char *cmd, cJSON *args,
		    int (*on_event)(void *, const cJSON *event), void *arg,
		    cJSON **final, char **code, char **cause);

/*
 * The connection's descriptor, to poll for input from the daemon beside
 * other input (a line is read only through the functions above), and
 * whether lines read already are waiting to be handed out.
 */
int		 client_fd(const struct client *);
int		 client_buffered(const struct client *);

/* The daemon's handshake line (borrowed): "version", "pid". */
const cJSON	*client_hello(const struct client *);

/* Closes the connection and frees the client; NULL is allowed. */
void		 client_close(struct client *);

#endif
