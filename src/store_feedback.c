/*
 * The store's production feedback (feedback.h): interactions put once by
 * their key, counted, read back (and people's critiques of a candidate,
 * for the optimizer) and forgotten by user; how far a job's
 * feedback file was read; and the salt a job hashes user ids with.
 * Their statements are in store_stmt.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "feedback.h"
#include "hash.h"
#include "store_int.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* Bytes of /dev/urandom in a job's salt. */
#define SALT_BYTES	32

static const char *const scale_names[] = {
	[RATING_NONE] = NULL,
	[RATING_THUMBS] = "thumbs",
	[RATING_STARS] = "stars",
};
static const char *const preferred_names[] = {
	[PREFERRED_NONE] = NULL,
	[PREFERRED_THIS] = "this",
	[PREFERRED_OTHER] = "other",
	[PREFERRED_TIE] = "tie",
};

/* An implicit signal (-1, 0 or 1) as a value to bind: NAN binds NULL. */
static double
signal_value(int v)
{
	return v < 0 ? NAN : (double)v;
}

/* A column that holds a signal: NULL reads as -1. */
static int
signal_col(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return -1;
	return sqlite3_column_int(st, i) != 0;
}

int
store_interaction_put(struct store *s, int64_t job,
    const struct interaction *it, int64_t candidate, int64_t other,
    const char *file, long long line, int64_t *id, char **cause)
{
	char	*inputs;
	int	 rc;

	inputs = it->inputs != NULL ? cJSON_PrintUnformatted(it->inputs) :
	    NULL;
	if (it->inputs != NULL && inputs == NULL)
		return cause_set(cause, "store: add interaction: out of memory");
	rc = store_stmt_step(s, STMT_INTERACTION_PUT, cause,
	    "ittIddNIttttttfttNtttffftI", job, it->key, file, (int64_t)line,
	    it->time, time_now(), it->version, candidate, it->prompt,
	    inputs != NULL ? inputs : "{}", it->response, it->user,
	    it->session, scale_names[it->scale],
	    it->scale == RATING_NONE ? NAN : (double)it->rating,
	    preferred_names[it->preferred], it->other, it->other_version,
	    it->other_prompt, it->critique, it->edit,
	    signal_value(it->regenerated), signal_value(it->abandoned),
	    signal_value(it->copied), it->follow_up, other);
	cJSON_free(inputs);
	if (rc != 0)
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return 0;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 1;
}

int
store_interaction_example(struct store *s, int64_t interaction,
    int64_t *example, char **cause)
{
	int	rc;

	*example = 0;
	if ((rc = store_stmt_int64(s, STMT_INTERACTION_EXAMPLE, example,
	    cause, "i", interaction)) < 0)
		return -1;
	return *example > 0;
}

int
store_champion_candidate(struct store *s, int64_t job, int version,
    int64_t *candidate, char **cause)
{
	*candidate = 0;
	return store_stmt_int64(s, STMT_CHAMPION_CANDIDATE, candidate, cause,
	    "in", job, version);
}

int
store_candidate_find(struct store *s, int64_t job, const char *text,
    int64_t *candidate, char **cause)
{
	char	hash[65];

	*candidate = 0;
	sha256_hex(text, strlen(text), hash);
	return store_stmt_int64(s, STMT_CANDIDATE_FIND, candidate, cause, "it",
	    job, hash);
}

int
store_interaction_count(struct store *s, int64_t job, const char *user,
    long long *n, char **cause)
{
	int64_t	v = 0;
	int	rc;

	*n = 0;
	if ((rc = store_stmt_int64(s, STMT_INTERACTION_COUNT, &v, cause, "it",
	    job, user)) < 0)
		return -1;
	*n = (long long)v;
	return 0;
}

int
store_interaction_tally(struct store *s, int64_t job, int64_t dataset,
    struct interaction_tally *t, char **cause)
{
	sqlite3_stmt	*st;

