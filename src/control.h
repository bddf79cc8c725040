/*
 * The server side of the control socket (the protocol is described in
 * promptd(8)): an AF_UNIX stream socket of mode 0600 carrying one JSON
 * object per line.  This module owns the listening socket and every
 * client connection: it checks each peer's uid, does the version
 * handshake (closing a connection that has not sent it within the
 * handshake timeout), splits input into lines (at most CONTROL_LINE_MAX
 * bytes), parses requests and queues replies, never blocking and never
 * trusting what a client sends.  A client it refuses gets an error line
 * {"error": {"code": ..., "message": ...}} before the connection closes.  What a request means is the caller's business: it
 * is handed to the request function given to control_set_handler().
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <sys/types.h>

#include <stddef.h>

#include <cjson/cJSON.h>

#define CONTROL_PROTOCOL	1
#define CONTROL_LINE_MAX	(1024 * 1024)
/* Seconds a new connection has to send its handshake. */
#define CONTROL_HELLO_TIMEOUT	5.0

struct control;
struct control_client;

/*
 * A request: id and cmd as the client sent them, args an object (empty
 * when the request had none), borrowed for the call.  The function
 * answers with control_reply() or control_error(), now or later (a
 * stream answers with control_event() lines and one control_end()).
 */
typedef void control_request_fn(void *arg, struct control_client *,
    long long id, const char *cmd, const cJSON *args);
/* A client is going away: forget every pointer to it. */
typedef void control_close_fn(void *arg, struct control_client *);

/*
 * Binds and listens on path.  Refuses when a daemon answers there
 * already, or when path exists and is not a socket; a stale socket file
 * (nobody listening) is removed first.
 */
struct control	*control_open(const char *path, char **cause);
void		 control_set_handler(struct control *, control_request_fn *,
		    control_close_fn *, void *arg);
/*
 * sync is called (with the handler's arg) before any line is sent to a
 * client, so that what the line tells is on disk first (the daemon
 * commits its open transaction there); when it fails, the line is not
 * sent and the client is dropped, rather than told what was not kept.
 */
typedef int control_sync_fn(void *arg);
void		 control_set_sync(struct control *, control_sync_fn *);
/*
 * Sets the handshake timeout in seconds (CONTROL_HELLO_TIMEOUT when
 * seconds is not above 0).  It is checked each time control_process()
 * runs, so the caller's loop must call that at least every few hundred
 * milliseconds.
 */
void		 control_set_hello_timeout(struct control *, double seconds);
/* Closes every client (calling the close function) and removes the
 * socket file. */
void		 control_free(struct control *);
const char	*control_path(const struct control *);
/* The descriptors to poll and their events; returns how many (at most
 * max). */
int		 control_pollfds(struct control *, int *fds, short *events,
		    int max);
/* Accepts, reads, dispatches and writes whatever is ready, without
 * blocking. */
void		 control_process(struct control *);

/* Replies to a request.  result (taken over) may be NULL for {}. */
void		 control_reply(struct control_client *, long long id,
		    cJSON *result);
void		 control_error(struct control_client *, long long id,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* A stream's event line and its end line (event and result taken over). */
void		 control_event(struct control_client *, long long id,
		    cJSON *event);
void		 control_end(struct control_client *, long long id,
		    cJSON *result);
/* Bytes queued for the client and not yet written. */
size_t		 control_pending(const struct control_client *);
/* The client's uid, from SO_PEERCRED. */
uid_t		 control_uid(const struct control_client *);

#endif
