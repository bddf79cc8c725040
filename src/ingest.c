/*
 * Ingesting feedback logs: the line loop that promptctl ingest and the
 * runs of a job share.  Lines are read in chunks, never more than
 * FEEDBACK_MAX_LINE bytes of one kept (a longer one is a bad line and
 * the reading goes on after it), parsed by feedback_parse_line(),
 * checked against the job and stored by their key; a following read
 * starts where the last one stopped, unless the file is another one now.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feedback.h"
#include "hash.h"
#include "ingest.h"
#include "store.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Bytes read from the file at a time. */
#define INGEST_CHUNK	65536

struct reader {
	int		 fd;
	const char	*path;
	char		*buf;
	size_t		 off;		/* the next byte of buf */
	size_t		 len;		/* bytes in buf */
	int		 eof;
	int64_t		 pos;		/* the file offset of buf[off] */
};

/*
 * The next line into line, without its newline, keeping at most
 * FEEDBACK_MAX_LINE bytes of it (*too_long when more were dropped);
 * *complete when it ended with a newline, not with the file.  Returns 1
 * with a line, 0 at the end of the file, -1 with *cause.
 */
static int
reader_line(struct reader *rd, struct strbuf *line, int *too_long,
    int *complete, char **cause)
{
	const char	*start, *nl;
	size_t		 n, keep;
	ssize_t		 got;
	int		 any = 0;

	strbuf_reset(line);
	*too_long = 0;
	*complete = 0;
	for (;;) {
		if (rd->off == rd->len) {
			if (rd->eof)
				return any;
			do
				got = read(rd->fd, rd->buf, INGEST_CHUNK);
			while (got == -1 && errno == EINTR);
			if (got == -1)
				return cause_set(cause, "cannot read '%s': %s",
				    rd->path, strerror(errno));
			rd->off = 0;
			rd->len = (size_t)got;
			if (got == 0) {
				rd->eof = 1;
				return any;
			}
		}
		any = 1;
		start = rd->buf + rd->off;
		nl = memchr(start, '\n', rd->len - rd->off);
		n = nl != NULL ? (size_t)(nl - start) : rd->len - rd->off;
		keep = n;
		if (line->len + n > FEEDBACK_MAX_LINE) {
			keep = FEEDBACK_MAX_LINE - line->len;
			*too_long = 1;
		}
		strbuf_add(line, start, keep);
		rd->off += n;
		rd->pos += (int64_t)n;
		if (nl != NULL) {
			rd->off++;
			rd->pos++;
			*complete = 1;
			return 1;
		}
	}
}

/* The hex SHA-256 of the first n bytes of fd (fewer if it is shorter). */
static int
head_hash(int fd, const char *path, int64_t n, char out[65], char **cause)
{
	struct sha256	h;
	char		buf[INGEST_HEAD];
	size_t		want = n < INGEST_HEAD ? (size_t)n : INGEST_HEAD;
	size_t		have = 0;
	ssize_t		got;

	while (have < want) {
		got = pread(fd, buf + have, want - have, (off_t)have);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return cause_set(cause, "cannot read '%s': %s", path,
			    strerror(errno));
		if (got == 0)
			break;
		have += (size_t)got;
	}
	sha256_init(&h);
	sha256_update(&h, buf, have);
	sha256_final_hex(&h, out);
	return 0;
}

/*
 * Where a following read of path starts: where the last one stopped if
 * the file is the same one grown (its device and inode, its size at
 * least that far, its first bytes unchanged), else at the start.
 * Fills src with the file's identity and the start.
 */
static int
ingest_resume(struct ingest *ing, int fd, const char *path,
    struct feedback_source *src, struct ingest_result *r, char **cause)
{
	struct stat	st;
	char		head[65];
	int		found;