	memset(t, 0, sizeof *t);
	if ((st = store_stmt_row(s, STMT_INTERACTION_TALLY, cause, "ii", job,
	    dataset)) == NULL)
		return -1;
	t->n = sqlite3_column_int64(st, 0);
	t->rated = sqlite3_column_int64(st, 1);
	t->rated_best = sqlite3_column_int64(st, 2);
	t->edited = sqlite3_column_int64(st, 3);
	t->critiqued = sqlite3_column_int64(st, 4);
	t->preferences = sqlite3_column_int64(st, 5);
	t->examples = sqlite3_column_int64(st, 6);
	store_stmt_reset(st);
	return 0;
}

/* Which of names (indexed by an enum) a column holds; 0 for NULL. */
static int
enum_col(sqlite3_stmt *st, int i, const char *const *names, int n)
{
	const char	*t = (const char *)sqlite3_column_text(st, i);
	int		 e;

	for (e = 0; t != NULL && e < n; e++)
		if (names[e] != NULL && strcmp(names[e], t) == 0)
			return e;
	return 0;
}

/* The columns of STMT_INTERACTION_LIST, in order. */
static void
fill_interaction(sqlite3_stmt *st, void *p)
{
	struct interaction_row	*r = p;
	struct interaction	*it;
	char			*key;

	r->id = sqlite3_column_int64(st, 0);
	r->candidate = sqlite3_column_int64(st, 1);	/* 0 for NULL */
	r->file = store_col_text(st, 2);
	r->line = sqlite3_column_int64(st, 3);
	r->ingested = sqlite3_column_double(st, 4);
	r->it = it = xcalloc(1, sizeof *it);
	key = store_col_text(st, 5);
	snprintf(it->key, sizeof it->key, "%s", key != NULL ? key : "");
	free(key);
	it->time = sqlite3_column_double(st, 6);
	it->version = sqlite3_column_int(st, 7);
	it->prompt = store_col_text(st, 8);
	it->inputs = cJSON_ParseWithLength(
	    (const char *)sqlite3_column_text(st, 9),
	    (size_t)sqlite3_column_bytes(st, 9));
	if (it->inputs == NULL)
		it->inputs = cJSON_CreateObject();
	it->response = store_col_text(st, 10);
	it->user = store_col_text(st, 11);
	it->session = store_col_text(st, 12);
	it->scale = (enum rating_scale)enum_col(st, 13, scale_names,
	    (int)nitems(scale_names));
	it->rating = sqlite3_column_int(st, 14);
	it->preferred = (enum preferred)enum_col(st, 15, preferred_names,
	    (int)nitems(preferred_names));
	it->other = store_col_text(st, 16);
	it->other_version = sqlite3_column_int(st, 17);
	it->other_prompt = store_col_text(st, 18);
	it->critique = store_col_text(st, 19);
	it->edit = store_col_text(st, 20);
	it->regenerated = signal_col(st, 21);
	it->abandoned = signal_col(st, 22);
	it->copied = signal_col(st, 23);
	it->follow_up = store_col_text(st, 24);
	r->other = sqlite3_column_int64(st, 25);	/* 0 for NULL */
}

static void
release_interaction(void *p)
{
	struct interaction_row	*r = p;

	free(r->file);
	if (r->it != NULL) {
		feedback_release(r->it);
		free(r->it);
	}
}

static const struct store_list list_interactions = { STMT_INTERACTION_LIST,
	sizeof (struct interaction_row), fill_interaction,
	release_interaction };

int
store_interactions(struct store *s, int64_t job, struct interaction_row **rows,
    size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_interactions, &p, n, cause, "i", job);
	*rows = p;
	return rc;
}

void
store_interaction_rows_free(struct interaction_row *rows, size_t n)
{
	store_list_free(&list_interactions, rows, n);
}

