/* The unit tests' shared helpers (check_common.h). */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "check_common.h"
#include "dataset.h"
#include "hash.h"
#include "job.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

char *
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

struct store *
check_store_new(const char *name, char **tmp, char **path)
{
	struct store	*s;
	char		*cause = NULL;

	*tmp = check_tmpdir();
	*path = xasprintf("%s/%s", *tmp, name);
	s = store_open(*path, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	return s;
}

void
check_store_free(struct store *s, char *tmp, char *path)
{
	store_close(s);
	check_rmtree(tmp);
	free(path);
	free(tmp);
}

int64_t
check_call_add(struct store *s, int64_t run, const char *status,
    int http_status, double cost, double latency, const char *error,
    int attempt)
{
	struct call_record	rec;
	char			*cause = NULL;
	int64_t			id;

	memset(&rec, 0, sizeof rec);
	rec.run = run;
	rec.backend = "sim";
	rec.model = "m";
	rec.role = "target";
	rec.key = "k";
	rec.attempt = attempt;
	rec.cached = strcmp(status, "hit") == 0;
	rec.prompt_tokens = 10;
	rec.completion_tokens = 2;
	rec.cost = cost;
	rec.latency = latency;
	rec.status = status;
	rec.http_status = http_status;
	rec.error = error;
	id = store_call_add(s, &rec, &cause);
	ck_assert_msg(id > 0, "%s", cause);
	return id;
}

size_t
check_occurrences(const char *hay, const char *needle)
{
	size_t	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

void
check_rmtree(const char *dir)
{
	char	*cmd;

	if (asprintf(&cmd, "rm -rf '%s'", dir) == -1)
		abort();
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
}

long long
check_count(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 n = -1;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

void
check_exec_sql(const char *path, const char *sql)
{
	sqlite3	*db;
	char	*err = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		ck_abort_msg("raw '%s': %s", sql, err);
	sqlite3_close(db);
}

struct dataset *
check_dataset(size_t n, const char *tag)
{
	struct dataset	*ds = xcalloc(1, sizeof *ds);
	struct example	*ex;
	char		*q, *json;
	size_t		 i;

	ds->path = xasprintf("%s.jsonl", tag);
	sha256_hex(tag, strlen(tag), ds->file_hash);
	memcpy(ds->hash, ds->file_hash, sizeof ds->hash);
	ds->n = ds->nfile = ds->cap = n;
	ds->ex = xcalloc(n, sizeof *ds->ex);
	for (i = 0; i < n; i++) {
		ex = &ds->ex[i];
		ex->idx = i;
		ex->line = i + 1;
		ex->split = (enum split)(i % SPLIT_COUNT);
		ex->fields = cJSON_CreateObject();
		q = xasprintf("%s-%zu", tag, i);
		cJSON_AddStringToObject(ex->fields, "q", q);
		cJSON_AddNumberToObject(ex->fields, "a", (double)i);
		free(q);
		json = cJSON_PrintUnformatted(ex->fields);
		sha256_hex(json, strlen(json), ex->hash);
		cJSON_free(json);
	}
	return ds;
}

void
check_dataset_free(struct dataset *ds)
{
	size_t	i;

	for (i = 0; i < ds->n; i++)
		cJSON_Delete(ds->ex[i].fields);
	free(ds->ex);
	free(ds->path);
	free(ds);
}

struct job *
check_job(const char *dir, const char *text)
{
	struct job	*job;
	char		*p, *cause = NULL;
	FILE		*f;

	p = xasprintf("%s/job.json", dir);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	job = job_load(p, NULL, &cause);
	ck_assert_msg(job != NULL, "%s", cause);
	free(p);
	return job;
}

char *
check_sentiment_dir(void)
{
	char	*dir, *cmd;

	dir = check_tmpdir();
	cmd = xasprintf("cp '%s/examples/sentiment/reviews.jsonl' '%s/'",
	    TEST_SRCDIR, dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	return dir;
}

void
check_execv(const char *path, const char *const *argv)
{
	char	*v[32];
	size_t	 i;

	for (i = 0; argv[i] != NULL && i < 31; i++)
		v[i] = xstrdup(argv[i]);
	v[i] = NULL;
	execv(path, v);
}

char *
check_mock_start(const char *dir, const char *name, const char *const *args,
    pid_t *pid)
{
	const char	*top = getenv("top_builddir");
	const char	*argv[16];
	char		*prog, *portfile, *port = NULL, *url;
	size_t		 n = 0;
	int		 i;

	prog = xasprintf("%s/tests/mock/mockllm", top != NULL ? top : ".");
	portfile = xasprintf("%s/%s", dir, name);
	argv[n++] = prog;
	argv[n++] = "-P";
	argv[n++] = portfile;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	if ((*pid = fork()) == 0) {
		check_execv(prog, argv);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if (file_read(portfile, 64, &port, NULL, NULL) == 0 &&
		    *port != '\0')
			break;
		free(port);
		port = NULL;
		usleep(50000);
	}
	ck_assert_msg(port != NULL, "%s did not start", prog);
	port[strcspn(port, "\n")] = '\0';
	url = xasprintf("http://127.0.0.1:%s", port);
	free(port);
	free(portfile);
	free(prog);
	return url;
}

double
check_mock_stat(const char *url, const char *key)
{
	struct sockaddr_in	 sin;
	char			 buf[65536], *body, *req;
	cJSON			*o;
	double			 v = -1;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(strrchr(url, ':') + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	req = xasprintf("GET /mock/stats HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n");
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	free(req);
	while (len + 1 < sizeof buf &&
	    (n = read(fd, buf + len, sizeof buf - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if ((body = strstr(buf, "\r\n\r\n")) != NULL &&
	    (o = cJSON_Parse(body + 4)) != NULL) {
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, key)))
			v = cJSON_GetObjectItemCaseSensitive(o, key)->valuedouble;
		cJSON_Delete(o);
	}
	return v;
}

char	*check_dir;
char	*check_db;

void
check_sentiment_setup(void)
{
	check_dir = check_sentiment_dir();
	check_db = xasprintf("%s/t.db", check_dir);
}

void
check_sentiment_teardown(void)
{
	check_rmtree(check_dir);
	free(check_db);
	free(check_dir);
	check_dir = check_db = NULL;
}