	if (fstat(fd, &st) == -1)
		return cause_set(cause, "cannot read '%s': %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cause_set(cause, "'%s' is not a regular file", path);
	if ((found = store_feedback_source_get(ing->store, ing->job_id, path,
	    src, cause)) < 0)
		return -1;
	if (found && src->device == (int64_t)st.st_dev &&
	    src->inode == (int64_t)st.st_ino && src->offset >= 0 &&
	    (int64_t)st.st_size >= src->offset) {
		if (head_hash(fd, path, src->offset, head, cause) != 0)
			return -1;
		if (strcmp(head, src->head) == 0)
			goto same;
	}
	r->restarted = found;
	src->offset = 0;
	src->line = 0;
same:
	src->device = (int64_t)st.st_dev;
	src->inode = (int64_t)st.st_ino;
	return 0;
}

/* Counts a bad line and tells it; takes message. */
static void
ingest_bad(struct ingest *ing, struct ingest_result *r, long long line,
    char *message)
{
	r->bad++;
	if (r->first_error == NULL) {
		r->first_line = line;
		r->first_error = xstrdup(message);
	}
	if (ing->bad != NULL)
		ing->bad(ing->arg, line, message);
	free(message);
}

/* A champion version the job must have: 1, 0 with *err, -1. */
static int
ingest_version(struct ingest *ing, const char *field, int version,
    int64_t *candidate, char **err, char **cause)
{
	int	rc;

	if ((rc = store_champion_candidate(ing->store, ing->job_id, version,
	    candidate, cause)) == 0)
		*err = xasprintf("%s: job '%s' has no champion version %d",
		    field, ing->job, version);
	return rc;
}

/*
 * Checks a parsed line against the job and makes it what is stored: the
 * candidate that answered (cands[0]) and the one that answered the other
 * side of its preference (cands[1]), each by its version, else its
 * prompt; the user as the job keeps it.  Returns 1, 0 for a bad line
 * with *err, -1 with *cause.
 */
static int
ingest_check(struct ingest *ing, struct interaction *it, int64_t cands[2],
    char **err, char **cause)
{
	const char	*prompts[2] = { it->prompt, it->other_prompt };
	char		*user;
	int		 rc, i;

	cands[0] = cands[1] = 0;
	if (it->job != NULL && strcmp(it->job, ing->job) != 0) {
		*err = xasprintf("job: the line is for job '%s', not '%s'",
		    it->job, ing->job);
		return 0;
	}
	if (it->version != 0 && (rc = ingest_version(ing, "version",
	    it->version, &cands[0], err, cause)) <= 0)
		return rc;
	if (it->other_version != 0 && (rc = ingest_version(ing,
	    "preference.other_version", it->other_version, &cands[1], err,
	    cause)) <= 0)
		return rc;
	for (i = 0; i < 2; i++)
		if (cands[i] == 0 && prompts[i] != NULL &&
		    store_candidate_find(ing->store, ing->job_id, prompts[i],
		    &cands[i], cause) < 0)
			return -1;
	if (it->user == NULL)
		return 1;
	if (ing->users == USERS_HASH && ing->salt == NULL &&
	    (ing->salt = store_job_salt(ing->store, ing->job_id,
	    cause)) == NULL)
		return -1;
	user = feedback_user(ing->users, ing->salt, it->user);
	free(it->user);
	it->user = user;
	return 1;
}

/*
 * A person's preference between two candidates of the job becomes one
 * comparison, once (the store keeps one per interaction): this side is
 * a, shown first; on the feedback example of its inputs when there is
 * one.  A preference between answers of one candidate, or with a side
 * the job does not know, compares no candidates and stays an interaction.
 */
static int
ingest_duel(struct ingest *ing, const struct interaction *it, int64_t id,
    const int64_t cands[2], struct ingest_result *r, char **cause)
{
	static const char *const	 winners[] = {
		[PREFERRED_THIS] = "a",
		[PREFERRED_OTHER] = "b",
		[PREFERRED_TIE] = "tie",
	};
	struct comparison_record	 c;
	int64_t				 added;

	if (it->preferred == PREFERRED_NONE || cands[0] == 0 ||
	    cands[1] == 0 || cands[0] == cands[1])
		return 0;
	memset(&c, 0, sizeof c);
	if (store_interaction_example(ing->store, id, &c.example, cause) < 0)
		return -1;
	c.job = ing->job_id;
	c.a = cands[0];
	c.b = cands[1];
	c.output_a = it->response;
	c.output_b = it->other;
	c.winner = winners[it->preferred];
	c.source = "human";
	c.who = it->user;
	c.order_shown = "ab";
	c.rationale = it->critique;
	c.interaction = id;
	if ((added = store_comparison_add(ing->store, &c, cause)) < 0)
		return -1;
	if (added > 0)
		r->duels++;
	return 0;
}

/* One line of the file: stored, already there, bad or blank.  0 or -1. */
static int
ingest_line(struct ingest *ing, const char *file, long long lineno,
    const struct strbuf *line, int too_long, double now,
    struct ingest_result *r, char **cause)
{
	struct interaction	 it;
	int64_t			 cands[2], id = 0;
	char			*err = NULL;
	int			 rc;