long long
store_interactions_forget(struct store *s, int64_t job, const char *user,
    long long *examples, char **cause)
{
	static const enum stmt	 steps[] = {
		STMT_FORGET_CACHE, STMT_FORGET_EVALUATIONS,
		STMT_FORGET_COMPARISONS, STMT_FORGET_EXAMPLES,
		STMT_FORGET_DUELS, STMT_FORGET_LINKS, STMT_INTERACTION_FORGET
	};
	int64_t			 on;
	long long		 n = 0, blanked = 0;
	size_t			 i;

	if (examples != NULL)
		*examples = 0;
	if (store_stmt_int64(s, STMT_SECURE_DELETE_ON, &on, cause, "") < 0)
		return -1;
	if (store_begin(s, cause) != 0)
		goto fail;
	/*
	 * What was derived from the user's interactions alone goes first,
	 * while their links still say what that is; then the links and
	 * the interactions.
	 */
	for (i = 0; i < nitems(steps); i++) {
		if (store_stmt_step(s, steps[i], cause, "it", job, user) != 0) {
			store_rollback(s);
			goto fail;
		}
		if (steps[i] == STMT_FORGET_EXAMPLES)
			blanked = sqlite3_changes(s->db);
		else if (steps[i] == STMT_INTERACTION_FORGET)
			n = sqlite3_changes(s->db);
	}
	if (store_commit(s, cause) != 0)
		goto fail;
	store_stmt_int64(s, STMT_SECURE_DELETE_OFF, &on, NULL, "");
	if (examples != NULL)
		*examples = blanked;
	return n;

fail:
	store_stmt_int64(s, STMT_SECURE_DELETE_OFF, &on, NULL, "");
	return -1;
}

/* The columns of STMT_HUMAN_CRITIQUES, in order. */
static void
fill_human_critique(sqlite3_stmt *st, void *p)
{
	struct human_critique	*h = p;
	struct strbuf		 sb;
	const char		*critique, *edit;

	h->id = sqlite3_column_int64(st, 0);
	h->time = sqlite3_column_double(st, 1);
	h->inputs = cJSON_ParseWithLength(
	    (const char *)sqlite3_column_text(st, 2),
	    (size_t)sqlite3_column_bytes(st, 2));
	if (!cJSON_IsObject(h->inputs)) {
		cJSON_Delete(h->inputs);
		h->inputs = cJSON_CreateObject();
	}
	h->response = store_col_text(st, 3);
	critique = (const char *)sqlite3_column_text(st, 4);
	edit = (const char *)sqlite3_column_text(st, 5);
	strbuf_init(&sb);
	if (critique != NULL && *critique != '\0')
		strbuf_adds(&sb, critique);
	/* An edit says what the answer should have been: a critique too. */
	if (edit != NULL && *edit != '\0')
		strbuf_addf(&sb, "%sA person corrected the answer to: %s",
		    sb.len > 0 ? "\n" : "", edit);
	h->text = strbuf_detach(&sb);
}

static void
release_human_critique(void *p)
{
	struct human_critique	*h = p;

	cJSON_Delete(h->inputs);
	free(h->response);
	free(h->text);
}

static const struct store_list list_human_critiques = {
	STMT_HUMAN_CRITIQUES, sizeof (struct human_critique),
	fill_human_critique, release_human_critique };

int
store_human_critiques(struct store *s, int64_t job, int64_t candidate,
    double before, size_t limit, struct human_critique **rows, size_t *n,
    char **cause)
{
	void	*p = NULL;
	int	 rc;

	*rows = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	rc = store_list_read(s, &list_human_critiques, &p, n, cause, "iidi",
	    job, candidate, before, (int64_t)limit);
	*rows = p;
	return rc;
}

void
store_human_critiques_free(struct human_critique *rows, size_t n)
{
	store_list_free(&list_human_critiques, rows, n);
}