	if (too_long) {
		ingest_bad(ing, r, lineno, xasprintf("the line is longer than "
		    "%zu bytes", FEEDBACK_MAX_LINE));
		return 0;
	}
	memset(&it, 0, sizeof it);
	switch (feedback_parse_line(line->buf, line->len, now, &it, &err)) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		ingest_bad(ing, r, lineno, err != NULL ? err :
		    xstrdup("the line could not be read"));
		return 0;
	}
	if ((rc = ingest_check(ing, &it, cands, &err, cause)) == 1) {
		rc = store_interaction_put(ing->store, ing->job_id, &it,
		    cands[0], cands[1], file, lineno, &id, cause);
		if (rc == 1) {
			r->ingested++;
			if (ingest_duel(ing, &it, id, cands, r, cause) != 0)
				rc = -1;
		} else if (rc == 0)
			r->duplicate++;
	} else if (rc == 0)
		ingest_bad(ing, r, lineno, err);
	feedback_release(&it);
	return rc < 0 ? -1 : 0;
}

/*
 * The line loop: from rd's position to the end of the file, or, when
 * following, to the end of its last complete line (*done and *lines: how
 * far that is).
 */
static int
ingest_lines(struct ingest *ing, struct reader *rd, const char *file,
    int64_t *done, long long *lines, struct ingest_result *r, char **cause)
{
	struct strbuf	line;
	double		now = time_now();
	long long	lineno = *lines;
	int		too_long, complete, rc;

	strbuf_init(&line);
	while ((rc = reader_line(rd, &line, &too_long, &complete,
	    cause)) == 1) {
		if (!complete && ing->follow)
			break;
		lineno++;
		if (ingest_line(ing, file, lineno, &line, too_long, now, r,
		    cause) != 0) {
			rc = -1;
			break;
		}
		*done = rd->pos;
		*lines = lineno;
	}
	strbuf_release(&line);
	return rc < 0 ? -1 : 0;
}

/* Reads the open file into the job's interactions (ingest_source()). */
static int
ingest_fd(struct ingest *ing, int fd, const char *path, const char *file,
    struct ingest_result *r, char **cause)
{
	struct feedback_source	src;
	struct reader		rd;
	int			rc = -1;

	memset(&src, 0, sizeof src);
	if (ing->follow && ingest_resume(ing, fd, path, &src, r, cause) != 0)
		return -1;
	if (src.offset > 0 && lseek(fd, (off_t)src.offset, SEEK_SET) == -1)
		return cause_set(cause, "cannot read '%s': %s", path,
		    strerror(errno));
	memset(&rd, 0, sizeof rd);
	rd.fd = fd;
	rd.path = path;
	rd.buf = xmalloc(INGEST_CHUNK);
	rd.pos = src.offset;
	if (ingest_lines(ing, &rd, file, &src.offset, &src.line, r,
	    cause) != 0)
		goto out;
	if (ing->follow && (head_hash(fd, path, src.offset, src.head,
	    cause) != 0 || store_feedback_source_put(ing->store, ing->job_id,
	    path, &src, cause) != 0))
		goto out;
	rc = 0;
out:
	free(rd.buf);
	return rc;
}

int
ingest_source(struct ingest *ing, const char *path, struct ingest_result *r,
    char **cause)
{
	char	*file;
	int	 fd, rc;

	memset(r, 0, sizeof *r);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && ing->follow) {
			r->missing = 1;
			return 0;
		}
		return cause_set(cause, "cannot open '%s': %s", path,
		    strerror(errno));
	}
	/* Where each interaction came from, whatever the directory. */
	if ((file = realpath(path, NULL)) == NULL)
		file = xstrdup(path);
	if ((rc = store_begin(ing->store, cause)) == 0) {
		if ((rc = ingest_fd(ing, fd, path, file, r, cause)) == 0)
			rc = store_commit(ing->store, cause);
		else
			store_rollback(ing->store);
	}
	if (rc != 0) {
		/* Nothing of the file was stored. */
		ingest_result_release(r);
		memset(r, 0, sizeof *r);
	}
	free(file);
	close(fd);
	return rc;
}

void
ingest_result_release(struct ingest_result *r)
{
	free(r->first_error);
	r->first_error = NULL;
}

void
ingest_release(struct ingest *ing)
{
	free(ing->salt);
	ing->salt = NULL;
}