int
store_run_started(struct store *s, int64_t run, double *started,
    char **cause)
{
	int	rc;

	*started = NAN;
	if ((rc = store_stmt_step(s, STMT_RUN_STARTED, cause, "i", run)) <= 0)
		return rc;
	*started = sqlite3_column_double(s->stmt[STMT_RUN_STARTED], 0);
	store_stmt_reset(s->stmt[STMT_RUN_STARTED]);
	return 1;
}

int
store_comparison_human(struct store *s, int64_t job, int64_t run,
    struct comparison_row **rows, size_t *n, char **cause)
{
	static const struct store_list	 l = { STMT_COMPARISON_HUMAN,
		sizeof (struct comparison_row), store_fill_comparison,
		store_release_comparison };
	void				*p;
	int				 rc;

	rc = store_list_read(s, &l, &p, n, cause, "ii", job, run);
	*rows = p;
	return rc;
}

/* The columns of STMT_HUMAN_PREFS, in order. */
static void
fill_human_pref(sqlite3_stmt *st, void *p)
{
	struct human_pref	*h = p;

	h->id = sqlite3_column_int64(st, 0);
	h->a = sqlite3_column_int64(st, 1);
	h->b = sqlite3_column_int64(st, 2);
	h->input = store_col_text(st, 3);
	if (h->input == NULL) {
		h->inputs = cJSON_ParseWithLength(
		    (const char *)sqlite3_column_text(st, 4),
		    (size_t)sqlite3_column_bytes(st, 4));
		if (!cJSON_IsObject(h->inputs)) {
			cJSON_Delete(h->inputs);
			h->inputs = cJSON_CreateObject();
		}
	}
	h->output_a = store_col_text(st, 5);
	h->output_b = store_col_text(st, 6);
	h->winner = store_col_text(st, 7);
	h->why = store_col_text(st, 8);
}

static void
release_human_pref(void *p)
{
	struct human_pref	*h = p;

	free(h->input);
	cJSON_Delete(h->inputs);
	free(h->output_a);
	free(h->output_b);
	free(h->winner);
	free(h->why);
}

static const struct store_list list_human_prefs = { STMT_HUMAN_PREFS,
	sizeof (struct human_pref), fill_human_pref, release_human_pref };

int
store_human_prefs(struct store *s, int64_t job, int64_t run, size_t limit,
    struct human_pref **rows, size_t *n, char **cause)
{
	void	*p = NULL;
	int	 rc;

	*rows = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	rc = store_list_read(s, &list_human_prefs, &p, n, cause, "iii", job,
	    run, (int64_t)limit);
	*rows = p;
	return rc;
}

void
store_human_prefs_free(struct human_pref *rows, size_t n)
{
	store_list_free(&list_human_prefs, rows, n);
}

int
store_judge_agreement(struct store *s, int64_t job, int64_t run,
    long long *n, long long *agreed, char **cause)
{
	sqlite3_stmt	*st;

	*n = *agreed = 0;
	if ((st = store_stmt_row(s, STMT_JUDGE_AGREEMENT, cause, "ii", job,
	    run)) == NULL)
		return -1;
	*n = sqlite3_column_int64(st, 0);
	*agreed = sqlite3_column_int64(st, 1);
	store_stmt_reset(st);
	return 0;
}

int
store_run_dataset(struct store *s, int64_t run, int64_t *dataset,
    char **cause)
{
	int	rc;

	*dataset = 0;
	if ((rc = store_stmt_int64(s, STMT_RUN_DATASET, dataset, cause, "i",
	    run)) < 0)
		return -1;
	return rc == 1 && *dataset > 0;
}

static const struct store_list list_examples = { STMT_DATASET_EXAMPLES,
	sizeof (struct example_row), store_fill_example,
	store_release_example };

int
store_dataset_examples(struct store *s, int64_t dataset,
    struct example_row **rows, size_t *n, char **cause)
{
	void	*p;
	int	 rc;

	rc = store_list_read(s, &list_examples, &p, n, cause, "i", dataset);
	*rows = p;
	return rc;
}

void
store_example_rows_free(struct example_row *rows, size_t n)
{
	store_list_free(&list_examples, rows, n);
}

static void
fill_link(sqlite3_stmt *st, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(st, 0);
}

int
store_example_links(struct store *s, int64_t example, int64_t **ids,
    size_t *n, char **cause)
{
	static const struct store_list	 l = { STMT_EXAMPLE_LINKS,
		sizeof (int64_t), fill_link, NULL };
	void				*p;
	int				 rc;

	rc = store_list_read(s, &l, &p, n, cause, "i", example);
	*ids = p;
	return rc;
}

int
store_feedback_source_get(struct store *s, int64_t job, const char *path,
    struct feedback_source *src, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(src, 0, sizeof *src);
	if ((rc = store_stmt_step(s, STMT_FEEDBACK_SOURCE_GET, cause, "it",
	    job, path)) <= 0)
		return rc;
	st = s->stmt[STMT_FEEDBACK_SOURCE_GET];
	src->device = sqlite3_column_int64(st, 0);
	src->inode = sqlite3_column_int64(st, 1);
	src->offset = sqlite3_column_int64(st, 2);
	src->line = sqlite3_column_int64(st, 3);
	store_col_copy(st, 4, src->head, sizeof src->head);
	src->updated = sqlite3_column_double(st, 5);
	store_stmt_reset(st);
	return 1;
}

int
store_feedback_source_put(struct store *s, int64_t job, const char *path,
    const struct feedback_source *src, char **cause)
{
	return store_stmt_step(s, STMT_FEEDBACK_SOURCE_PUT, cause, "itiiiitd",
	    job, path, src->device, src->inode, src->offset,
	    (int64_t)src->line, src->head, time_now()) == 0 ? 0 : -1;
}

/* SALT_BYTES from /dev/urandom, in hex. */
static int
salt_make(char out[2 * SALT_BYTES + 1], char **cause)
{
	unsigned char	 buf[SALT_BYTES];
	size_t		 got = 0, i;
	ssize_t		 r;
	int		 fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "/dev/urandom: %s", strerror(errno));
	while (got < sizeof buf) {
		r = read(fd, buf + got, sizeof buf - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cause_set(cause, "/dev/urandom: %s", r == 0 ?
			    "end of file" : strerror(errno));
			close(fd);
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	for (i = 0; i < sizeof buf; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	return 0;
}

/* The job's salt as stored: 1 with *salt (NULL when it has none), 0
 * when there is no such job, -1. */
static int
salt_get(struct store *s, int64_t job, char **salt, char **cause)
{
	int	rc;

	*salt = NULL;
	if ((rc = store_stmt_step(s, STMT_JOB_SALT_GET, cause, "i", job)) <= 0)
		return rc;
	*salt = store_col_text(s->stmt[STMT_JOB_SALT_GET], 0);
	store_stmt_reset(s->stmt[STMT_JOB_SALT_GET]);
	return 1;
}

char *
store_job_salt(struct store *s, int64_t job, char **cause)
{
	char	 fresh[2 * SALT_BYTES + 1], *salt;
	int	 rc;

	if ((rc = salt_get(s, job, &salt, cause)) < 0)
		return NULL;
	if (rc == 0) {
		cause_set(cause, "store: read job salt: no job %lld",
		    (long long)job);
		return NULL;
	}
	if (salt != NULL)
		return salt;
	if (salt_make(fresh, cause) != 0)
		return NULL;
	/* Set only where none is: a salt another process set first stays. */
	if (store_stmt_step(s, STMT_JOB_SALT_SET, cause, "it", job, fresh) != 0)
		return NULL;
	if (salt_get(s, job, &salt, cause) < 0)
		return NULL;
	if (salt == NULL)
		cause_set(cause, "store: set job salt: job %lld has none",
		    (long long)job);
	return salt;
}
